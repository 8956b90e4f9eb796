//! `akguard emulator`: the emulator as a command.

use std::net::SocketAddr;
use std::path::PathBuf;

use akguard_hwcloud::ManualClock;
use jiff::Timestamp;

use crate::faults::FaultRule;
use crate::seed::{SeededAccount, parse_seed_file};
use crate::server::{EmulatorClock, EmulatorConfig, RunningEmulator, StartError, start};

/// Runs a local Huawei Cloud (IAM access keys, identity discovery, CTS traces) that verifies
/// SDK-HMAC-SHA256 signatures.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address and TCP port of the cloud API (IAM and CTS); port 0 picks a free port.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Serve the admin API (seed, read state, faults, clock). Off by default.
    #[arg(long)]
    pub admin: bool,

    /// Address and TCP port of the admin API; port 0 picks a free port. Needs --admin.
    #[arg(long, value_name = "IP:PORT", default_value = "127.0.0.1:0", requires = "admin")]
    pub admin_listen: SocketAddr,

    /// Seed file, YAML or JSON, with `accounts:` to create at start.
    #[arg(long, value_name = "PATH")]
    pub seed: Option<PathBuf>,

    /// Write the seeded accounts, including every secret access key, as JSON to this file
    /// (created with mode 0600). Secret keys are never printed.
    #[arg(long, value_name = "PATH", requires = "seed")]
    pub credentials_out: Option<PathBuf>,

    /// Fault rule, repeatable: [OPERATION:]KIND[,rate=R][,nth=N] where KIND is
    /// status=HTTP_STATUS, throttle (429), drop (close the connection) or latency=MILLISECONDS;
    /// rate is a probability from 0 to 1, nth fires on the N-th matching call only.
    /// Example: createCredential:status=503,rate=0.5
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<FaultRule>,

    /// Run on a manual clock that starts at this RFC 3339 time and moves only through
    /// POST /admin/clock/advance. Default: the system clock.
    #[arg(long, value_name = "RFC3339")]
    pub manual_clock_start: Option<Timestamp>,

    /// Log filter: error, warn, info, debug or trace, or a tracing directive such as
    /// akguard_emulator=debug. Logs go to standard error.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

/// Error of the emulator command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("failed to read seed file {path}: {source}")]
    ReadSeed {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid seed file {path}: {message}")]
    ParseSeed { path: PathBuf, message: String },
    #[error("invalid --log-level {0:?}: {1}")]
    LogLevel(String, String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("failed to write credentials file {path}: {source}")]
    WriteCredentials {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to wait for a shutdown signal: {0}")]
    Signal(std::io::Error),
}

/// Starts the emulator, prints its URLs on standard output and serves until SIGINT or
/// SIGTERM, then shuts down cleanly.
pub async fn run(args: EmulatorArgs) -> Result<(), CliError> {
    init_logging(&args.log_level)?;
    serve_until(args, print_banner, wait_for_signal()).await
}

/// Starts the emulator from `args`, calls `on_ready` once it listens, and serves until
/// `stop` completes. [`run`] uses it with a banner printer and the shutdown signals.
pub async fn serve_until(
    args: EmulatorArgs,
    on_ready: impl FnOnce(&RunningEmulator),
    stop: impl Future<Output = std::io::Result<()>>,
) -> Result<(), CliError> {
    let seeds = match &args.seed {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::ReadSeed {
                path: path.clone(),
                source,
            })?;
            parse_seed_file(&text)
                .map_err(|message| CliError::ParseSeed {
                    path: path.clone(),
                    message,
                })?
                .accounts
        }
        None => Vec::new(),
    };
    let clock = match args.manual_clock_start {
        Some(start) => EmulatorClock::Manual(ManualClock::new(start)),
        None => EmulatorClock::System,
    };
    let config = EmulatorConfig {
        listen: args.listen,
        admin_listen: args.admin.then_some(args.admin_listen),
        clock,
        faults: args.faults,
        seeds,
    };

    let emulator = start(config).await?;
    if let Some(path) = &args.credentials_out {
        write_credentials(path, emulator.seeded())?;
    }
    on_ready(&emulator);

    let stopped = stop.await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    tracing::info!("stopped");
    stopped.map_err(CliError::Signal)
}

/// Prints where the emulator listens and what was seeded: IDs and access key IDs only.
fn print_banner(emulator: &RunningEmulator) {
    println!("akguard emulator listening on {}", emulator.base_url());
    if let Some(admin) = emulator.admin_url() {
        println!("admin API listening on {admin}");
    }
    for account in emulator.seeded() {
        for user in &account.users {
            let keys: Vec<&str> = user.keys.iter().map(|k| k.access_key_id.as_str()).collect();
            println!(
                "seeded account {} ({}) user {} ({}) access keys [{}]",
                account.domain_name,
                account.domain_id,
                user.name,
                user.id,
                keys.join(", ")
            );
        }
    }
}

fn init_logging(level: &str) -> Result<(), CliError> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|error| CliError::LogLevel(level.to_string(), error.to_string()))?;
    // The main binary may have installed a subscriber already; keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

fn write_credentials(path: &std::path::Path, accounts: &[SeededAccount]) -> Result<(), CliError> {
    use std::io::Write;

    let body: Vec<serde_json::Value> = accounts.iter().map(SeededAccount::to_json_with_secrets).collect();
    let text = serde_json::to_string_pretty(&serde_json::json!({ "accounts": body }))
        .expect("JSON values always serialise");
    let error = |source| CliError::WriteCredentials {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)?;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    #[test]
    fn defaults_keep_admin_off() {
        let command = Command::try_parse_from(["emulator"]).unwrap();

        assert!(!command.args.admin);
        assert_eq!(command.args.listen.to_string(), "127.0.0.1:0");
    }

    #[test]
    fn faults_parse_from_flags() {
        let command = Command::try_parse_from([
            "emulator",
            "--fault",
            "createCredential:status=503",
            "--fault",
            "latency=20",
        ])
        .unwrap();

        assert_eq!(command.args.faults.len(), 2);
    }

    #[test]
    fn admin_listen_needs_admin() {
        let result = Command::try_parse_from(["emulator", "--admin-listen", "127.0.0.1:9000"]);

        assert!(result.is_err());
    }

    #[test]
    fn invalid_fault_rejected() {
        let result = Command::try_parse_from(["emulator", "--fault", "explode"]);

        assert!(result.is_err());
    }
}
