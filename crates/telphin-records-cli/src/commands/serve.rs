//! `serve`: the archive kept in step with the PBX (or several), as a long-running service.

use std::path::Path;

use clap::Args;
use record_service::{Service, ServiceConfig, shutdown_signal};

use crate::exit::{Exit, Failure};

/// The arguments of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Check the configuration (and read every secret it names), then exit without starting.
    #[arg(long)]
    pub check_config: bool,
}

/// Runs the service of the TOML configuration `config` until SIGTERM or SIGINT.
pub async fn run(config: Option<&Path>, args: &ServeArgs) -> Result<Exit, Failure> {
    let Some(path) = config else {
        return Err(Failure::usage(
            "serve needs its configuration: --config FILE.toml (see docs/service.md)",
        ));
    };
    let config = ServiceConfig::load(path).map_err(|error| Failure::usage(error.to_string()))?;
    if args.check_config {
        for pbx in &config.pbxs {
            pbx.credentials()
                .and_then(|_| pbx.event_secret())
                .and_then(|_| pbx.name_key())
                .and_then(|_| pbx.target_options())
                .map_err(|error| Failure::usage(error.to_string()))?;
        }
        eprintln!(
            "{}: the configuration is usable ({} PBX{})",
            path.display(),
            config.pbxs.len(),
            if config.pbxs.len() == 1 { "" } else { "s" }
        );
        return Ok(Exit::Done);
    }
    let service = Service::start(&config).await.map_err(|error| match error {
        record_service::ServiceError::Config(error) => Failure::usage(error.to_string()),
        other => Failure::failed(other.to_string()),
    })?;
    let names: Vec<&str> = config.pbxs.iter().map(|pbx| pbx.name.as_str()).collect();
    tracing::info!(
        listen = %service.local_addr().map_or_else(String::new, |a| a.to_string()),
        pbxs = %names.join(","),
        interval_s = config.service.interval.as_secs(),
        "serving"
    );
    if let Some(web) = service.web_addr() {
        tracing::info!(web = %format!("http://{web}/"), "the web page is served");
    }
    service.run(shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(Exit::Done)
}
