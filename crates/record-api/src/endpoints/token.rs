//! `POST /oauth/token`: the three grants of spec §4.1, and token freshness.

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{Endpoint, check_status};
use crate::response::decode_json;
use crate::{ApiRequest, AuthKind, Body, Error, FormValue, Method, Root, Secret};

/// How a token is obtained.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Grant {
    /// A trusted app's own credentials (`client_credentials`); no refresh token is issued.
    ClientCredentials,
    /// A PBX user's login (`password`); a refresh token is issued.
    Password {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A refresh token from an earlier answer (`refresh_token`).
    RefreshToken(Secret),
}

/// A request for an access token. The app's `client_id` and `client_secret` go in the form
/// body, never in a header or the query.
///
/// ```
/// use record_api::{Endpoint, Grant, Secret, TokenRequest};
///
/// let request = TokenRequest::new("app-id", Secret::new("app-secret"), Grant::ClientCredentials);
/// let described = format!("{:?}", request.request());
/// assert!(!described.contains("app-secret"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenRequest {
    client_id: String,
    client_secret: Secret,
    grant: Grant,
}

impl TokenRequest {
    /// A token for the app `client_id` by `grant`.
    pub fn new(client_id: impl Into<String>, client_secret: Secret, grant: Grant) -> Self {
        TokenRequest {
            client_id: client_id.into(),
            client_secret,
            grant,
        }
    }
}

impl Endpoint for TokenRequest {
    type Output = Token;

    fn request(&self) -> ApiRequest {
        let plain = |name: &str, value: &str| (name.to_owned(), FormValue::Plain(value.to_owned()));
        let secret =
            |name: &str, value: &Secret| (name.to_owned(), FormValue::Secret(value.clone()));
        let mut form = Vec::with_capacity(5);
        let (operation, grant_type) = match &self.grant {
            Grant::ClientCredentials => ("token_client_credentials", "client_credentials"),
            Grant::Password { .. } => ("token_password", "password"),
            Grant::RefreshToken(_) => ("token_refresh", "refresh_token"),
        };
        form.push(plain("grant_type", grant_type));
        form.push(plain("client_id", &self.client_id));
        form.push(secret("client_secret", &self.client_secret));
        match &self.grant {
            Grant::ClientCredentials => {}
            Grant::Password { username, password } => {
                form.push(plain("username", username));
                form.push(secret("password", password));
            }
            Grant::RefreshToken(token) => form.push(secret("refresh_token", token)),
        }
        let mut request = ApiRequest::api(
            operation,
            Method::Post,
            vec!["oauth".to_owned(), "token".to_owned()],
        );
        request.root = Root::Host;
        request.trailing_slash = false;
        request.auth = AuthKind::None;
        request.body = Body::Form(form);
        // Asking twice only issues two tokens: safe to repeat.
        request.idempotent = true;
        request.sensitive_response = true;
        request
    }

    fn decode(&self, response: &http::Response<Vec<u8>>) -> Result<Token, Error> {
        check_status(response)?;
        decode_json("token", response.body(), true)
    }
}

/// An access token as the token endpoint issues it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Token {
    /// The bearer token.
    pub access_token: Secret,
    /// The token type, `Bearer`.
    #[serde(default = "bearer")]
    pub token_type: String,
    /// Seconds the token lives; sometimes absent.
    #[serde(default)]
    pub expires_in: Option<u64>,
    /// A refresh token, for the `password` and `refresh_token` grants.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

impl Token {
    /// Whether a token obtained at `obtained_at` is still good at `now`, keeping `margin` in
    /// hand so that it does not expire on its way to the server. The margin is capped at a
    /// quarter of the token's lifetime, so a short-lived token is still used for most of its
    /// life rather than fetched anew for every call.
    ///
    /// A token without `expires_in` counts as fresh: the server's 401 then tells when it is not,
    /// and the client fetches a new one and replays the call once.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # let token: record_api::Token = serde_json::from_str(r#"{"access_token": "t", "expires_in": 3600}"#).unwrap();
    /// let got = Instant::now();
    /// let margin = Duration::from_secs(60);
    /// assert!(token.is_fresh(got, got + Duration::from_secs(3500), margin));
    /// assert!(!token.is_fresh(got, got + Duration::from_secs(3541), margin));
    /// ```
    pub fn is_fresh(&self, obtained_at: Instant, now: Instant, margin: Duration) -> bool {
        match self.expires_in {
            None => true,
            Some(seconds) => {
                let lifetime = Duration::from_secs(seconds);
                let margin = margin.min(lifetime / 4);
                let age = now.saturating_duration_since(obtained_at);
                age.saturating_add(margin) < lifetime
            }
        }
    }
}
