//! The service's configuration: a TOML file, every secret from the environment or a file, and
//! environment variables that override any setting.
//!
//! The reference of every key is `docs/configuration.md`; `deploy/telphin-records.toml` is the
//! annotated example (a test loads it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::secret;

mod check;
mod overrides;
mod place;
#[cfg(test)]
mod tests;

pub use crate::profile::PbxConfig;
pub(crate) use check::parse_tz;
pub(crate) use place::{Origin, Unreadable};

/// The prefix of the variables that override `[service]` keys: `TELPHIN_SERVE_INTERVAL=1m`.
pub const SERVICE_ENV_PREFIX: &str = "TELPHIN_SERVE_";

/// The prefix of the variables that override a PBX's keys: `TELPHIN_PBX_MAIN_CONCURRENCY=4`
/// for the PBX named `main` (its name in capitals, `-` written `_`).
pub const PBX_ENV_PREFIX: &str = "TELPHIN_PBX_";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// What the service does as a whole.
    #[serde(default)]
    pub service: ServiceSettings,
    /// The PBXs it keeps (`[[pbx]]` tables), at least one.
    #[serde(rename = "pbx", default)]
    pub pbxs: Vec<PbxConfig>,
    /// The web page (`[web]`): none, no page.
    pub web: Option<WebSettings>,
    /// The audit log's signing key (`[audit]`).
    #[serde(default)]
    pub audit: AuditSettings,
    /// Where it was read from.
    #[serde(skip)]
    pub(crate) origin: Origin,
}

/// The `[audit]` table: where the key that signs every PBX's audit log comes from — a file
/// (`signing_key_file`, made by `telphin-records audit keygen`) or a variable
/// (`signing_key_env`), never this file and never beside the catalogs. Without it the logs
/// are kept unsigned, with a warning at start.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct AuditSettings {
    /// The variable holding the signing key's text.
    pub signing_key_env: Option<String>,
    /// The signing key's file.
    pub signing_key_file: Option<PathBuf>,
}

impl AuditSettings {
    /// The signing key, if one is configured; errors are located in `origin`'s file.
    pub(crate) fn signing_key(
        &self,
        origin: &Origin,
    ) -> Result<Option<record_backup::AuditSigningKey>, ConfigError> {
        if self.signing_key_env.is_none() && self.signing_key_file.is_none() {
            return Ok(None);
        }
        let field = if self.signing_key_env.is_some() {
            "audit.signing_key_env"
        } else {
            "audit.signing_key_file"
        };
        let unreadable = |problem| origin.unreadable(field, "the audit log", problem);
        let text = secret::from_env_or_file(
            self.signing_key_env.as_deref(),
            self.signing_key_file.as_deref(),
            "signing_key",
        )
        .map_err(unreadable)?;
        record_backup::AuditSigningKey::from_file_text(text.expose())
            .map(Some)
            .map_err(|_| {
                unreadable(Unreadable {
                    source_name: field.to_owned(),
                    reason: "not a key of `telphin-records audit keygen`".to_owned(),
                })
            })
    }
}

/// The `[web]` table: the page where people search, listen and see the archive's state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebSettings {
    /// Where the page is served (its own listener; default `127.0.0.1:9188`). Any address but
    /// loopback needs accounts.
    #[serde(default = "default_web_listen")]
    pub listen: SocketAddr,
    /// The time zone of times and periods on the page, unless a user has their own.
    #[serde(default = "default_web_tz")]
    pub tz: String,
    /// Cookies only over HTTPS: set it when a TLS proxy is in front.
    #[serde(default)]
    pub secure_cookies: bool,
    /// How long a login lasts.
    #[serde(default = "default_session", with = "duration")]
    pub session: Duration,
    /// The accounts (`[[web.user]]`); none: only loopback, without login.
    #[serde(default, rename = "user")]
    pub users: Vec<WebUser>,
}

/// A `[[web.user]]`: an account of the web page.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebUser {
    /// The login name, which the access log records.
    pub name: String,
    /// The password's argon2id hash in PHC form, as `telphin-records hash-password` prints it.
    pub password_hash: String,
    /// The user's time zone (default: the page's).
    pub tz: Option<String>,
}

impl std::fmt::Debug for WebUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebUser")
            .field("name", &self.name)
            .field("password_hash", &"<hidden>")
            .field("tz", &self.tz)
            .finish()
    }
}

fn default_web_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9188))
}
fn default_web_tz() -> String {
    "UTC".to_owned()
}
fn default_session() -> Duration {
    Duration::from_secs(12 * 3600)
}

/// The `[service]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ServiceSettings {
    /// Where `/healthz`, `/readyz`, `/metrics` and the event callbacks are served.
    pub listen: SocketAddr,
    /// How often each PBX is synced when no event wakes it.
    #[serde(with = "duration")]
    pub interval: Duration,
    /// How far before the point known complete each sync lists again: calls still in progress
    /// when last listed appear then (a call is listed by its start, once it has ended).
    #[serde(with = "duration")]
    pub margin: Duration,
    /// How long after an event the sync starts (the events of that time wake it once).
    #[serde(with = "duration")]
    pub debounce: Duration,
    /// How often the last months are reconciled with the PBX's statistics.
    #[serde(with = "duration")]
    pub reconcile_every: Duration,
    /// How many months (the current one included) a reconcile compares.
    pub reconcile_months: u32,
    /// Who the audit log names for what the service deletes (the retention policy's purges
    /// and expiries).
    pub operator: String,
    /// How long a client of the endpoints or the page has to send a request's header; one
    /// that trickles is cut off.
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    /// How many connections each listener serves at once (more wait in the kernel's queue);
    /// keep it well under the process's descriptor limit (`LimitNOFILE`).
    pub max_connections: usize,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 9187)),
            interval: Duration::from_secs(300),
            margin: Duration::from_secs(3600),
            debounce: Duration::from_secs(2),
            reconcile_every: Duration::from_secs(24 * 3600),
            reconcile_months: 3,
            operator: "telphin-records serve".to_owned(),
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// Durations written as people do: `30s`, `5m`, `1h 30m`, `250ms`.
mod duration {
    use serde::{Deserialize as _, Deserializer};
    use std::time::Duration;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|error| {
            serde::de::Error::custom(format!(
                "{text:?} is not a duration such as \"30s\", \"5m\" or \"1h\" ({error})"
            ))
        })
    }
}

impl ServiceConfig {
    /// Reads the file at `path`, then applies the environment's overrides
    /// ([`SERVICE_ENV_PREFIX`], [`PBX_ENV_PREFIX`]), then checks every setting; no secret is
    /// read yet (see [`PbxConfig::credentials`]).
    pub fn load(path: &Path) -> Result<ServiceConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ServiceConfig::parse(&text, path, std::env::vars())
    }

    /// Parses `text` (read from `path`, which errors name) with the overrides among `vars`.
    pub fn parse(
        text: &str,
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ServiceConfig, ConfigError> {
        let located = |error: toml::de::Error, key: String| {
            let (line, column) = error
                .span()
                .map_or((0, 0), |span| place::line_and_column(text, span.start));
            let mut message = error.message().trim().to_owned();
            // `client_secret = "…"`: say where a secret goes instead.
            if let Some(field) = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                && check::is_secret_option(field)
            {
                message = format!(
                    "a secret is never written in this file: give {field}_env or {field}_file"
                );
            }
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                key,
                message,
            }
        };
        let deserializer =
            toml::de::Deserializer::parse(text).map_err(|error| located(error, String::new()))?;
        let config: ServiceConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let key = error.path().to_string();
                located(error.into_inner(), key)
            })?;
        let overrides = config.overrides(vars)?;
        let mut config = if overrides.is_empty() {
            config
        } else {
            overrides::apply(text, overrides)?
        };
        config.origin = Origin::new(path, text);
        for (index, pbx) in config.pbxs.iter_mut().enumerate() {
            pbx.origin = (config.origin.clone(), index);
        }
        config.check()?;
        Ok(config)
    }
}

impl ServiceConfig {
    /// The key that signs every PBX's audit log (`[audit]`), if one is configured.
    pub fn audit_signing_key(&self) -> Result<Option<record_backup::AuditSigningKey>, ConfigError> {
        self.audit.signing_key(&self.origin)
    }

    /// The `[[pbx]]` named `name`, or the only one when `name` is `None`: the profile a
    /// command runs with (`--pbx NAME`).
    pub fn profile(&self, name: Option<&str>) -> Result<&PbxConfig, ConfigError> {
        let invalid = |message: String| self.origin.invalid("pbx", message);
        match (name, self.pbxs.as_slice()) {
            (Some(name), pbxs) => pbxs.iter().find(|pbx| pbx.name == name).ok_or_else(|| {
                let names: Vec<&str> = pbxs.iter().map(|pbx| pbx.name.as_str()).collect();
                invalid(format!(
                    "there is no [[pbx]] named {name:?} (there are: {})",
                    names.join(", ")
                ))
            }),
            (None, [only]) => Ok(only),
            (None, pbxs) => {
                let names: Vec<&str> = pbxs.iter().map(|pbx| pbx.name.as_str()).collect();
                Err(invalid(format!(
                    "the file has {} [[pbx]] tables: name one with --pbx ({})",
                    pbxs.len(),
                    names.join(", ")
                )))
            }
        }
    }
}
