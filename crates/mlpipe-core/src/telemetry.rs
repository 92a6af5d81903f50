//! Logging set-up: structured `tracing` output, filtered by configuration or `RUST_LOG`.

use crate::config::LogConfig;
use tracing_subscriber::EnvFilter;

/// Installs a global tracing subscriber. Calling it again (or after another subscriber was
/// installed) does nothing, so tests and examples can all call it.
pub fn init_tracing(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = if config.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
