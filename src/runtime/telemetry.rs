//! Log set-up: one JSON or text line per event on standard error.

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Checks a log filter: every directive is a level or `target=level`. tracing reads a bare
/// word such as `verbose` as a target name, which silently turns every other log off.
pub fn check_filter(filter: &str) -> anyhow::Result<()> {
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        if !directive.contains('=') && !LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            anyhow::bail!(
                "invalid --log-level {filter:?}: {directive:?} is neither a level ({}) nor target=level; use for example `info` or `akguard=debug,info`",
                LEVELS.join(", ")
            );
        }
    }
    Ok(())
}

/// Installs the global subscriber. Fails when the filter does not parse, naming the flag.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    check_filter(filter)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_table() {
        let cases = [
            ("info", true),
            ("WARN", true),
            ("akguard=debug,info", true),
            ("akguard::rotation=trace", true),
            ("verbose", false),
            ("info,loud", false),
        ];
        for (filter, valid) in cases {
            assert_eq!(check_filter(filter).is_ok(), valid, "filter {filter:?}");
        }
    }
}
