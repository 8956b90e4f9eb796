//! `akguard`: Kubernetes operator that rotates Huawei Cloud access keys.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "akguard", version, about = "Rotates Huawei Cloud access keys for Kubernetes workloads and responds to leaked keys")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prints the CustomResourceDefinitions generated from the Rust types, as YAML.
    Crds,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crds => anyhow::bail!("no CustomResourceDefinitions are defined yet"),
    }
}
