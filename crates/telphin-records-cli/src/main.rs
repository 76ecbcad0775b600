//! `telphin-records`: the operator's command for a Telphin PBX's call recordings.

mod api_commands;
mod backup_commands;
mod cli;
mod exit;
mod output;
mod progress;
mod settings;
mod when;

use std::process::ExitCode;

use clap::Parser as _;
use record_backup::SearchQuery;

use crate::cli::{Cli, Command, LogFormat};
use crate::exit::{Exit, Failure};
use crate::settings::Settings;

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap's own code).
    let cli = Cli::parse();
    logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return report(&cli, Failure::failed(format!("no runtime: {error}"))),
    };
    match runtime.block_on(run(&cli)) {
        Ok(exit) => exit.into(),
        Err(failure) => report(&cli, failure),
    }
}

fn report(cli: &Cli, failure: Failure) -> ExitCode {
    match cli.log_format {
        LogFormat::Json => tracing::error!(exit_code = failure.exit as u8, "{}", failure.message),
        LogFormat::Text => eprintln!("telphin-records: {}", failure.message),
    }
    failure.exit.into()
}

/// Log lines on stderr; `RUST_LOG` refines the level (default: info).
fn logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

async fn run(cli: &Cli) -> Result<Exit, Failure> {
    let settings = Settings::load(cli.config.as_deref())?;
    match &cli.command {
        Command::Sim {
            addr,
            seed,
            records,
        } => sim(*addr, *seed, *records).await,
        Command::Search {
            period,
            catalog,
            number,
            flow,
            result,
            min_duration,
            limit,
        } => {
            let mut query = SearchQuery::default();
            query.number = number.clone();
            query.flow = flow.clone();
            query.result = result.clone();
            query.min_duration = *min_duration;
            query.limit = *limit;
            backup_commands::search(cli, period, catalog, query)
        }
        command => {
            let needs_credentials = !matches!(command, Command::Verify { .. });
            let api = settings::connect(cli, &settings, needs_credentials).await?;
            match command {
                Command::List { period, desc } => {
                    api_commands::list(cli, &api, period, *desc).await
                }
                Command::Stats { period } => api_commands::stats(cli, &api, period).await,
                Command::Monthly { until } => {
                    api_commands::monthly(cli, &api, until.as_deref()).await
                }
                Command::Download { uuids, to } => {
                    api_commands::download(cli, &api, uuids, to).await
                }
                Command::Link { uuid } => api_commands::link(cli, &api, uuid).await,
                Command::Delete { uuid, yes } => api_commands::delete(cli, &api, uuid, *yes).await,
                Command::Archive { period, email } => {
                    api_commands::archive(cli, &api, period, email).await
                }
                Command::Backup {
                    period,
                    store,
                    concurrency,
                    names,
                    hash_numbers,
                    reserve,
                    wait,
                } => {
                    backup_commands::backup(
                        cli,
                        &api,
                        &settings,
                        period,
                        store,
                        *concurrency,
                        names,
                        *hash_numbers,
                        reserve,
                        *wait,
                    )
                    .await
                }
                Command::Verify { period, store } => {
                    backup_commands::verify(cli, &api, period, store).await
                }
                Command::Purge {
                    older_than,
                    store,
                    yes,
                    max,
                } => backup_commands::purge(cli, &api, older_than, store, *yes, *max).await,
                Command::Sim { .. } | Command::Search { .. } => Ok(Exit::Done),
            }
        }
    }
}

/// Serves a simulated PBX until interrupted, announcing it as one JSON line on stdout.
async fn sim(addr: std::net::SocketAddr, seed: u64, records: usize) -> Result<Exit, Failure> {
    let config = record_sim::SimConfig {
        seed,
        record_count: records,
        ..settings::sandbox_config()
    };
    let sim = record_sim::Sim::start_on(addr, config)
        .await
        .map_err(|error| {
            Failure::failed(format!("the simulator cannot listen on {addr}: {error}"))
        })?;
    println!("{}", sim.announcement());
    tokio::signal::ctrl_c()
        .await
        .map_err(|error| Failure::failed(format!("cannot wait for Ctrl-C: {error}")))?;
    sim.shutdown();
    Ok(Exit::Done)
}
