//! What every command's handler gets: the global options and the settings, and the ways to
//! the API, the scope and the output they imply.

use std::path::PathBuf;

use telphin_records::{ClientId, ExtensionGroupId, ExtensionId, Scope, Secret};

use crate::cli::{CatalogArgs, Global, StoreArgs};
use crate::exit::Failure;
use crate::settings::{self, Api, Settings};

/// The context of one command.
pub struct Context {
    pub global: Global,
    pub settings: Settings,
}

/// Where a command's archive is: its target (with the profile's options), and its catalog.
pub struct Store {
    /// A directory, or a URL such as s3://bucket/prefix.
    pub target: String,
    /// The target's options (the profile's, their secrets read).
    pub options: Vec<(String, Secret)>,
    /// The catalog's SQLite file.
    pub catalog: PathBuf,
}

impl Context {
    /// The context of `global` and `settings`: the time zone in force is --tz, else the
    /// profile's, else UTC.
    pub fn new(mut global: Global, settings: Settings) -> Context {
        global.tz = global
            .tz_flag
            .or_else(|| settings.profile().map(|profile| profile.tz))
            .unwrap_or(chrono_tz::Tz::UTC);
        Context { global, settings }
    }

    /// The target and catalog: --to and --catalog (or their variables), else the profile's.
    pub fn store(&self, args: &StoreArgs) -> Result<Store, Failure> {
        let catalog = self.catalog(&args.catalog);
        match (&args.to, self.settings.profile()) {
            (Some(to), _) => Ok(Store {
                target: to.clone(),
                options: Vec::new(),
                catalog,
            }),
            (None, Some(profile)) => Ok(Store {
                target: profile.target.clone(),
                options: profile
                    .target_options()
                    .map_err(|error| Failure::usage(error.to_string()))?,
                catalog,
            }),
            (None, None) => Err(Failure::usage(
                "give the backup target: --to DIR|URL (or TELPHIN_BACKUP_TARGET), or \
                 --config FILE.toml whose [[pbx]] names it",
            )),
        }
    }

    /// The catalog: --catalog (or TELPHIN_CATALOG), else the profile's, else
    /// telphin-records.sqlite.
    pub fn catalog(&self, args: &CatalogArgs) -> PathBuf {
        args.file
            .clone()
            .or_else(|| self.settings.profile().map(|p| p.catalog.clone()))
            .unwrap_or_else(|| PathBuf::from("telphin-records.sqlite"))
    }

    /// Connects to the API (or starts the sandbox).
    pub async fn api(&self) -> Result<Api, Failure> {
        settings::connect(&self.global, &self.settings, true).await
    }

    /// The API for a command that makes no request (verify): no credentials needed.
    pub async fn api_without_requests(&self) -> Result<Api, Failure> {
        settings::connect(&self.global, &self.settings, false).await
    }

    /// Who acts, for the audit log: `--operator`, else TELPHIN_OPERATOR, else the login name.
    pub fn operator(&self, flag: Option<&str>) -> String {
        flag.map(str::to_owned)
            .or_else(|| self.settings.get("TELPHIN_OPERATOR").map(str::to_owned))
            .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
            .unwrap_or_else(|| record_backup::DEFAULT_OPERATOR.to_owned())
    }

    /// The scope of the `--client`, `--group` and `--extension` flags, else the profile's,
    /// else the whole PBX (`@me`).
    pub fn scope(&self) -> Result<Scope, Failure> {
        let global = &self.global;
        if let Some(extension) = global.extension {
            return Ok(Scope::Extension(ExtensionId::new(extension)));
        }
        if let Some(group) = global.group {
            return Ok(Scope::ExtensionGroup(ExtensionGroupId::new(group)));
        }
        if global.client.is_none()
            && let Some(profile) = self.settings.profile()
        {
            return Ok(profile.scope);
        }
        Ok(Scope::client(self.client()?))
    }

    /// Whether `--group` or `--extension` narrows the scope.
    pub fn narrowed(&self) -> bool {
        self.global.group.is_some() || self.global.extension.is_some()
    }

    /// The `ClientId` for client-level commands.
    pub fn client_id(&self) -> Result<ClientId, Failure> {
        if self.narrowed() {
            return Err(Failure::usage(
                "this command works at the client level only",
            ));
        }
        self.client()
    }

    fn client(&self) -> Result<ClientId, Failure> {
        if self.global.client.is_none()
            && let Some(Scope::Client(id)) = self.settings.profile().map(|p| p.scope)
        {
            return Ok(id);
        }
        let text = self.global.client.as_deref().unwrap_or("@me");
        text.parse()
            .map_err(|_| Failure::usage(format!("--client {text}: a number or @me")))
    }
}
