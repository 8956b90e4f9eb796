//! Command-line entry for running the simulator as its own process, as the sandbox does.

use crate::{SimConfig, start};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of the simulator process.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "KUBESIM_LISTEN", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,

    /// Write a kubeconfig for the simulator to this file once it listens.
    #[arg(long, env = "KUBESIM_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Number of watch events kept for resuming watches; older resourceVersions get 410 Gone.
    #[arg(long, default_value_t = SimConfig::default().watch_history)]
    pub watch_history: usize,
}

/// Runs the simulator until Ctrl-C or SIGTERM, printing its URL on standard output.
pub async fn run(args: SimArgs) -> Result<(), crate::StartError> {
    let config = SimConfig { listen: args.listen, watch_history: args.watch_history, ..SimConfig::default() };
    let sim = start(config).await?;
    if let Some(path) = &args.kubeconfig {
        sim.write_kubeconfig(path).map_err(|source| crate::StartError::Kubeconfig { path: path.clone(), source })?;
    }
    println!("{}", sim.base_url());
    tracing::info!(url = %sim.base_url(), "Kubernetes API simulator started");

    wait_for_signal().await;
    tracing::info!("Kubernetes API simulator stopping");
    sim.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn defaults_listen_on_loopback() {
        let cli = Cli::try_parse_from(["kubesim"]).unwrap();
        assert_eq!(cli.sim.listen, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
        assert_eq!(cli.sim.kubeconfig, None);
        assert_eq!(cli.sim.watch_history, SimConfig::default().watch_history);
    }

    #[test]
    fn flags_set_address_and_kubeconfig() {
        let cli = Cli::try_parse_from(["kubesim", "--listen", "127.0.0.1:6443", "--kubeconfig", "/tmp/kc", "--watch-history", "50"]).unwrap();
        assert_eq!(cli.sim.listen.port(), 6443);
        assert_eq!(cli.sim.kubeconfig, Some(PathBuf::from("/tmp/kc")));
        assert_eq!(cli.sim.watch_history, 50);
    }
}
