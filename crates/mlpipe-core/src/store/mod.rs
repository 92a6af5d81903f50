//! Store contracts and their in-memory implementations.
//!
//! Each store is a trait (async, dyn-compatible) so an application can hold
//! `Arc<dyn RawStore>` chosen from configuration. The in-memory implementations in
//! [`memory`] are the reference; the embedded durable default lives in `mlpipe-parquet`
//! (data) and `mlpipe-sql` (metadata); every implementation passes the same conformance
//! suite in `mlpipe_core::testkit` (feature `testkit`).

pub mod features;
pub mod lineage;
pub mod memory;
pub mod raw;
pub mod registry;
pub mod scores;

pub use features::*;
pub use lineage::*;
pub use raw::*;
pub use registry::*;
pub use scores::*;

use std::sync::Arc;

/// Every store a pipeline uses, as trait objects.
#[derive(Clone)]
pub struct Stores {
    /// Raw data.
    pub raw: Arc<dyn RawStore>,
    /// Offline features.
    pub features: Arc<dyn FeatureStore>,
    /// Online features.
    pub online: Arc<dyn OnlineFeatureStore>,
    /// Model registry.
    pub registry: Arc<dyn ModelRegistry>,
    /// Scores and outcomes.
    pub scores: Arc<dyn ScoreStore>,
    /// Lineage, audit and splits.
    pub lineage: Arc<dyn LineageStore>,
}

impl Stores {
    /// All stores in memory (tests, experiments).
    pub fn in_memory() -> Self {
        Self {
            raw: Arc::new(memory::MemoryRawStore::default()),
            features: Arc::new(memory::MemoryFeatureStore::default()),
            online: Arc::new(memory::MemoryOnlineStore::default()),
            registry: Arc::new(memory::MemoryRegistry::default()),
            scores: Arc::new(memory::MemoryScoreStore::default()),
            lineage: Arc::new(memory::MemoryLineageStore::default()),
        }
    }
}
