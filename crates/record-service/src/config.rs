//! The service's configuration: a TOML file, every secret from the environment or a file, and
//! environment variables that override any setting.
//!
//! The reference of every key is `docs/service.md`; `deploy/telphin-records.toml` is the
//! annotated example (a test loads it).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::secret::{self, Secret};

/// The prefix of the variables that override `[service]` keys: `TELPHIN_SERVE_INTERVAL=1m`.
pub const SERVICE_ENV_PREFIX: &str = "TELPHIN_SERVE_";

/// An override a variable gives: `(variable, the PBX's index or none for [service], key,
/// value)`.
type Override = (String, Option<usize>, String, String);

/// Whether a target option carries a secret: a word of its name is `secret`, `password`,
/// `token`, `sas` or `credentials`, or it names a key other than an id or a switch
/// (`aws_secret_access_key`, `aws_sse_customer_key_base64`, `google_service_account_key` —
/// not `aws_access_key_id` nor `aws_bucket_key_enabled`).
pub(crate) fn is_secret_option(option: &str) -> bool {
    let option = option.to_ascii_lowercase();
    let words: Vec<&str> = option.split(['_', '-', '.']).collect();
    let secret_word = words.iter().any(|word| {
        matches!(
            *word,
            "secret" | "password" | "token" | "sas" | "credential" | "credentials"
        )
    });
    let key = words.contains(&"key")
        && !matches!(words.last(), Some(&"id") | Some(&"enabled") | Some(&"arn"));
    secret_word || key
}

/// Whether two targets share objects: the same place, or one inside the other.
pub(crate) fn targets_overlap(a: &str, b: &str) -> bool {
    let place = |url: &str| {
        let url = url.strip_prefix("file://").unwrap_or(url);
        let mut place = url.trim_end_matches('/').to_owned();
        if !place.contains("://") {
            // A directory: the same one however it is written.
            let path = std::path::Path::new(url);
            let absolute = if path.is_absolute() {
                path.to_path_buf()
            } else {
                std::env::current_dir().unwrap_or_default().join(path)
            };
            let mut clean = std::path::PathBuf::new();
            for part in absolute.components() {
                match part {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    other => clean.push(other),
                }
            }
            place = clean.to_string_lossy().trim_end_matches('/').to_owned();
        }
        place
    };
    let (a, b) = (place(a), place(b));
    a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
}

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
    /// The signing key, if one is configured.
    pub fn signing_key(&self) -> Result<Option<record_backup::AuditSigningKey>, ConfigError> {
        if self.signing_key_env.is_none() && self.signing_key_file.is_none() {
            return Ok(None);
        }
        let text = secret::from_env_or_file(
            self.signing_key_env.as_deref(),
            self.signing_key_file.as_deref(),
            "audit",
            "signing_key",
        )?;
        record_backup::AuditSigningKey::from_file_text(text.expose())
            .map(Some)
            .map_err(|_| ConfigError::MissingSecret {
                pbx: "audit".to_owned(),
                source_name: "signing_key".to_owned(),
                reason: "not a key of `telphin-records audit keygen`".to_owned(),
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
    #[serde(default = "default_tz")]
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

/// One `[[pbx]]` table: a PBX's credentials, scope, target, catalog and budget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PbxConfig {
    /// Its name: the `pbx` label of its metrics and part of its event URL (letters, digits,
    /// `-` and `_`).
    pub name: String,
    /// The API's address (default: Telphin's).
    pub base_url: Option<String>,
    /// The API application's id.
    pub client_id: Option<String>,
    /// The variable holding the application's id.
    pub client_id_env: Option<String>,
    /// The variable holding the application's secret.
    pub client_secret_env: Option<String>,
    /// The file holding the application's secret (a systemd credential, a Kubernetes secret).
    pub client_secret_file: Option<PathBuf>,
    /// The PBX user, for the password grant.
    pub username: Option<String>,
    /// The variable holding the PBX user's password.
    pub password_env: Option<String>,
    /// The file holding the PBX user's password.
    pub password_file: Option<PathBuf>,
    /// Whose recordings: `client` (the whole PBX), `client:ID`, `group:ID` or `extension:ID`.
    #[serde(default = "default_scope")]
    pub scope: String,
    /// Where files are kept: a directory, or `s3://bucket/prefix`.
    pub target: String,
    /// Options of the target (`aws_region = "eu-central-1"`, `aws_endpoint = …`); an option
    /// named `…_file` is read from that file, one named `…_env` from that variable
    /// (`aws_secret_access_key_file = "/run/credentials/…"`).
    #[serde(default)]
    pub target_options: BTreeMap<String, String>,
    /// The catalog's SQLite file (one per PBX).
    pub catalog: PathBuf,
    /// Files transferred at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How many times a sync tries a file before recording its failure.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// The object-name template (as `backup --names`).
    #[serde(default = "default_names")]
    pub names: String,
    /// The time zone of the names' times (an IANA name).
    #[serde(default = "default_tz")]
    pub tz: String,
    /// Replace phone numbers in names by a keyed hash (the key from `name_key_env` or
    /// `name_key_file`).
    #[serde(default)]
    pub hash_numbers: bool,
    /// The variable holding the key of `hash_numbers`.
    pub name_key_env: Option<String>,
    /// The file holding the key of `hash_numbers`.
    pub name_key_file: Option<PathBuf>,
    /// The share of the hourly rate limit left to other integrations: `N` requests or `P%`.
    #[serde(default = "default_reserve")]
    pub reserve: String,
    /// On the first start (an empty catalog), the day from which to keep recordings
    /// (default: only calls from the start of the service on; older ones are `backup`'s).
    pub since: Option<NaiveDate>,
    /// The variable holding the secret of this PBX's event URL.
    pub event_secret_env: Option<String>,
    /// The file holding the secret of this PBX's event URL.
    pub event_secret_file: Option<PathBuf>,
    /// The retention policy, applied once a day (after each reconcile); none: the service
    /// deletes nothing.
    pub retention: Option<record_backup::RetentionPolicy>,
    /// Keep the archive in step with the PBX (default). `false`: the archive is only served
    /// (a PBX that is gone, an archive kept for its years).
    #[serde(default = "default_sync")]
    pub sync: bool,
}

fn default_sync() -> bool {
    true
}

fn default_scope() -> String {
    "client".to_owned()
}
fn default_concurrency() -> usize {
    8
}
fn default_attempts() -> u32 {
    4
}
fn default_names() -> String {
    record_backup::DEFAULT_TEMPLATE.to_owned()
}
fn default_tz() -> String {
    "UTC".to_owned()
}
fn default_reserve() -> String {
    "10%".to_owned()
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
                .map_or((0, 0), |span| line_and_column(text, span.start));
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                key,
                message: error.message().trim().to_owned(),
            }
        };
        let deserializer =
            toml::de::Deserializer::parse(text).map_err(|error| located(error, String::new()))?;
        let config: ServiceConfig =
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                let key = error.path().to_string();
                located(error.into_inner(), key)
            })?;
        let overrides = config.overrides(vars, path)?;
        let config = if overrides.is_empty() {
            config
        } else {
            apply_overrides(text, path, &config, overrides)?
        };
        config.check(path)?;
        Ok(config)
    }

    /// The variables among `vars` that override a key: `(variable, table path, key, value)`.
    /// A variable that could name two PBXs (`head-office` and `head_office` are both
    /// `HEAD_OFFICE`; `main` and `main_b` both prefix `TELPHIN_PBX_MAIN_B_…`) is refused.
    fn overrides(
        &self,
        vars: impl IntoIterator<Item = (String, String)>,
        path: &Path,
    ) -> Result<Vec<Override>, ConfigError> {
        let mut found = Vec::new();
        for (variable, value) in vars {
            if let Some(key) = variable.strip_prefix(SERVICE_ENV_PREFIX) {
                found.push((variable.clone(), None, key.to_ascii_lowercase(), value));
                continue;
            }
            let Some(rest) = variable.strip_prefix(PBX_ENV_PREFIX) else {
                continue;
            };
            let matches: Vec<(usize, &str)> = self
                .pbxs
                .iter()
                .enumerate()
                .filter_map(|(index, pbx)| {
                    let name = pbx.name.to_ascii_uppercase().replace('-', "_");
                    let key = rest.strip_prefix(&name)?.strip_prefix('_')?;
                    Some((index, key))
                })
                .collect();
            match matches.as_slice() {
                [] => {}
                [(index, key)] => {
                    found.push((
                        variable.clone(),
                        Some(*index),
                        key.to_ascii_lowercase(),
                        value,
                    ));
                }
                several => {
                    let names: Vec<String> = several
                        .iter()
                        .map(|(index, _)| format!("{:?}", self.pbxs[*index].name))
                        .collect();
                    return Err(ConfigError::Invalid {
                        path: path.to_path_buf(),
                        key: variable.clone(),
                        message: format!(
                            "the variable could override [[pbx]] {}: rename one of them so \
                             that no PBX's name in capitals (- as _) starts another's",
                            names.join(" and ")
                        ),
                    });
                }
            }
        }
        Ok(found)
    }

    /// Checks what the types alone do not.
    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        };
        if self.pbxs.is_empty() {
            return Err(invalid(
                "pbx".to_owned(),
                "no [[pbx]] table: the service needs at least one PBX to keep".to_owned(),
            ));
        }
        let service = &self.service;
        if service.interval < Duration::from_secs(1) {
            return Err(invalid(
                "service.interval".to_owned(),
                "at least 1s".to_owned(),
            ));
        }
        if service.header_timeout < Duration::from_millis(100) || service.max_connections == 0 {
            return Err(invalid(
                "service.header_timeout".to_owned(),
                "header_timeout is at least 100ms and max_connections at least 1".to_owned(),
            ));
        }
        if let Some(web) = &self.web {
            web.check()
                .map_err(|(key, message)| invalid(key, message))?;
        }
        if self.audit.signing_key_env.is_some() && self.audit.signing_key_file.is_some() {
            return Err(invalid(
                "audit.signing_key_env".to_owned(),
                "give signing_key_env or signing_key_file, not both".to_owned(),
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut catalogs = std::collections::BTreeSet::new();
        for (index, pbx) in self.pbxs.iter().enumerate() {
            for (other, earlier) in self.pbxs.iter().enumerate().take(index) {
                if targets_overlap(&pbx.target, &earlier.target) {
                    return Err(invalid(
                        format!("pbx[{index}].target"),
                        format!(
                            "{} overlaps the target {} of [[pbx]] {:?} (pbx[{other}]): two PBXs in \
                             one place overwrite each other's manifests and audit log; give \
                             each a target of its own",
                            pbx.target, earlier.target, earlier.name
                        ),
                    ));
                }
            }
        }
        for (index, pbx) in self.pbxs.iter().enumerate() {
            let key = |field: &str| format!("pbx[{index}].{field}");
            let fine = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            if pbx.name.is_empty() || !pbx.name.chars().all(fine) {
                return Err(invalid(
                    key("name"),
                    format!("{:?}: use letters, digits, - and _", pbx.name),
                ));
            }
            if !names.insert(pbx.name.clone()) {
                return Err(invalid(
                    key("name"),
                    format!("{:?} is used twice", pbx.name),
                ));
            }
            if let Some(policy) = &pbx.retention
                && let Err(error) = policy.check()
            {
                return Err(invalid(key("retention"), error.to_string()));
            }
            if !catalogs.insert(pbx.catalog.clone()) {
                return Err(invalid(
                    key("catalog"),
                    format!(
                        "{} is the catalog of another PBX: give each its own",
                        pbx.catalog.display()
                    ),
                ));
            }
            pbx.scope()
                .map_err(|message| invalid(key("scope"), message))?;
            pbx.budget()
                .map_err(|message| invalid(key("reserve"), message))?;
            pbx.tz().map_err(|message| invalid(key("tz"), message))?;
            record_backup::NameTemplate::parse(&pbx.names)
                .map_err(|error| invalid(key("names"), error.to_string()))?;
            if pbx.client_id.is_some() == pbx.client_id_env.is_some() {
                return Err(invalid(
                    key("client_id"),
                    "give client_id or client_id_env (one of them)".to_owned(),
                ));
            }
            if pbx.client_secret_env.is_some() == pbx.client_secret_file.is_some() {
                return Err(invalid(
                    key("client_secret_env"),
                    "give client_secret_env or client_secret_file (one of them); secrets are \
                     never written in this file"
                        .to_owned(),
                ));
            }
            if pbx.username.is_some() && pbx.password_env.is_some() == pbx.password_file.is_some() {
                return Err(invalid(
                    key("password_env"),
                    "with username, give password_env or password_file (one of them)".to_owned(),
                ));
            }
            if pbx.event_secret_env.is_some() && pbx.event_secret_file.is_some() {
                return Err(invalid(
                    key("event_secret_env"),
                    "give event_secret_env or event_secret_file, not both".to_owned(),
                ));
            }
            for option in pbx.target_options.keys() {
                let plain = !option.ends_with("_env") && !option.ends_with("_file");
                if plain && is_secret_option(option) {
                    return Err(invalid(
                        format!("pbx[{index}].target_options.{option}"),
                        format!(
                            "a secret is never written in this file: give {option}_env or \
                             {option}_file"
                        ),
                    ));
                }
            }
            if pbx.hash_numbers && pbx.name_key_env.is_none() && pbx.name_key_file.is_none() {
                return Err(invalid(
                    key("hash_numbers"),
                    "needs the key in name_key_env or name_key_file".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

/// Re-reads the file as a table, sets each override (its value read as TOML, else as a
/// string) and deserializes again; errors name the variable.
fn apply_overrides(
    text: &str,
    path: &Path,
    _parsed: &ServiceConfig,
    overrides: Vec<Override>,
) -> Result<ServiceConfig, ConfigError> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|error: toml::de::Error| ConfigError::Invalid {
            path: path.to_path_buf(),
            key: String::new(),
            message: error.message().to_owned(),
        })?;
    let mut variables = Vec::new();
    for (variable, pbx, key, value) in overrides {
        let value = value
            .parse::<toml::Value>()
            .ok()
            .filter(|v| !v.is_table())
            .or_else(|| {
                format!("v = {value}")
                    .parse::<toml::Table>()
                    .ok()?
                    .remove("v")
            })
            .unwrap_or(toml::Value::String(value));
        let section = match pbx {
            None => table
                .entry("service")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut(),
            Some(index) => table
                .get_mut("pbx")
                .and_then(toml::Value::as_array_mut)
                .and_then(|pbxs| pbxs.get_mut(index))
                .and_then(toml::Value::as_table_mut),
        };
        if let Some(section) = section {
            section.insert(key, value);
        }
        variables.push(variable);
    }
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|error| {
        ConfigError::Override {
            variables: variables.join(", "),
            key: error.path().to_string(),
            message: error.into_inner().message().trim().to_owned(),
        }
    })
}

/// The 1-based line and column of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

impl PbxConfig {
    /// The scope its `scope` key names.
    pub fn scope(&self) -> Result<telphin_records::Scope, String> {
        use telphin_records::{ClientId, ExtensionGroupId, ExtensionId, Scope};
        let text = self.scope.trim();
        let id = |value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("{text:?}: {value:?} is not a numeric id"))
        };
        match text.split_once(':') {
            None if text == "client" => Ok(Scope::client(ClientId::Me)),
            Some(("client", "@me")) => Ok(Scope::client(ClientId::Me)),
            Some(("client", value)) => Ok(Scope::client(ClientId::Id(id(value)?))),
            Some(("group", value)) => Ok(Scope::ExtensionGroup(ExtensionGroupId::new(id(value)?))),
            Some(("extension", value)) => Ok(Scope::Extension(ExtensionId::new(id(value)?))),
            _ => Err(format!(
                "{text:?}: write client, client:ID, group:ID or extension:ID"
            )),
        }
    }

    /// The rate budget its `reserve` key gives (a service waits for the reset).
    pub fn budget(&self) -> Result<record_backup::RateBudget, String> {
        use record_backup::{RateBudget, Reserve, WhenReserveReached};
        let reserve: Reserve = self.reserve.parse()?;
        // The sync loop schedules the next sync after the reset itself.
        Ok(RateBudget::new(reserve, WhenReserveReached::Stop))
    }

    /// The time zone of its names.
    pub fn tz(&self) -> Result<record_backup::chrono_tz::Tz, String> {
        parse_tz(&self.tz)
    }

    /// The API application's id.
    pub fn client_id(&self) -> Result<String, ConfigError> {
        match (&self.client_id, &self.client_id_env) {
            (Some(id), _) => Ok(id.clone()),
            (None, Some(variable)) => {
                Ok(secret::from_env(variable, &self.name)?.expose().to_owned())
            }
            (None, None) => Err(ConfigError::Invalid {
                path: PathBuf::new(),
                key: format!("{}.client_id", self.name),
                message: "missing".to_owned(),
            }),
        }
    }

    /// The credentials, read from their variables or files.
    pub fn credentials(&self) -> Result<telphin_records::Credentials, ConfigError> {
        use telphin_records::Credentials;
        let id = self.client_id()?;
        let secret = secret::from_env_or_file(
            self.client_secret_env.as_deref(),
            self.client_secret_file.as_deref(),
            &self.name,
            "client_secret",
        )?;
        let password = match &self.username {
            Some(_) => Some(secret::from_env_or_file(
                self.password_env.as_deref(),
                self.password_file.as_deref(),
                &self.name,
                "password",
            )?),
            None => None,
        };
        Ok(match (&self.username, password) {
            (Some(user), Some(password)) => {
                Credentials::password(id, secret.expose(), user, password.expose())
            }
            _ => Credentials::client_credentials(id, secret.expose()),
        })
    }

    /// The secret of its event URL, if it takes events.
    pub fn event_secret(&self) -> Result<Option<Secret>, ConfigError> {
        if self.event_secret_env.is_none() && self.event_secret_file.is_none() {
            return Ok(None);
        }
        let secret = secret::from_env_or_file(
            self.event_secret_env.as_deref(),
            self.event_secret_file.as_deref(),
            &self.name,
            "event_secret",
        )?;
        if secret.expose().len() < 16 {
            return Err(ConfigError::Invalid {
                path: PathBuf::new(),
                key: format!("{}.event_secret", self.name),
                message: "the event secret must be at least 16 characters (it is all that \
                          guards the URL)"
                    .to_owned(),
            });
        }
        Ok(Some(secret))
    }

    /// The key of `hash_numbers`.
    pub fn name_key(&self) -> Result<Option<Secret>, ConfigError> {
        if !self.hash_numbers {
            return Ok(None);
        }
        secret::from_env_or_file(
            self.name_key_env.as_deref(),
            self.name_key_file.as_deref(),
            &self.name,
            "name_key",
        )
        .map(Some)
    }

    /// The target's options, those named `…_file` and `…_env` read.
    pub fn target_options(&self) -> Result<Vec<(String, Secret)>, ConfigError> {
        let mut options = Vec::new();
        for (key, value) in &self.target_options {
            if let Some(option) = key.strip_suffix("_file") {
                let secret =
                    secret::from_env_or_file(None, Some(Path::new(value)), &self.name, key)?;
                options.push((option.to_owned(), secret));
            } else if let Some(option) = key.strip_suffix("_env") {
                options.push((option.to_owned(), secret::from_env(value, &self.name)?));
            } else {
                options.push((key.clone(), Secret::new(value.clone())));
            }
        }
        Ok(options)
    }
}

impl WebSettings {
    /// Checks the accounts and the address: the key at fault and why.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        if self.users.is_empty() && !self.listen.ip().is_loopback() {
            return Err((
                "web.listen".to_owned(),
                format!(
                    "the page would serve recordings on {} to anyone: add accounts \
                     ([[web.user]] with a hash from `telphin-records hash-password`) or listen \
                     on 127.0.0.1",
                    self.listen
                ),
            ));
        }
        parse_tz(&self.tz).map_err(|message| ("web.tz".to_owned(), message))?;
        if self.session < Duration::from_secs(60) {
            return Err(("web.session".to_owned(), "at least 1m".to_owned()));
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, user) in self.users.iter().enumerate() {
            let key = |field: &str| format!("web.user[{index}].{field}");
            if user.name.trim().is_empty() || user.name.chars().any(char::is_control) {
                return Err((key("name"), "a name of visible characters".to_owned()));
            }
            if !names.insert(user.name.as_str()) {
                return Err((key("name"), format!("{:?} is used twice", user.name)));
            }
            check_password_hash(&user.password_hash).map_err(|m| (key("password_hash"), m))?;
            if let Some(tz) = &user.tz {
                parse_tz(tz).map_err(|message| (key("tz"), message))?;
            }
        }
        Ok(())
    }
}

/// An IANA time zone.
pub(crate) fn parse_tz(name: &str) -> Result<record_backup::chrono_tz::Tz, String> {
    name.parse::<record_backup::chrono_tz::Tz>()
        .map_err(|_| format!("{name:?} is not an IANA time zone such as \"Europe/Moscow\""))
}

/// A password hash the page can check: argon2id in PHC form.
fn check_password_hash(hash: &str) -> Result<(), String> {
    let parsed = argon2::PasswordHash::new(hash).map_err(|_| {
        "not a password hash in PHC form ($argon2id$v=19$…): make one with `telphin-records \
         hash-password`"
            .to_owned()
    })?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "a hash of {}, not argon2id: make one with `telphin-records hash-password`",
            parsed.algorithm
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const MINIMAL: &str = r#"
[service]
interval = "1m"

[[pbx]]
name = "main"
client_id = "app"
client_secret_env = "MAIN_SECRET"
target = "/srv/archive"
catalog = "/srv/main.sqlite"
"#;

    fn parse(text: &str, vars: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ServiceConfig::parse(text, Path::new("serve.toml"), vars)
    }

    #[test]
    fn defaults_fill_what_is_not_said() {
        let config = parse(MINIMAL, &[]).unwrap();
        assert_eq!(config.service.interval, Duration::from_secs(60));
        assert_eq!(config.service.debounce, Duration::from_secs(2));
        let pbx = &config.pbxs[0];
        assert_eq!((pbx.concurrency, pbx.reserve.as_str()), (8, "10%"));
        assert_eq!(
            pbx.scope().unwrap(),
            telphin_records::Scope::client(telphin_records::ClientId::Me)
        );
    }

    #[test]
    fn a_wrong_value_names_its_line_column_and_key() {
        let text = MINIMAL.replace("interval = \"1m\"", "interval = \"soon\"");
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(
            error.starts_with("serve.toml:3:12: service.interval: "),
            "{error}"
        );
        assert!(error.contains("not a duration"), "{error}");
        let text = MINIMAL.replace("catalog =", "concurrency = \"many\"\ncatalog =");
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(
            error.starts_with("serve.toml:10:15: pbx[0].concurrency: "),
            "{error}"
        );
        let text = MINIMAL.replace("target =", "tagret =");
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(error.contains("serve.toml:9:1"), "{error}");
        assert!(error.contains("unknown field `tagret`"), "{error}");
        let error = parse("[service\n", &[]).unwrap_err().to_string();
        assert!(error.starts_with("serve.toml:1:"), "{error}");
    }

    #[test]
    fn checks_name_the_key() {
        let text = MINIMAL.replace("name = \"main\"", "name = \"main office\"");
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(error.contains("pbx[0].name"), "{error}");
        let text = MINIMAL.replace("client_secret_env = \"MAIN_SECRET\"", "");
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(
            error.contains("pbx[0].client_secret_env") && error.contains("never written"),
            "{error}"
        );
        let text = MINIMAL.replace(
            "catalog =",
            "target_options = { aws_secret_access_key = \"wJalr\" }\ncatalog =",
        );
        let error = parse(&text, &[]).unwrap_err().to_string();
        assert!(
            error.contains("target_options.aws_secret_access_key")
                && error.contains("aws_secret_access_key_env")
                && !error.contains("wJalr"),
            "{error}"
        );
        let text = MINIMAL.replace(
            "catalog =",
            "target_options = { aws_access_key_id = \"AKID\", aws_region = \"x\" }\ncatalog =",
        );
        parse(&text, &[]).unwrap();
        let text = MINIMAL.replace("catalog =", "reserve = \"200%\"\ncatalog =");
        assert!(
            parse(&text, &[])
                .unwrap_err()
                .to_string()
                .contains("pbx[0].reserve")
        );
    }

    #[test]
    fn the_web_page_needs_accounts_off_loopback_and_usable_hashes() {
        let hash = crate::web::hash_password("a-good-long-password").unwrap();
        let config = parse(&format!("{MINIMAL}\n[web]\n"), &[]).unwrap();
        let web = config.web.unwrap();
        assert_eq!(web.listen, SocketAddr::from(([127, 0, 0, 1], 9188)));
        assert!(web.users.is_empty() && config.pbxs[0].sync);
        let open = format!("{MINIMAL}\n[web]\nlisten = \"0.0.0.0:9188\"\n");
        let error = parse(&open, &[]).unwrap_err().to_string();
        assert!(
            error.contains("web.listen") && error.contains("hash-password"),
            "{error}"
        );
        let with_user = format!(
            "{open}\n[[web.user]]\nname = \"anna\"\npassword_hash = \"{hash}\"\ntz = \"Asia/Vladivostok\"\n"
        );
        let config = parse(&with_user, &[]).unwrap();
        let users = &config.web.as_ref().unwrap().users;
        assert_eq!(users[0].name, "anna");
        assert!(
            !format!("{config:?}").contains(&hash),
            "the hash stays out of Debug"
        );
        let plain = with_user.replace(&hash, "hunter2");
        let error = parse(&plain, &[]).unwrap_err().to_string();
        assert!(
            error.contains("web.user[0].password_hash") && !error.contains("hunter2"),
            "{error}"
        );
        let twice =
            format!("{with_user}\n[[web.user]]\nname = \"anna\"\npassword_hash = \"{hash}\"\n");
        assert!(
            parse(&twice, &[])
                .unwrap_err()
                .to_string()
                .contains("web.user[1].name")
        );
        let zone = with_user.replace("Asia/Vladivostok", "Mars/Olympus");
        assert!(
            parse(&zone, &[])
                .unwrap_err()
                .to_string()
                .contains("web.user[0].tz")
        );
    }

    #[test]
    fn the_environment_overrides_any_key() {
        let config = parse(
            MINIMAL,
            &[
                ("TELPHIN_SERVE_INTERVAL", "10s"),
                ("TELPHIN_PBX_MAIN_CONCURRENCY", "3"),
                ("TELPHIN_PBX_MAIN_TARGET", "/mnt/other"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap();
        assert_eq!(config.service.interval, Duration::from_secs(10));
        assert_eq!(config.pbxs[0].concurrency, 3);
        assert_eq!(config.pbxs[0].target, "/mnt/other");
        let error = parse(MINIMAL, &[("TELPHIN_PBX_MAIN_CONCURRENCY", "lots")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("TELPHIN_PBX_MAIN_CONCURRENCY") && error.contains("pbx[0].concurrency"),
            "{error}"
        );
    }

    #[test]
    fn every_secret_bearing_target_option_is_refused_inline() {
        for option in [
            "aws_secret_access_key",
            "aws_session_token",
            "aws_sse_customer_key_base64",
            "google_service_account_key",
            "azure_storage_account_key",
            "azure_storage_sas_key",
            "bearer_token",
            "client_secret",
        ] {
            let text = format!("{MINIMAL}\n[pbx.target_options]\n{option} = \"x\"\n");
            let error = parse(&text, &[]).unwrap_err().to_string();
            assert!(
                error.contains(&format!("target_options.{option}")),
                "{error}"
            );
            assert!(error.contains(&format!("{option}_env")), "{error}");
        }
        for option in [
            "aws_access_key_id",
            "aws_region",
            "aws_sse_kms_key_id",
            "aws_bucket_key_enabled",
            "aws_secret_access_key_file",
        ] {
            let text = format!("{MINIMAL}\n[pbx.target_options]\n{option} = \"x\"\n");
            parse(&text, &[]).unwrap_or_else(|e| panic!("{option}: {e}"));
        }
    }

    #[test]
    fn an_override_that_could_name_two_pbxs_is_refused() {
        let two = |a: &str, b: &str| {
            format!(
                "{MINIMAL}\n[[pbx]]\nname = \"{b}\"\nclient_id = \"app\"\n\
                 client_secret_env = \"B\"\ntarget = \"/srv/b\"\ncatalog = \"/srv/b.sqlite\"\n"
            )
            .replace("name = \"main\"", &format!("name = \"{a}\""))
        };
        for (a, b, variable) in [
            (
                "head-office",
                "head_office",
                "TELPHIN_PBX_HEAD_OFFICE_CONCURRENCY",
            ),
            ("main", "main_b", "TELPHIN_PBX_MAIN_B_CONCURRENCY"),
        ] {
            let error = parse(&two(a, b), &[(variable, "4")])
                .unwrap_err()
                .to_string();
            assert!(error.contains(variable), "{error}");
            assert!(error.contains(a) && error.contains(b), "{error}");
        }
        // One that names one PBX only is taken.
        let config = parse(
            &two("main", "branch"),
            &[("TELPHIN_PBX_BRANCH_CONCURRENCY", "3")],
        )
        .unwrap();
        assert_eq!(config.pbxs[1].concurrency, 3);
    }

    #[test]
    fn the_annotated_example_loads() {
        let text = include_str!("../../../deploy/telphin-records.toml");
        let config = parse(text, &[]).unwrap();
        assert_eq!(config.pbxs.len(), 2);
    }
}
