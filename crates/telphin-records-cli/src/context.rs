//! What every command's handler gets: the global options and the settings, and the ways to
//! the API, the scope and the output they imply.

use telphin_records::{ClientId, ExtensionGroupId, ExtensionId, Scope};

use crate::cli::Global;
use crate::exit::Failure;
use crate::settings::{self, Api, Settings};

/// The context of one command.
pub struct Context {
    pub global: Global,
    pub settings: Settings,
}

impl Context {
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

    /// The scope of the `--client`, `--group` and `--extension` flags.
    pub fn scope(&self) -> Result<Scope, Failure> {
        let global = &self.global;
        if let Some(extension) = global.extension {
            return Ok(Scope::Extension(ExtensionId::new(extension)));
        }
        if let Some(group) = global.group {
            return Ok(Scope::ExtensionGroup(ExtensionGroupId::new(group)));
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
        let text = &self.global.client;
        text.parse()
            .map_err(|_| Failure::usage(format!("--client {text}: a number or @me")))
    }
}
