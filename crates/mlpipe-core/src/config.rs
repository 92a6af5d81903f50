//! Typed configuration: a TOML file, then environment overrides.
//!
//! The core owns the sections every process needs (data directory, backend URLs, broker
//! options, logging). Each stage reads its own section with [`Config::section`], so stage
//! crates keep their configuration types next to their code.
//!
//! Environment variables named `MLPIPE__SECTION__KEY` override `section.key` (double
//! underscore between levels, lower-cased). Values are parsed as TOML scalars or arrays
//! (`3`, `true`, `[1, 2]`) and fall back to plain strings.
//!
//! ```
//! use mlpipe_core::Config;
//! let cfg = Config::from_toml_str(
//!     "data_dir = 'x'\n[training]\nmodels = ['logistic']",
//!     [("MLPIPE__BROKER__MAX_DELIVERIES".to_string(), "3".to_string())],
//! ).unwrap();
//! assert_eq!(cfg.broker.max_deliveries, 3);
//! #[derive(serde::Deserialize)] struct Training { models: Vec<String> }
//! let t: Training = cfg.section("training").unwrap().unwrap();
//! assert_eq!(t.models, ["logistic"]);
//! ```

use crate::broker::SubscribeOptions;
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of environment overrides.
pub const ENV_PREFIX: &str = "MLPIPE__";

/// Where each kind of store and the broker live, as URLs chosen by scheme
/// (`memory://`, `sqlite://…`, `file://…`, `postgres://…`, `redis://…`, `nats://…`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendConfig {
    /// Metadata (registry, lineage, audit, scores). Empty: `sqlite://<data_dir>/mlpipe.db`.
    pub metadata_url: String,
    /// Raw and feature data. Empty: `file://<data_dir>/data`.
    pub data_url: String,
    /// Online feature store. Empty: the metadata store.
    pub online_url: String,
    /// Broker. Empty: `memory://` (in-process).
    pub broker_url: String,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            metadata_url: String::new(),
            data_url: String::new(),
            online_url: String::new(),
            broker_url: "memory://".into(),
        }
    }
}

/// Broker consumption defaults for every stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
    /// Deliveries before dead-lettering.
    pub max_deliveries: u32,
    /// Milliseconds a delivery may stay unacknowledged.
    pub ack_wait_ms: u64,
    /// Redelivery delays in milliseconds, per attempt (the last repeats).
    pub backoff_ms: Vec<u64>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let d = SubscribeOptions::default();
        Self {
            max_deliveries: d.max_deliveries,
            ack_wait_ms: d.ack_wait.as_millis() as u64,
            backoff_ms: d.backoff.iter().map(|b| b.as_millis() as u64).collect(),
        }
    }
}

impl BrokerConfig {
    /// The subscription options these settings describe.
    pub fn subscribe_options(&self) -> SubscribeOptions {
        SubscribeOptions {
            max_deliveries: self.max_deliveries,
            ack_wait: Duration::from_millis(self.ack_wait_ms),
            backoff: self
                .backoff_ms
                .iter()
                .map(|m| Duration::from_millis(*m))
                .collect(),
        }
    }
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter, e.g. `info` or `mlpipe=debug,info`. `RUST_LOG` wins when set.
    pub filter: String,
    /// JSON lines instead of human-readable text.
    pub json: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            filter: "info".into(),
            json: false,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Directory of the embedded default backends.
    pub data_dir: PathBuf,
    /// Backend locations.
    pub backends: BackendConfig,
    /// Broker consumption defaults.
    pub broker: BrokerConfig,
    /// Logging.
    pub log: LogConfig,
    /// Every other section (`ingest`, `features`, `training`, …), read by its stage.
    #[serde(flatten)]
    pub sections: toml::Table,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("mlpipe-data"),
            backends: BackendConfig::default(),
            broker: BrokerConfig::default(),
            log: LogConfig::default(),
            sections: toml::Table::new(),
        }
    }
}

impl Config {
    /// Reads a TOML file and applies `MLPIPE__…` overrides from the process environment.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("cannot read configuration {}: {e}", path.display()))
        })?;
        Self::from_toml_str(&text, std::env::vars())
    }

    /// Defaults plus `MLPIPE__…` overrides from the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_toml_str("", std::env::vars())
    }

    /// Parses TOML text and applies overrides from `env` (name, value) pairs.
    pub fn from_toml_str(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e| Error::Config(format!("invalid TOML: {e}")))?;
        for (name, raw) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(|k| k.to_lowercase()).collect();
            if keys.iter().any(|k| k.is_empty()) {
                return Err(Error::Config(format!(
                    "environment override {name} has an empty key"
                )));
            }
            set_path(&mut table, &keys, parse_scalar(&raw))?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| Error::Config(format!("{e}")))
    }

    /// Reads a stage's section into its type; `Ok(None)` when the section is absent.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.sections.get(name) {
            None => Ok(None),
            Some(v) => v
                .clone()
                .try_into()
                .map(Some)
                .map_err(|e| Error::Config(format!("section [{name}]: {e}"))),
        }
    }

    /// The metadata URL, with the embedded default filled in.
    pub fn metadata_url(&self) -> String {
        if self.backends.metadata_url.is_empty() {
            format!("sqlite://{}/mlpipe.db", self.data_dir.display())
        } else {
            self.backends.metadata_url.clone()
        }
    }

    /// The data URL, with the embedded default filled in.
    pub fn data_url(&self) -> String {
        if self.backends.data_url.is_empty() {
            format!("file://{}/data", self.data_dir.display())
        } else {
            self.backends.data_url.clone()
        }
    }
}

fn parse_scalar(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<()> {
    let (last, parents) = keys
        .split_last()
        .ok_or_else(|| Error::Config("empty override path".into()))?;
    let mut current = table;
    for k in parents {
        let entry = current
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry.as_table_mut().ok_or_else(|| {
            Error::Config(format!("cannot override below `{k}`: it is not a table"))
        })?;
    }
    current.insert(last.clone(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_win_and_parse_types() {
        let cfg = Config::from_toml_str(
            "data_dir = 'a'\n[broker]\nmax_deliveries = 9\n",
            [
                ("MLPIPE__BROKER__MAX_DELIVERIES".into(), "2".into()),
                ("MLPIPE__BROKER__BACKOFF_MS".into(), "[1, 2]".into()),
                ("MLPIPE__DATA_DIR".into(), "/tmp/x".into()),
                ("MLPIPE__TRAINING__NAME".into(), "abc".into()),
                ("OTHER".into(), "ignored".into()),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.broker.max_deliveries, 2);
        assert_eq!(cfg.broker.backoff_ms, vec![1, 2]);
        assert_eq!(cfg.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(
            cfg.sections["training"]["name"],
            toml::Value::String("abc".into())
        );
        assert!(cfg.metadata_url().starts_with("sqlite:///tmp/x"));
    }

    #[test]
    fn bad_config_is_a_typed_error() {
        assert!(matches!(
            Config::from_toml_str("data_dir = [", []),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Config::from_toml_str("[broker]\nmax_deliveries = 'x'", []),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            Config::from_toml_str("[broker]\nunknown = 1", []),
            Err(Error::Config(_))
        ));
    }
}
