//! Logs of `apply`: human text or one JSON object per event (`--log-format json`), on stderr.
//!
//! Only reqprune's own events are shown by default (info in text, debug in JSON, where each
//! settled batch is an event a log pipeline may want); `RUST_LOG` overrides. Dependencies'
//! logs stay off unless asked for, and the auth layer keeps secrets out of every level.

use tracing_subscriber::EnvFilter;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Install the global subscriber (once; later calls are ignored, as in tests).
pub fn init(format: LogFormat) {
    let default = match format {
        LogFormat::Text => "reqprune=info",
        LogFormat::Json => "reqprune=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(crate::cli::use_color(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_target(false).compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
