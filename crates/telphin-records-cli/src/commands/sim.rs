//! `sim`: a simulated PBX over HTTP, until interrupted.

use clap::Args;

use crate::exit::{Exit, Failure};
use crate::settings;

/// The arguments of `sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:18080")]
    pub addr: std::net::SocketAddr,
    /// Everything generated derives from it.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// About how many recordings over 2024.
    #[arg(long, default_value_t = 1200)]
    pub records: usize,
}

/// Serves a simulated PBX until interrupted, announcing it as one JSON line on stdout.
pub async fn run(args: &SimArgs) -> Result<Exit, Failure> {
    let config = record_sim::SimConfig {
        seed: args.seed,
        record_count: args.records,
        ..settings::sandbox_config()
    };
    let addr = args.addr;
    let sim = record_sim::Sim::start_on(addr, config)
        .await
        .map_err(|error| {
            Failure::failed(format!("the simulator cannot listen on {addr}: {error}"))
        })?;
    println!("{}", sim.announcement());
    let app = &sim.credentials().client;
    eprintln!(
        "# Point the commands at it (or use --config deploy/dev.toml --pbx dev):\n\
         export TELPHIN_BASE_URL={} TELPHIN_CLIENT_ID={} TELPHIN_CLIENT_SECRET={}",
        sim.base_url(),
        app.client_id,
        app.client_secret
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|error| Failure::failed(format!("cannot wait for Ctrl-C: {error}")))?;
    sim.shutdown();
    Ok(Exit::Done)
}
