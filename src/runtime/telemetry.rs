//! Log set-up: one JSON or text line per event on standard error.

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// Installs the global subscriber. Fails when the filter does not parse, naming the flag.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).map_err(|error| {
        anyhow::anyhow!("invalid --log-level {filter:?}: {error}; use for example `info` or `akguard=debug,info`")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    }
    .map_err(|error| anyhow::anyhow!("could not install the log subscriber: {error}"))
}
