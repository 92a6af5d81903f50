//! Opening stores and the broker from URLs in configuration (chosen by scheme).
//!
//! | setting | default (embedded) | other schemes |
//! |---|---|---|
//! | `backends.metadata_url` | `sqlite://<data_dir>/mlpipe.db` | `memory://` |
//! | `backends.data_url` | `file://<data_dir>/data` | `memory://` |
//! | `backends.online_url` | the metadata store | `memory://` |
//! | `backends.broker_url` | `memory://` (in-process) | |

use crate::error::Result;
use mlpipe_core::broker::{Broker, InProcessBroker};
use mlpipe_core::store::memory::*;
use mlpipe_core::store::*;
use mlpipe_core::{Config, Error as CoreError};
use mlpipe_parquet::ParquetStore;
use mlpipe_sql::SqlStore;
use std::sync::Arc;

/// Opens every store named by `config`.
pub async fn open_stores(config: &Config) -> Result<Stores> {
    let metadata_url = config.metadata_url();
    let data_url = config.data_url();
    let sql = if metadata_url.starts_with("memory://") {
        None
    } else {
        Some(SqlStore::open(&metadata_url).await?)
    };
    let (registry, scores, lineage) = metadata_stores(sql.as_ref());
    let (raw, features): (Arc<dyn RawStore>, Arc<dyn FeatureStore>) =
        if data_url.starts_with("memory://") {
            (
                Arc::new(MemoryRawStore::default()),
                Arc::new(MemoryFeatureStore::default()),
            )
        } else {
            let p = ParquetStore::open_url(&data_url)?;
            (Arc::new(p.clone()), Arc::new(p))
        };
    let online: Arc<dyn OnlineFeatureStore> = match (config.backends.online_url.as_str(), &sql) {
        ("memory://", _) | ("", None) => Arc::new(MemoryOnlineStore::default()),
        ("", Some(db)) => Arc::new(db.clone()),
        (other, _) if other.starts_with("sqlite://") || other.starts_with("postgres://") => {
            Arc::new(SqlStore::open(other).await?)
        }
        (other, _) => {
            return Err(CoreError::Config(format!(
                "unsupported online store URL `{other}`: use memory://, sqlite:// or postgres://"
            ))
            .into())
        }
    };
    Ok(Stores {
        raw,
        features,
        online,
        registry,
        scores,
        lineage,
    })
}

/// The metadata stores: on the SQL database when there is one, in memory otherwise.
fn metadata_stores(
    sql: Option<&SqlStore>,
) -> (
    Arc<dyn ModelRegistry>,
    Arc<dyn ScoreStore>,
    Arc<dyn LineageStore>,
) {
    match sql {
        Some(db) => (
            Arc::new(db.clone()),
            Arc::new(db.clone()),
            Arc::new(db.clone()),
        ),
        None => (
            Arc::new(MemoryRegistry::default()),
            Arc::new(MemoryScoreStore::default()),
            Arc::new(MemoryLineageStore::default()),
        ),
    }
}

/// Opens the broker named by `config`.
pub fn open_broker(config: &Config) -> Result<Arc<dyn Broker>> {
    match config.backends.broker_url.as_str() {
        "" | "memory://" => Ok(Arc::new(InProcessBroker::new())),
        other => Err(CoreError::Config(format!(
            "unsupported broker URL `{other}`: this build knows memory:// (in-process)"
        ))
        .into()),
    }
}
