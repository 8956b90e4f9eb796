//! Runs the simulator as a process: `cargo run -p akguard-kubesim --example kubesim -- --help`.

use clap::Parser;

#[derive(Parser)]
#[command(about = "In-memory Kubernetes API server for local testing")]
struct Cli {
    #[command(flatten)]
    sim: akguard_kubesim::cli::SimArgs,
}

#[tokio::main]
async fn main() {
    if let Err(error) = akguard_kubesim::cli::run(Cli::parse().sim).await {
        eprintln!("kubesim: {error}");
        std::process::exit(1);
    }
}
