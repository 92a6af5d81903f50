//! Logging set-up for an application: structured `tracing` output to stderr, filtered by
//! `[log]` in configuration or `RUST_LOG`. The library crates only emit events; installing
//! a subscriber is the application's choice, made here (the `mlpipe` command does it).

use mlpipe_core::config::LogConfig;
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
