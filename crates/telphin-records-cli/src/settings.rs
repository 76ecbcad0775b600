//! Where the credentials and the API come from: the environment, a config file, or the
//! sandbox (a simulator in this process).

use std::collections::BTreeMap;
use std::path::Path;

use record_service::{PbxConfig, ServiceConfig, warn_if_readable_by_others};
use record_sim::{Sim, SimConfig, SimHandle};
use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::{Client, ClientBuilder, Credentials};

use crate::cli::Global;
use crate::exit::{Exit, Failure};

/// The sandbox's PBX: the same recordings on every run (a fixed seed), small files.
pub fn sandbox_config() -> SimConfig {
    SimConfig {
        seed: 1,
        record_count: 1200,
        max_file_size: Some(256 << 10),
        ..SimConfig::default()
    }
}

/// The settings a config file may hold (the environment's `TELPHIN_*` variables of the same
/// names override them). Any other key in a file is an error naming its line.
pub const KNOWN: &[&str] = &[
    "TELPHIN_CLIENT_ID",
    "TELPHIN_CLIENT_SECRET",
    "TELPHIN_USERNAME",
    "TELPHIN_PASSWORD",
    "TELPHIN_TOKEN",
    "TELPHIN_BASE_URL",
    "TELPHIN_ALLOW_INSECURE_HTTP",
    "TELPHIN_OPERATOR",
    "TELPHIN_NAME_KEY",
    crate::keys::SIGNING_KEY,
    crate::keys::SIGNING_KEY_FILE,
    crate::keys::ERASURE_KEY,
    crate::keys::ERASURE_KEY_FILE,
];

/// The settings: the operator's configuration (a TOML file of `[[pbx]]` profiles, the one
/// `serve` reads) and its chosen profile, or a file of `TELPHIN_*` lines; the environment's
/// `TELPHIN_*` variables override both.
pub struct Settings {
    values: BTreeMap<String, String>,
    profile: Option<(ServiceConfig, usize)>,
}

impl Settings {
    /// Reads `config` (TOML when it ends in `.toml` or its first setting is a `[table]`,
    /// else `KEY=VALUE` lines) and picks the profile `pbx` (needed when the file has several).
    pub fn load(config: Option<&Path>, pbx: Option<&str>) -> Result<Settings, Failure> {
        let mut settings = Settings {
            values: BTreeMap::new(),
            profile: None,
        };
        if let Some(path) = config {
            let text = std::fs::read_to_string(path).map_err(|error| {
                Failure::usage(format!(
                    "cannot read the config file {}: {error}",
                    path.display()
                ))
            })?;
            warn_if_readable_by_others(path, "the config file");
            if is_toml(path, &text) {
                let config =
                    ServiceConfig::load(path).map_err(|e| Failure::usage(e.to_string()))?;
                let chosen = config
                    .profile(pbx)
                    .map_err(|e| Failure::usage(e.to_string()))?;
                let index = config
                    .pbxs
                    .iter()
                    .position(|p| p.name == chosen.name)
                    .unwrap_or_default();
                settings.profile = Some((config, index));
            } else {
                if pbx.is_some() {
                    return Err(Failure::usage(format!(
                        "--pbx names a [[pbx]] of a TOML configuration; {} is a file of \
                         TELPHIN_* lines",
                        path.display()
                    )));
                }
                settings.values = key_values(path, &text)?;
                tracing::warn!(
                    "{} is a file of TELPHIN_* lines, read for one more release: write the \
                     operator's configuration instead (TOML, the file serve reads; secrets stay \
                     in the environment or in files):\n{}",
                    path.display(),
                    toml_instead(&settings.values)
                );
            }
        }
        for (key, value) in std::env::vars() {
            if key.starts_with("TELPHIN_") {
                settings.values.insert(key, value);
            }
        }
        Ok(settings)
    }

    /// The profile the command runs with, when the configuration is the operator's TOML.
    pub fn profile(&self) -> Option<&PbxConfig> {
        self.profile
            .as_ref()
            .and_then(|(config, index)| config.pbxs.get(*index))
    }

    /// The operator's whole configuration, when it is the TOML file.
    pub fn configuration(&self) -> Option<&ServiceConfig> {
        self.profile.as_ref().map(|(config, _)| config)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A yes/no setting: `1`, `true`, `yes` or `0`, `false`, `no`; unset is no.
    pub fn flag(&self, key: &str) -> Result<bool, Failure> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes") => Ok(true),
            Some(other) => Err(Failure::usage(format!(
                "{key}={other}: write 1 or 0 (true/false, yes/no)"
            ))),
        }
    }

    /// The credentials the settings give: the environment's, else the profile's.
    fn credentials(&self) -> Result<Credentials, Failure> {
        if let Some(token) = self.get("TELPHIN_TOKEN") {
            return Ok(Credentials::access_token(token));
        }
        let (Some(id), Some(secret)) = (
            self.get("TELPHIN_CLIENT_ID"),
            self.get("TELPHIN_CLIENT_SECRET"),
        ) else {
            if let Some(profile) = self.profile() {
                return profile
                    .credentials()
                    .map_err(|error| Failure::usage(error.to_string()));
            }
            return Err(Failure {
                exit: Exit::Usage,
                message: "no credentials: set TELPHIN_CLIENT_ID and TELPHIN_CLIENT_SECRET (or \
                          TELPHIN_TOKEN) in the environment, or give --config FILE.toml (and \
                          --pbx NAME), or try --sandbox"
                    .to_owned(),
            });
        };
        Ok(
            match (self.get("TELPHIN_USERNAME"), self.get("TELPHIN_PASSWORD")) {
                (Some(user), Some(password)) => Credentials::password(id, secret, user, password),
                _ => Credentials::client_credentials(id, secret),
            },
        )
    }

    /// The API's address: TELPHIN_BASE_URL, else the profile's.
    fn base_url(&self) -> Option<&str> {
        self.get("TELPHIN_BASE_URL")
            .or_else(|| self.profile().and_then(|p| p.base_url.as_deref()))
    }
}

/// Whether the file at `path` is TOML rather than `KEY=VALUE` lines.
fn is_toml(path: &Path, text: &str) -> bool {
    path.extension().is_some_and(|ext| ext == "toml")
        || text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .is_some_and(|line| line.starts_with('['))
}

/// The `KEY=VALUE` lines of the file at `path`.
fn key_values(path: &Path, text: &str) -> Result<BTreeMap<String, String>, Failure> {
    let mut values = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A file written for the shell (`export KEY=VALUE`) reads the same.
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let place = || format!("{} line {}", path.display(), number + 1);
        let Some((key, value)) = line.split_once('=') else {
            return Err(Failure::usage(format!("{}: write KEY=VALUE", place())));
        };
        let key = key.trim();
        if !KNOWN.contains(&key) {
            return Err(Failure::usage(format!(
                "{}: unknown setting {key}{}",
                place(),
                suggestion(key)
            )));
        }
        let value = value.trim().trim_matches('"');
        values.insert(key.to_owned(), value.to_owned());
    }
    Ok(values)
}

/// The `[[pbx]]` table that says what `values` say; secrets are named by their variables,
/// never written.
fn toml_instead(values: &BTreeMap<String, String>) -> String {
    let mut lines = vec!["[[pbx]]".to_owned(), "name = \"main\"".to_owned()];
    let plain = [
        ("TELPHIN_BASE_URL", "base_url"),
        ("TELPHIN_CLIENT_ID", "client_id"),
        ("TELPHIN_USERNAME", "username"),
    ];
    for (key, field) in plain {
        if let Some(value) = values.get(key) {
            lines.push(format!("{field} = {value:?}"));
        }
    }
    let secrets = [
        ("TELPHIN_CLIENT_SECRET", "client_secret_env"),
        ("TELPHIN_PASSWORD", "password_env"),
        ("TELPHIN_NAME_KEY", "name_key_env"),
    ];
    for (key, field) in secrets {
        if values.contains_key(key) {
            lines.push(format!("{field} = \"{key}\"  # set it in the environment"));
        }
    }
    lines.push("target = \"/srv/telphin-records/main\"  # what --to said".to_owned());
    lines.push(
        "catalog = \"/var/lib/telphin-records/main.sqlite\"  # what --catalog said".to_owned(),
    );
    lines.join("\n")
}

/// The API the command talks to, and the simulator behind it in the sandbox.
pub struct Api {
    pub client: Client<ReqwestTransport>,
    /// Kept alive while the command runs.
    _sandbox: Option<SimHandle>,
}

/// Connects to the API (or starts the sandbox). `needs_credentials` is false for commands
/// that make no API request (verify).
pub async fn connect(
    global: &Global,
    settings: &Settings,
    needs_credentials: bool,
) -> Result<Api, Failure> {
    if global.sandbox {
        let sim = Sim::start(sandbox_config())
            .await
            .map_err(|error| Failure::failed(format!("the sandbox did not start: {error}")))?;
        let app = &sim.credentials().client;
        let client = ClientBuilder::new(Credentials::client_credentials(
            &app.client_id,
            &app.client_secret,
        ))
        .base_url(sim.base_url())
        .build_async()?;
        tracing::info!("sandbox: a simulated PBX in this process; nothing reaches Telphin");
        return Ok(Api {
            client,
            _sandbox: Some(sim),
        });
    }
    let credentials = match settings.credentials() {
        Ok(credentials) => credentials,
        // A placeholder that is never sent: the command makes no request.
        Err(_) if !needs_credentials => Credentials::access_token("unused"),
        Err(failure) => return Err(failure),
    };
    let mut builder = ClientBuilder::new(credentials);
    if let Some(base) = settings.base_url() {
        builder = builder.base_url(base);
    }
    let insecure = settings.flag("TELPHIN_ALLOW_INSECURE_HTTP")?;
    let client = builder
        .allow_insecure_http(insecure)
        .build_async()
        .map_err(|error| match error {
            telphin_records::Error::PlainHttpRefused { base_url } => Failure::usage(format!(
                "refusing plain http to {base_url}: credentials and tokens would travel \
                 unencrypted; use https, or set TELPHIN_ALLOW_INSECURE_HTTP=1 for a test server \
                 on a trusted network"
            )),
            other => other.into(),
        })?;
    Ok(Api {
        client,
        _sandbox: None,
    })
}

/// `, did you mean …?` for the known setting closest to `key`, if one is close.
fn suggestion(key: &str) -> String {
    KNOWN
        .iter()
        .map(|known| (strsim::levenshtein(key, known), known))
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, known)| format!(" (did you mean {known}?)"))
        .unwrap_or_default()
}
