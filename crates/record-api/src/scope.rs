//! Whose records a request is about: a client, an extension group or an extension.

use std::fmt;

use record_model::{ClientId, ExtensionGroupId, ExtensionId};
use serde::Serialize;

/// The level of a record request (spec §1): the `{scope}` part of its path.
///
/// ```
/// use record_api::Scope;
/// use record_model::{ClientId, ExtensionId};
///
/// assert_eq!(Scope::client(ClientId::Me).path_segments(), ["client", "@me"]);
/// assert_eq!(Scope::extension(ExtensionId::new(204)).path_segments(), ["extension", "204"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "level", content = "id")]
#[non_exhaustive]
pub enum Scope {
    /// The whole PBX of a client (`client/{client_id}`), `@me` allowed.
    Client(ClientId),
    /// All extensions of a group (`extension_group/{extension_group_id}`).
    ExtensionGroup(ExtensionGroupId),
    /// One extension (`extension/{extension_id}`).
    Extension(ExtensionId),
}

impl Scope {
    /// The client level.
    pub fn client(id: impl Into<ClientId>) -> Self {
        Scope::Client(id.into())
    }

    /// The extension-group level.
    pub fn extension_group(id: impl Into<ExtensionGroupId>) -> Self {
        Scope::ExtensionGroup(id.into())
    }

    /// The extension level.
    pub fn extension(id: impl Into<ExtensionId>) -> Self {
        Scope::Extension(id.into())
    }

    /// The level's name as it appears in paths: `client`, `extension_group` or `extension`.
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Client(_) => "client",
            Scope::ExtensionGroup(_) => "extension_group",
            Scope::Extension(_) => "extension",
        }
    }

    /// The two path segments of the scope, unencoded.
    pub fn path_segments(&self) -> [String; 2] {
        let id = match self {
            Scope::Client(id) => id.to_string(),
            Scope::ExtensionGroup(id) => id.to_string(),
            Scope::Extension(id) => id.to_string(),
        };
        [self.kind().to_owned(), id]
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [kind, id] = self.path_segments();
        write!(f, "{kind}/{id}")
    }
}

/// The scope as operators write it: `client` (yours, `@me`), `client:ID`, `group:ID` or
/// `extension:ID` — the one parser of the configuration file and the commands.
///
/// ```
/// use record_api::Scope;
/// use record_model::{ClientId, ExtensionGroupId};
///
/// assert_eq!("client".parse::<Scope>()?, Scope::client(ClientId::Me));
/// assert_eq!("group:12".parse::<Scope>()?, Scope::extension_group(ExtensionGroupId::new(12)));
/// assert!("team:4".parse::<Scope>().is_err());
/// # Ok::<(), record_api::ScopeParseError>(())
/// ```
impl std::str::FromStr for Scope {
    type Err = ScopeParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let fail = |why: &str| ScopeParseError {
            text: record_model::quote_prefix(text),
            why: why.to_owned(),
        };
        let id = |value: &str| {
            value
                .parse::<u64>()
                .map_err(|_| fail(&format!("{value:?} is not a numeric id")))
        };
        match text.split_once(':') {
            None if text == "client" => Ok(Scope::client(ClientId::Me)),
            Some(("client", "@me")) => Ok(Scope::client(ClientId::Me)),
            Some(("client", value)) => Ok(Scope::client(ClientId::Id(id(value)?))),
            Some(("group", value)) => Ok(Scope::extension_group(ExtensionGroupId::new(id(value)?))),
            Some(("extension", value)) => Ok(Scope::extension(ExtensionId::new(id(value)?))),
            _ => Err(fail("write client, client:ID, group:ID or extension:ID")),
        }
    }
}

/// A scope that is not `client`, `client:ID`, `group:ID` or `extension:ID`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: {why}")]
pub struct ScopeParseError {
    text: String,
    why: String,
}
