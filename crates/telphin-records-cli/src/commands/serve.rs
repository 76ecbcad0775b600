//! `serve`: the archive kept in step with the PBX (or several), as a long-running service.

use std::path::Path;

use clap::Args;
use record_service::{Service, ServiceConfig, shutdown_signal};
use record_sim::{Sim, SimHandle};

use crate::exit::{Exit, Failure};
use crate::settings;

/// What the sandbox keeps alive while it serves: the simulator and the temporary folder.
struct Sandbox {
    _sim: SimHandle,
    _dir: tempfile::TempDir,
}

/// The service's configuration over a simulated PBX in this process: its archive and catalog
/// in a temporary folder (gone at the end), the page on loopback without accounts.
async fn sandbox_config() -> Result<(ServiceConfig, Sandbox), Failure> {
    let failed = |what: &str, error: &dyn std::fmt::Display| {
        Failure::failed(format!("the sandbox {what}: {error}"))
    };
    let sim = Sim::start(settings::sandbox_config())
        .await
        .map_err(|error| failed("did not start", &error))?;
    let dir = tempfile::Builder::new()
        .prefix("telphin-records-sandbox-")
        .tempdir()
        .map_err(|error| failed("has no folder", &error))?;
    let app = &sim.credentials().client;
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, &app.client_secret).map_err(|error| failed("has no folder", &error))?;
    let text = format!(
        "[service]\ninterval = \"1m\"\n\n[web]\n\n\
         [[pbx]]\nname = \"sandbox\"\nbase_url = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_file = {:?}\ntarget = {:?}\ncatalog = {:?}\nsince = \"2024-01-01\"\n\
         tz = \"Europe/Moscow\"\n",
        sim.base_url(),
        app.client_id,
        secret.display().to_string(),
        dir.path().join("archive").display().to_string(),
        dir.path().join("sandbox.sqlite").display().to_string(),
    );
    let config = ServiceConfig::parse(&text, Path::new("(sandbox)"), Vec::new())
        .map_err(|error| failed("is misconfigured", &error))?;
    tracing::info!(
        archive = %dir.path().display(),
        "sandbox: a simulated PBX in this process; its archive is kept in a temporary folder, \
         removed at the end"
    );
    Ok((
        config,
        Sandbox {
            _sim: sim,
            _dir: dir,
        },
    ))
}

/// The arguments of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Check the configuration (and read every secret it names), then exit without starting.
    #[arg(long)]
    pub check_config: bool,
    /// Where the endpoints listen, over `[service]` listen.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Where the web page listens, over `[web]` listen.
    #[arg(long, value_name = "ADDR")]
    pub web: Option<std::net::SocketAddr>,
}

/// Runs the service of the TOML configuration `config` until SIGTERM or SIGINT; with
/// `sandbox`, of a simulated PBX in this process, its archive in a temporary folder.
pub async fn run(config: Option<&Path>, sandbox: bool, args: &ServeArgs) -> Result<Exit, Failure> {
    let mut _sandbox = None;
    let (path, mut config) = if sandbox {
        let (config, kept) = sandbox_config().await?;
        _sandbox = Some(kept);
        (Path::new("(sandbox)").to_path_buf(), config)
    } else {
        let Some(path) = config else {
            return Err(Failure::usage(
                "serve needs its configuration: --config FILE.toml (see docs/configuration.md), \
                 or try serve --sandbox",
            ));
        };
        let config =
            ServiceConfig::load(path).map_err(|error| Failure::usage(error.to_string()))?;
        (path.to_path_buf(), config)
    };
    if let Some(listen) = args.listen {
        config.service.listen = listen;
    }
    if let (Some(web), Some(settings)) = (args.web, config.web.as_mut()) {
        settings.listen = web;
    }
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
