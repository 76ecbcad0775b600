//! The operator's profile of one PBX: a `[[pbx]]` table of the configuration file, in types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use record_backup::chrono_tz::Tz;
use record_backup::{NameTemplate, Reserve};
use serde::Deserialize;
use telphin_records::Scope;

use crate::config::Origin;
use crate::error::ConfigError;
use crate::secret::{self, Secret};

/// One `[[pbx]]` table — the operator's profile of a PBX: its credentials, scope, target,
/// catalog and budget, parsed once into types. Every command (`--pbx NAME`) and the service
/// read it; its secrets are read when asked for, and an error names the file, the line and
/// column, and the key.
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
    #[serde(default = "default_scope", deserialize_with = "from_text")]
    pub scope: Scope,
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
    #[serde(default, deserialize_with = "from_text")]
    pub names: NameTemplate,
    /// The time zone of the names' times (an IANA name).
    #[serde(default = "default_tz", deserialize_with = "time_zone")]
    pub tz: Tz,
    /// Replace phone numbers in names by a keyed hash (the key from `name_key_env` or
    /// `name_key_file`).
    #[serde(default)]
    pub hash_numbers: bool,
    /// The variable holding the key of `hash_numbers`.
    pub name_key_env: Option<String>,
    /// The file holding the key of `hash_numbers`.
    pub name_key_file: Option<PathBuf>,
    /// The share of the hourly rate limit left to other integrations: `N` requests or `P%`.
    #[serde(default = "default_reserve", deserialize_with = "from_text")]
    pub reserve: Reserve,
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
    /// Where it was read from, and its index among the `[[pbx]]` tables.
    #[serde(skip)]
    pub(crate) origin: (Origin, usize),
}

fn default_sync() -> bool {
    true
}

fn default_scope() -> Scope {
    Scope::client(telphin_records::ClientId::Me)
}
fn default_concurrency() -> usize {
    8
}
fn default_attempts() -> u32 {
    4
}
fn default_tz() -> Tz {
    Tz::UTC
}
fn default_reserve() -> Reserve {
    Reserve::Percent(10)
}

/// A value of a type written as text (`FromStr`): its error is the key's.
fn from_text<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// An IANA time zone.
pub(crate) fn time_zone<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
    let text = String::deserialize(deserializer)?;
    crate::config::parse_tz(&text).map_err(serde::de::Error::custom)
}

impl PbxConfig {
    /// The rate budget its `reserve` key gives (a service waits for the reset).
    pub fn budget(&self) -> record_backup::RateBudget {
        use record_backup::{RateBudget, WhenReserveReached};
        // The sync loop schedules the next sync after the reset itself.
        RateBudget::new(self.reserve, WhenReserveReached::Stop)
    }

    /// The place of `field` of this table, for errors: `pbx[0].client_secret_env`.
    fn key(&self, field: &str) -> String {
        format!("pbx[{}].{field}", self.origin.1)
    }

    /// Whose secrets these are, for messages.
    fn whose(&self) -> String {
        format!("PBX {}", self.name)
    }

    /// An unusable value of `field`, located.
    pub(crate) fn invalid(&self, field: &str, message: impl Into<String>) -> ConfigError {
        self.origin.0.invalid(&self.key(field), message)
    }

    /// The secret `name` from the variable or file the keys `{name}_env`, `{name}_file` give.
    fn secret(
        &self,
        name: &str,
        env: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Secret, ConfigError> {
        let field = if env.is_some() {
            format!("{name}_env")
        } else {
            format!("{name}_file")
        };
        secret::from_env_or_file(env, file, name).map_err(|problem| {
            self.origin
                .0
                .unreadable(&self.key(&field), &self.whose(), problem)
        })
    }

    /// The API application's id.
    pub fn client_id(&self) -> Result<String, ConfigError> {
        match (&self.client_id, &self.client_id_env) {
            (Some(id), _) => Ok(id.clone()),
            (None, Some(variable)) => secret::from_env(variable)
                .map(|id| id.expose().to_owned())
                .map_err(|problem| {
                    self.origin
                        .0
                        .unreadable(&self.key("client_id_env"), &self.whose(), problem)
                }),
            (None, None) => Err(self.invalid("client_id", "give client_id or client_id_env")),
        }
    }

    /// The credentials, read from their variables or files.
    pub fn credentials(&self) -> Result<telphin_records::Credentials, ConfigError> {
        use telphin_records::Credentials;
        let id = self.client_id()?;
        let secret = self.secret(
            "client_secret",
            self.client_secret_env.as_deref(),
            self.client_secret_file.as_deref(),
        )?;
        let password = match &self.username {
            Some(_) => Some(self.secret(
                "password",
                self.password_env.as_deref(),
                self.password_file.as_deref(),
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
        let secret = self.secret(
            "event_secret",
            self.event_secret_env.as_deref(),
            self.event_secret_file.as_deref(),
        )?;
        if secret.expose().len() < 16 {
            let field = if self.event_secret_env.is_some() {
                "event_secret_env"
            } else {
                "event_secret_file"
            };
            return Err(self.invalid(
                field,
                "the event secret must be at least 16 characters (it is all that guards the URL)",
            ));
        }
        Ok(Some(secret))
    }

    /// The key of `hash_numbers`.
    pub fn name_key(&self) -> Result<Option<Secret>, ConfigError> {
        if !self.hash_numbers {
            return Ok(None);
        }
        self.secret(
            "name_key",
            self.name_key_env.as_deref(),
            self.name_key_file.as_deref(),
        )
        .map(Some)
    }

    /// How it names objects: its template, its time zone, and its numbers hashed when
    /// `hash_numbers` says so.
    pub fn naming(&self) -> Result<record_backup::Naming, ConfigError> {
        let naming = record_backup::Naming::new(self.names.clone(), self.tz);
        Ok(match self.name_key()? {
            Some(key) => naming.hash_numbers(key.expose().as_bytes().to_vec()),
            None => naming,
        })
    }

    /// Its target, with its options (their secrets read).
    pub fn target(&self) -> Result<record_backup::Target, crate::ServiceError> {
        let options = self.target_options()?;
        record_backup::Target::from_url(
            &self.target,
            options.iter().map(|(k, v)| (k.as_str(), v.expose())),
        )
        .map_err(|source| crate::ServiceError::Archive {
            pbx: self.name.clone(),
            source,
        })
    }

    /// The target's options, those named `…_file` and `…_env` read.
    pub fn target_options(&self) -> Result<Vec<(String, Secret)>, ConfigError> {
        let mut options = Vec::new();
        for (key, value) in &self.target_options {
            let unreadable = |problem| {
                let field = self.key(&format!("target_options.{key}"));
                self.origin.0.unreadable(&field, &self.whose(), problem)
            };
            if let Some(option) = key.strip_suffix("_file") {
                let secret = secret::from_env_or_file(None, Some(Path::new(value)), option)
                    .map_err(unreadable)?;
                options.push((option.to_owned(), secret));
            } else if let Some(option) = key.strip_suffix("_env") {
                options.push((
                    option.to_owned(),
                    secret::from_env(value).map_err(unreadable)?,
                ));
            } else {
                options.push((key.clone(), Secret::new(value.clone())));
            }
        }
        Ok(options)
    }
}
