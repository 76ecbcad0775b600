//! How the client proves who it is.

use std::fmt;

use record_api::{Grant, Secret, TokenRequest};

/// The credentials of a client. Every secret in them prints as `[redacted]`.
///
/// ```
/// use telphin_records::Credentials;
///
/// let credentials = Credentials::client_credentials("app-id", "app-secret");
/// assert!(!format!("{credentials:?}").contains("app-secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A trusted app's own id and secret (`client_credentials` grant).
    ClientCredentials {
        /// The app's `client_id`.
        client_id: String,
        /// The app's `client_secret`.
        client_secret: Secret,
    },
    /// An app acting for a PBX user (`password` grant); the refresh token it issues is used to
    /// renew the access token.
    Password {
        /// The app's `client_id`.
        client_id: String,
        /// The app's `client_secret`.
        client_secret: Secret,
        /// The PBX user name.
        username: String,
        /// The PBX password.
        password: Secret,
    },
    /// A ready access token, e.g. issued by another service. It is never renewed: a 401 is
    /// returned as it is.
    AccessToken(Secret),
    /// The PBX login itself, sent as HTTP Basic. It works for record file downloads only.
    PbxLogin {
        /// The PBX user name.
        username: String,
        /// The PBX password.
        password: Secret,
    },
}

impl Credentials {
    /// An app's own credentials.
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Credentials::ClientCredentials {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret.into()),
        }
    }

    /// An app acting for a PBX user.
    pub fn password(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Credentials::Password {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret.into()),
            username: username.into(),
            password: Secret::new(password.into()),
        }
    }

    /// A fixed access token.
    pub fn access_token(token: impl Into<String>) -> Self {
        Credentials::AccessToken(Secret::new(token.into()))
    }

    /// The PBX login, for Basic-authenticated file downloads.
    pub fn pbx_login(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::PbxLogin {
            username: username.into(),
            password: Secret::new(password.into()),
        }
    }

    /// The token request of the primary grant, or `None` when no token is ever fetched.
    /// Refuses credentials that cannot work: an empty id, secret, user name or token, or a PBX
    /// user name with a `:` (Basic authentication could not tell it from the password).
    pub(crate) fn check(&self) -> Result<(), record_api::Error> {
        let refuse = |what: &str| Err(record_api::Error::Config(what.to_owned()));
        let empty = |text: &str| text.trim().is_empty();
        match self {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            }
            | Credentials::Password {
                client_id,
                client_secret,
                ..
            } if empty(client_id) || empty(client_secret.expose()) => {
                refuse("the client id and client secret of the API application must not be empty")
            }
            Credentials::Password { username, .. } if empty(username) => {
                refuse("the PBX user name of the password grant must not be empty")
            }
            Credentials::AccessToken(token) if empty(token.expose()) => {
                refuse("the access token must not be empty")
            }
            Credentials::PbxLogin { username, .. } if empty(username) || username.contains(':') => {
                refuse(
                    "the PBX login must be a non-empty user name without ':' (Basic authentication joins it to the password with ':')",
                )
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn grant_request(&self) -> Option<TokenRequest> {
        match self {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => Some(TokenRequest::new(
                client_id.clone(),
                client_secret.clone(),
                Grant::ClientCredentials,
            )),
            Credentials::Password {
                client_id,
                client_secret,
                username,
                password,
            } => Some(TokenRequest::new(
                client_id.clone(),
                client_secret.clone(),
                Grant::Password {
                    username: username.clone(),
                    password: password.clone(),
                },
            )),
            Credentials::AccessToken(_) | Credentials::PbxLogin { .. } => None,
        }
    }

    /// The token request that renews with `refresh_token`, when these credentials have an app.
    pub(crate) fn refresh_request(&self, refresh_token: &Secret) -> Option<TokenRequest> {
        match self {
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            }
            | Credentials::Password {
                client_id,
                client_secret,
                ..
            } => Some(TokenRequest::new(
                client_id.clone(),
                client_secret.clone(),
                Grant::RefreshToken(refresh_token.clone()),
            )),
            _ => None,
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
            Credentials::Password {
                client_id,
                username,
                ..
            } => f
                .debug_struct("Password")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
            Credentials::AccessToken(_) => f.write_str("AccessToken([redacted])"),
            Credentials::PbxLogin { username, .. } => f
                .debug_struct("PbxLogin")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}
