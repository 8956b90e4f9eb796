//! `akguard`: Kubernetes operator that rotates Huawei Cloud access keys.

use akguard::cli::plugin::{self, PluginCommand};
use akguard::runtime::config::RunArgs;
use akguard::runtime::operator::{self, RunOptions};
use akguard::runtime::telemetry;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "akguard",
    version,
    about = "Rotates Huawei Cloud access keys for Kubernetes workloads and responds to leaked keys"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the operator (leader election, metrics, health endpoints).
    Run(RunArgs),
    /// Prints the CustomResourceDefinitions generated from the Rust types, as YAML.
    Crds,
    /// Runs a local Huawei Cloud (IAM, CTS) that speaks the real wire protocol.
    Emulator(akguard_emulator::cli::EmulatorArgs),
    /// Runs an in-memory Kubernetes API server on this machine, for trying manifests and
    /// kubectl without a cluster.
    Simulator(akguard_kubesim::cli::SimArgs),
    /// Shows the whole product on this machine: emulator, Kubernetes API simulator and the
    /// operator, a requested rotation and an emergency rotation for a leaked key.
    Sandbox(akguard::sandbox::command::SandboxArgs),
    #[command(flatten)]
    Plugin(PluginCommand),
}

/// Usage as a kubectl plugin: `kubectl akguard rotate NAME` runs a binary named
/// `kubectl-akguard` with `rotate NAME`.
#[derive(Debug, Parser)]
#[command(name = "kubectl akguard", version, about = "Manage akguard AccessKeyRotations")]
struct PluginCli {
    #[command(subcommand)]
    command: PluginCommand,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn main() -> anyhow::Result<()> {
    let invoked_as = std::env::args()
        .next()
        .map(|arg0| std::path::Path::new(&arg0).file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_default()
        .unwrap_or_default();
    if invoked_as == "kubectl-akguard" {
        let cli = PluginCli::parse();
        return runtime()?.block_on(plugin::run(cli.command));
    }

    let cli = Cli::parse();
    match cli.command {
        Command::Crds => {
            print!("{}", akguard::api::crds_yaml());
            Ok(())
        }
        Command::Run(args) => {
            telemetry::init(args.log_format, &args.log_level)?;
            runtime()?.block_on(async move {
                let client = operator::kube_client(args.kubeconfig.as_deref()).await?;
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                tokio::spawn(async move {
                    operator::termination_signal().await;
                    tracing::info!("termination signal received; finishing the steps in flight");
                    let _ = stop_tx.send(true);
                });
                let options = RunOptions {
                    clock: match &args.clock_file {
                        Some(path) => std::sync::Arc::new(akguard::runtime::file_clock::FileClock::new(path.clone())),
                        None => std::sync::Arc::new(akguard_hwcloud::SystemClock),
                    },
                    step_poll: args.step_poll_interval,
                };
                operator::run(args, options, client, stop_rx).await
            })
        }
        Command::Emulator(args) => runtime()?
            .block_on(akguard_emulator::cli::run(args))
            .map_err(|error| anyhow::anyhow!("{error}")),
        Command::Sandbox(args) => {
            // Operator logs would bury the timeline; warnings and errors still show.
            telemetry::init(akguard::runtime::config::LogFormat::Text, "warn")?;
            runtime()?.block_on(akguard::sandbox::command::run(args))
        }
        Command::Simulator(args) => runtime()?
            .block_on(akguard_kubesim::cli::run(args))
            .map_err(|error| anyhow::anyhow!("{error}")),
        Command::Plugin(command) => runtime()?.block_on(plugin::run(command)),
    }
}
