//! Opening stores and the broker from URLs in configuration, chosen by scheme through a
//! table of openers ([`Backends`]) that an application extends with its own.
//!
//! | setting | default (embedded) | built-in schemes |
//! |---|---|---|
//! | `backends.metadata_url` | `sqlite://<data_dir>/mlpipe.db` | `memory`, `sqlite`, `postgres` (feature `postgres`) |
//! | `backends.data_url` | `file://<data_dir>/data` | `file`, `memory` |
//! | `backends.online_url` | the metadata store | `memory`, `sqlite`, `postgres`, `redis`/`rediss` (feature `redis`) |
//! | `backends.broker_url` | `memory://` (in-process) | `memory`, `nats` (feature `nats`) |
//!
//! With `online_url = "redis://host:port/db?prefix=p"` Redis also caches the artefacts of
//! live model versions (serving nodes load deployed models from it) and the newest score
//! per entity key (polling); the metadata store stays the store of record.
//! `broker_url = "nats://host:4222?prefix=p"` names JetStream; `prefix` (default `mlpipe`)
//! separates deployments sharing a server. A scheme whose feature is off is registered
//! all the same, and opening it is a configuration error that names the feature to enable;
//! a scheme nobody registered is refused when the configuration is checked, with the list
//! of registered ones.

use crate::error::Result;
use mlpipe_core::broker::{Broker, InProcessBroker};
use mlpipe_core::store::memory::*;
use mlpipe_core::store::*;
use mlpipe_core::{Config, Error as CoreError};
use mlpipe_parquet::ParquetStore;
use mlpipe_sql::SqlStore;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// What an opener returns: a boxed future of the opened backend.
pub type Opening<T> = Pin<Box<dyn Future<Output = Result<T>> + Send>>;

/// The metadata stores (registry, scores, lineage and audit), and the online feature store
/// the metadata backend offers when `online_url` is empty (a SQL database keeps online
/// features too).
#[derive(Clone)]
pub struct MetadataStores {
    /// Model registry.
    pub registry: Arc<dyn ModelRegistry>,
    /// Score store.
    pub scores: Arc<dyn ScoreStore>,
    /// Lineage, audit and splits.
    pub lineage: Arc<dyn LineageStore>,
    /// The online store used when `online_url` is empty (in memory when `None`).
    pub online: Option<Arc<dyn OnlineFeatureStore>>,
}

/// Raw and feature data.
#[derive(Clone)]
pub struct DataStores {
    /// Raw batches.
    pub raw: Arc<dyn RawStore>,
    /// Feature tables.
    pub features: Arc<dyn FeatureStore>,
}

type MetadataOpener = Arc<dyn Fn(String) -> Opening<MetadataStores> + Send + Sync>;
type DataOpener = Arc<dyn Fn(String) -> Opening<DataStores> + Send + Sync>;
type OnlineOpener = Arc<dyn Fn(String, MetadataStores) -> Opening<MetadataStores> + Send + Sync>;
type BrokerOpener = Arc<dyn Fn(String) -> Opening<Arc<dyn Broker>> + Send + Sync>;

/// Openers of each backend role by URL scheme (the part before `://`).
///
/// ```
/// use mlpipe::{Backends, DataStores};
/// use mlpipe::core::store::memory::{MemoryFeatureStore, MemoryRawStore};
/// use std::sync::Arc;
/// let mut backends = Backends::builtin();
/// // A scheme of the application's own: here, fresh in-memory data per open.
/// backends.data("scratch", |_url| {
///     Box::pin(async {
///         Ok(DataStores {
///             raw: Arc::new(MemoryRawStore::default()),
///             features: Arc::new(MemoryFeatureStore::default()),
///         })
///     })
/// });
/// assert!(backends.schemes().data.contains(&"scratch".to_string()));
/// ```
#[derive(Clone, Default)]
pub struct Backends {
    metadata: BTreeMap<String, MetadataOpener>,
    data: BTreeMap<String, DataOpener>,
    online: BTreeMap<String, OnlineOpener>,
    broker: BTreeMap<String, BrokerOpener>,
}

/// The registered schemes of each role, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schemes {
    /// `backends.metadata_url` schemes.
    pub metadata: Vec<String>,
    /// `backends.data_url` schemes.
    pub data: Vec<String>,
    /// `backends.online_url` schemes.
    pub online: Vec<String>,
    /// `backends.broker_url` schemes.
    pub broker: Vec<String>,
}

impl std::fmt::Debug for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.schemes().fmt(f)
    }
}

/// The scheme of `url` (`postgres` of `postgres://…`), lower-cased.
pub fn scheme_of(url: &str) -> Option<String> {
    url.split_once("://").map(|(s, _)| s.to_ascii_lowercase())
}

fn sql_metadata(url: String) -> Opening<MetadataStores> {
    Box::pin(async move {
        let db = SqlStore::open(&url).await?;
        Ok(MetadataStores {
            registry: Arc::new(db.clone()),
            scores: Arc::new(db.clone()),
            lineage: Arc::new(db.clone()),
            online: Some(Arc::new(db)),
        })
    })
}

fn sql_online(url: String, mut m: MetadataStores) -> Opening<MetadataStores> {
    Box::pin(async move {
        m.online = Some(Arc::new(SqlStore::open(&url).await?));
        Ok(m)
    })
}

#[cfg(not(all(feature = "postgres", feature = "redis", feature = "nats")))]
fn needs_feature(role: &str, url: &str, feature: &str) -> crate::Error {
    CoreError::Config(format!(
        "{role} URL `{url}` needs the `{feature}` feature: build mlpipe with --features {feature}"
    ))
    .into()
}

impl Backends {
    /// No schemes at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Every built-in scheme (see the module table).
    pub fn builtin() -> Self {
        let mut b = Self::default();
        b.metadata("memory", |_| {
            Box::pin(async {
                Ok(MetadataStores {
                    registry: Arc::new(MemoryRegistry::default()),
                    scores: Arc::new(MemoryScoreStore::default()),
                    lineage: Arc::new(MemoryLineageStore::default()),
                    online: None,
                })
            })
        });
        b.metadata("sqlite", sql_metadata);
        b.data("memory", |_| {
            Box::pin(async {
                Ok(DataStores {
                    raw: Arc::new(MemoryRawStore::default()),
                    features: Arc::new(MemoryFeatureStore::default()),
                })
            })
        });
        b.data("file", |url| {
            Box::pin(async move {
                let p = ParquetStore::open_url(&url)?;
                Ok(DataStores {
                    raw: Arc::new(p.clone()),
                    features: Arc::new(p),
                })
            })
        });
        b.online("memory", |_, mut m| {
            Box::pin(async move {
                m.online = Some(Arc::new(MemoryOnlineStore::default()));
                Ok(m)
            })
        });
        b.online("sqlite", sql_online);
        b.broker("memory", |_| {
            Box::pin(async { Ok(Arc::new(InProcessBroker::new()) as Arc<dyn Broker>) })
        });
        b.postgres();
        b.redis();
        b.nats();
        b
    }

    #[cfg(feature = "postgres")]
    fn postgres(&mut self) {
        self.metadata("postgres", sql_metadata);
        self.online("postgres", sql_online);
    }

    #[cfg(not(feature = "postgres"))]
    fn postgres(&mut self) {
        self.metadata("postgres", |url| {
            Box::pin(async move { Err(needs_feature("metadata", &url, "postgres")) })
        });
        self.online("postgres", |url, _| {
            Box::pin(async move { Err(needs_feature("online store", &url, "postgres")) })
        });
    }

    #[cfg(feature = "redis")]
    fn redis(&mut self) {
        for scheme in ["redis", "rediss"] {
            self.online(scheme, |url, m| {
                Box::pin(async move {
                    use mlpipe_redis::*;
                    let redis = Redis::connect_url(&url).await?;
                    Ok(MetadataStores {
                        registry: Arc::new(CachedRegistry::new(
                            m.registry,
                            RedisModelCache::new(redis.clone()),
                        )),
                        scores: Arc::new(CachedScoreStore::new(
                            m.scores,
                            RedisScoreCache::new(redis.clone()),
                        )),
                        lineage: m.lineage,
                        online: Some(Arc::new(RedisOnlineStore::new(redis))),
                    })
                })
            });
        }
    }

    #[cfg(not(feature = "redis"))]
    fn redis(&mut self) {
        for scheme in ["redis", "rediss"] {
            self.online(scheme, |url, _| {
                Box::pin(async move { Err(needs_feature("online store", &url, "redis")) })
            });
        }
    }

    #[cfg(feature = "nats")]
    fn nats(&mut self) {
        self.broker("nats", |url| {
            Box::pin(async move {
                Ok(Arc::new(mlpipe_nats::NatsBroker::connect_url(&url).await?) as Arc<dyn Broker>)
            })
        });
    }

    #[cfg(not(feature = "nats"))]
    fn nats(&mut self) {
        self.broker("nats", |url| {
            Box::pin(async move { Err(needs_feature("broker", &url, "nats")) })
        });
    }

    /// Registers the opener of metadata URLs of `scheme`.
    pub fn metadata(
        &mut self,
        scheme: &str,
        open: impl Fn(String) -> Opening<MetadataStores> + Send + Sync + 'static,
    ) -> &mut Self {
        self.metadata
            .insert(scheme.to_ascii_lowercase(), Arc::new(open));
        self
    }

    /// Registers the opener of data URLs of `scheme`.
    pub fn data(
        &mut self,
        scheme: &str,
        open: impl Fn(String) -> Opening<DataStores> + Send + Sync + 'static,
    ) -> &mut Self {
        self.data
            .insert(scheme.to_ascii_lowercase(), Arc::new(open));
        self
    }

    /// Registers the opener of online-store URLs of `scheme`: it is given the metadata
    /// stores and returns them with `online` set (and may wrap the registry and score
    /// store, as Redis does with its caches).
    pub fn online(
        &mut self,
        scheme: &str,
        open: impl Fn(String, MetadataStores) -> Opening<MetadataStores> + Send + Sync + 'static,
    ) -> &mut Self {
        self.online
            .insert(scheme.to_ascii_lowercase(), Arc::new(open));
        self
    }

    /// Registers the opener of broker URLs of `scheme`.
    pub fn broker(
        &mut self,
        scheme: &str,
        open: impl Fn(String) -> Opening<Arc<dyn Broker>> + Send + Sync + 'static,
    ) -> &mut Self {
        self.broker
            .insert(scheme.to_ascii_lowercase(), Arc::new(open));
        self
    }

    /// The registered schemes.
    pub fn schemes(&self) -> Schemes {
        let keys = |m: Vec<&String>| m.into_iter().cloned().collect::<Vec<_>>();
        Schemes {
            metadata: keys(self.metadata.keys().collect()),
            data: keys(self.data.keys().collect()),
            online: keys(self.online.keys().collect()),
            broker: keys(self.broker.keys().collect()),
        }
    }

    fn pick<'a, T>(
        map: &'a BTreeMap<String, T>,
        setting: &str,
        url: &str,
    ) -> std::result::Result<&'a T, CoreError> {
        let known = || map.keys().cloned().collect::<Vec<_>>().join(", ");
        let scheme = scheme_of(url).ok_or_else(|| {
            CoreError::Config(format!(
                "backends.{setting} `{url}` is not a URL: write <scheme>://…, with a scheme of {}",
                known()
            ))
        })?;
        map.get(&scheme).ok_or_else(|| {
            CoreError::Config(format!(
                "backends.{setting} `{url}`: unknown scheme `{scheme}` (registered: {}); \
                 register an opener for it on the builder or fix the URL",
                known()
            ))
        })
    }

    /// Checks that every URL of `config` has a registered scheme (nothing is opened).
    pub fn check(&self, config: &Config) -> Result<()> {
        Self::pick(&self.metadata, "metadata_url", &config.metadata_url())?;
        Self::pick(&self.data, "data_url", &config.data_url())?;
        if !config.backends.online_url.is_empty() {
            Self::pick(&self.online, "online_url", &config.backends.online_url)?;
        }
        Self::pick(&self.broker, "broker_url", &broker_url(config))?;
        Ok(())
    }

    /// Opens every store `config` names.
    pub async fn open_stores(&self, config: &Config) -> Result<Stores> {
        let metadata_url = config.metadata_url();
        let data_url = config.data_url();
        let mut metadata =
            Self::pick(&self.metadata, "metadata_url", &metadata_url)?(metadata_url).await?;
        let data = Self::pick(&self.data, "data_url", &data_url)?(data_url).await?;
        let online_url = config.backends.online_url.clone();
        if !online_url.is_empty() {
            metadata =
                Self::pick(&self.online, "online_url", &online_url)?(online_url, metadata).await?;
        }
        Ok(Stores {
            raw: data.raw,
            features: data.features,
            online: metadata
                .online
                .unwrap_or_else(|| Arc::new(MemoryOnlineStore::default())),
            registry: metadata.registry,
            scores: metadata.scores,
            lineage: metadata.lineage,
        })
    }

    /// Opens the broker `config` names.
    pub async fn open_broker(&self, config: &Config) -> Result<Arc<dyn Broker>> {
        let url = broker_url(config);
        Self::pick(&self.broker, "broker_url", &url)?(url).await
    }
}

fn broker_url(config: &Config) -> String {
    match config.backends.broker_url.as_str() {
        "" => "memory://".to_string(),
        url => url.to_string(),
    }
}

/// Opens every store named by `config` with the built-in schemes.
pub async fn open_stores(config: &Config) -> Result<Stores> {
    Backends::builtin().open_stores(config).await
}

/// Opens the broker named by `config` with the built-in schemes.
pub async fn open_broker(config: &Config) -> Result<Arc<dyn Broker>> {
    Backends::builtin().open_broker(config).await
}
