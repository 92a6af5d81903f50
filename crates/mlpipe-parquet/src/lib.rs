//! # mlpipe-parquet
//!
//! Raw data and offline features as **Parquet files on any `object_store` location**: a
//! local directory for the embedded default, `memory://` for tests, and (through
//! `object_store`'s own features) S3, GCS or Azure for shared deployments. The files are
//! plain Parquet, so pandas, Polars, DuckDB and Spark read them too.
//!
//! Layout under the store's root:
//!
//! ```text
//! raw/<batch id>/<writer id>/part-00000.parquet     data, in parts of bounded size
//! raw/<batch id>/<writer id>/quarantine.json        refused records
//! raw/<batch id>/_manifest.json                      commit marker (created once)
//! features/<feature set id>/_featureset.json         fitted feature set (created once)
//! features/<feature set id>/batches/<batch id>/…    same part + manifest scheme
//! ```
//!
//! A batch becomes visible when its manifest is created with `PutMode::Create`, which
//! fails if it exists: that one atomic step makes batches immutable, makes concurrent
//! writers of one id safe (one wins, the other gets `AlreadyExists`), and leaves a crashed
//! writer's parts invisible.

#![forbid(unsafe_code)]

mod error;
mod features;
mod parts;
mod raw;

pub use parts::PartOptions;

use mlpipe_core::{Error, Result};
use object_store::path::Path;
use object_store::ObjectStore;
use std::sync::Arc;

/// Raw and feature data on an object store; implements `RawStore` and `FeatureStore`.
#[derive(Clone, Debug)]
pub struct ParquetStore {
    store: Arc<dyn ObjectStore>,
    root: Path,
    parts: PartOptions,
}

impl ParquetStore {
    /// Uses `store` with every file under `root`.
    pub fn new(store: Arc<dyn ObjectStore>, root: impl Into<Path>) -> Self {
        Self {
            store,
            root: root.into(),
            parts: PartOptions::default(),
        }
    }

    /// A store in a local directory (created if missing).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::backend("parquet", format!("cannot create {}: {e}", dir.display()))
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| error::map("open", e))?;
        Ok(Self::new(Arc::new(fs), Path::default()))
    }

    /// A store in memory (tests).
    pub fn in_memory() -> Self {
        Self::new(
            Arc::new(object_store::memory::InMemory::new()),
            Path::default(),
        )
    }

    /// Opens `file:///dir` or `memory://`.
    pub fn open_url(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("file://") {
            Self::local(path)
        } else if url.starts_with("memory://") {
            Ok(Self::in_memory())
        } else {
            Err(Error::Config(format!(
                "unsupported data URL `{url}`: use file:///path or memory:// (other object stores: build a ParquetStore from an object_store instance)"
            )))
        }
    }

    /// Changes how data is cut into parts and compressed.
    pub fn with_part_options(mut self, parts: PartOptions) -> Self {
        self.parts = parts;
        self
    }

    pub(crate) fn path(&self, rel: &str) -> Path {
        let mut p = self.root.clone();
        for seg in rel.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(seg);
        }
        p
    }
}
