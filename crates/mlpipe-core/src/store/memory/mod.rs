//! In-memory implementations of every store: the reference behaviour, and the backend for
//! tests and experiments. Nothing survives the process.

mod features;
mod lineage;
mod raw;
mod registry;
mod scores;

pub use features::{MemoryFeatureStore, MemoryOnlineStore};
pub use lineage::MemoryLineageStore;
pub use raw::MemoryRawStore;
pub use registry::MemoryRegistry;
pub use scores::MemoryScoreStore;
