//! `telphin-records`: the operator's command for a Telphin PBX's call recordings.

mod cli;
mod commands;
mod context;
mod exit;
mod keys;
mod output;
mod progress;
mod settings;
mod store;
mod when;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command, LogFormat};
use crate::commands::{
    archive, audit, backup, completions, delete, download, erase, hold, link, list, monthly,
    password, purge, retention, search, serve, sim, stats, verify,
};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::settings::Settings;

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap's own code).
    let Cli { global, command } = Cli::parse();
    let log_format = global.log_format;
    logging(log_format, log_level(global.quiet, global.verbose));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return report(log_format, Failure::failed(format!("no runtime: {error}"))),
    };
    let outcome = runtime.block_on(async {
        // serve's --config is its TOML configuration, not a file of TELPHIN_* settings.
        if let Command::Serve(args) = &command {
            return serve::run(global.config.as_deref(), global.sandbox, args).await;
        }
        let settings = Settings::load(global.config.as_deref(), global.pbx.as_deref())?;
        run(&Context::new(global, settings), &command).await
    });
    // The blocking writes still under way (a file a stopped sync abandoned) end first.
    drop(runtime);
    match outcome {
        Ok(exit) => exit.into(),
        Err(failure) => report(log_format, failure),
    }
}

fn report(format: LogFormat, failure: Failure) -> ExitCode {
    match format {
        LogFormat::Json => tracing::error!(exit_code = failure.exit as u8, "{}", failure.message),
        LogFormat::Text => eprintln!("telphin-records: {}", failure.message),
    }
    failure.exit.into()
}

/// The log filter of `-q` and `-v`: more detail only from this tool's own crates (a
/// dependency's trace may show what it sends).
fn log_level(quiet: bool, verbose: u8) -> String {
    const OURS: [&str; 6] = [
        "telphin_records",
        "telphin_records_cli",
        "record_api",
        "record_backup",
        "record_service",
        "transport_async",
    ];
    let level = match (quiet, verbose) {
        (true, _) => return "warn".to_owned(),
        (false, 0) => return "info".to_owned(),
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let mut filter = vec!["info".to_owned()];
    filter.extend(OURS.iter().map(|name| format!("{name}={level}")));
    filter.join(",")
}

/// Log lines on stderr; `RUST_LOG` sets the filter, else `level`.
fn logging(format: LogFormat, level: String) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// Runs the command's handler.
async fn run(context: &Context, command: &Command) -> Result<Exit, Failure> {
    match command {
        Command::List(args) => list::run(context, args).await,
        Command::Stats(args) => stats::run(context, args).await,
        Command::Monthly(args) => monthly::run(context, args).await,
        Command::Download(args) => download::run(context, args).await,
        Command::Link(args) => link::run(context, args).await,
        Command::Delete(args) => delete::run(context, args).await,
        Command::Archive(args) => archive::run(context, args).await,
        Command::Backup(args) => backup::run(context, args).await,
        Command::Verify(args) => verify::run(context, args).await,
        Command::Purge(args) => purge::run(context, args).await,
        Command::Search(args) => search::run(context, args),
        Command::Retention(args) => retention::run(context, args).await,
        Command::Hold(args) => hold::run(context, args).await,
        Command::Erase(args) => erase::run(context, args).await,
        Command::Audit(args) => audit::run(context, args).await,
        Command::Sim(args) => sim::run(args).await,
        Command::HashPassword(args) => password::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Manpage(args) => completions::manpage(args),
        Command::Serve(args) => {
            serve::run(
                context.global.config.as_deref(),
                context.global.sandbox,
                args,
            )
            .await
        }
    }
}
