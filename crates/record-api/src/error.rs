//! The one error type of the SDK.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use record_model::{RateLimit, ValidationError};
use thiserror::Error;

use crate::TransportError;

/// Everything that can go wrong with a call.
///
/// ```
/// use record_api::Error;
/// fn report(err: &Error) {
///     if err.is_not_found() {
///         eprintln!("already gone");
///     } else if let Some(status) = err.status() {
///         eprintln!("HTTP {status}: {err}");
///     }
/// }
/// ```
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Input the API would refuse, caught before sending anything.
    #[error("invalid input: {0}")]
    InvalidInput(#[from] ValidationError),
    /// The client's configuration cannot work (e.g. a base URL that is not a URL).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Plain `http://` to a host other than loopback, without the caller's leave: credentials
    /// and tokens would cross the network unencrypted.
    #[error(
        "refusing plain http to {base_url}: credentials and tokens would travel unencrypted; use \
         https, or allow plain http (ClientBuilder::allow_insecure_http) on a trusted network"
    )]
    PlainHttpRefused {
        /// The base URL, without user info.
        base_url: String,
    },
    /// No complete HTTP response arrived.
    #[error("transport error: {0}")]
    Transport(#[source] TransportError),
    /// The token is missing, expired or refused (401), or the token endpoint refused the
    /// credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<ApiError>),
    /// The credentials have no right to this resource (403); see [`ApiError::code`], e.g.
    /// `app_access_type_deny` for an app registered with "Call API" access only.
    #[error("forbidden: {0}")]
    Forbidden(Box<ApiError>),
    /// The resource does not exist (404).
    #[error("not found: {0}")]
    NotFound(Box<ApiError>),
    /// A limit was hit (429); try again after `reset_after` when it is known.
    #[error("rate limited ({kind}){}: {error}", retry_hint(.reset_after))]
    RateLimited {
        /// Which limit.
        kind: RateLimitKind,
        /// When the limit resets, from the `X-RateLimit-Reset` header.
        reset_after: Option<Duration>,
        /// The answer itself.
        error: Box<ApiError>,
    },
    /// Any other non-success answer.
    #[error("API error: {0}")]
    Api(Box<ApiError>),
    /// A success answer whose body could not be read.
    #[error("could not decode the {what}: {source}{}", snippet_suffix(.snippet))]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
        /// The start of the body, unless the body may hold a secret.
        snippet: Option<String>,
    },
    /// A download's size did not match what the server announced.
    #[error(
        "incomplete download: expected {expected} bytes ({source_of_size}), received {received}"
    )]
    SizeMismatch {
        /// The announced size.
        expected: u64,
        /// Who announced it: `Content-Length` or `record_file_size`.
        source_of_size: &'static str,
        /// The bytes actually received.
        received: u64,
    },
    /// Writing a download to its destination failed.
    #[error("could not write the download: {0}")]
    Sink(#[source] std::io::Error),
    /// One record of a list could not be decoded; the records around it were. A record stream
    /// goes on after it.
    #[error("could not decode the record {}: {source}", uuid_or_unknown(.record_uuid))]
    UndecodableRecord {
        /// Its `record_uuid`, when the record had a readable one.
        record_uuid: Option<String>,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A window listed fewer (or more) records than its statistics count, even when split down
    /// to one second and checked again: the server holds records the listing cannot reach.
    #[error(
        "incomplete listing of {} .. {}: {listed} records listed, the statistics count {expected}",
        .window.start_datetime(),
        .window.end_datetime()
    )]
    IncompleteListing {
        /// The window that disagreed.
        window: record_model::QueryWindow,
        /// How many records its list held.
        listed: u64,
        /// How many its statistics counted.
        expected: u64,
    },
}

fn uuid_or_unknown(record_uuid: &Option<String>) -> String {
    match record_uuid {
        Some(uuid) => format!("{:?}", record_model::quote_prefix(uuid)),
        None => "without a readable record_uuid".to_owned(),
    }
}

fn retry_hint(reset_after: &Option<Duration>) -> String {
    match reset_after {
        Some(after) => format!(", resets in {} s", after.as_secs()),
        None => String::new(),
    }
}

fn snippet_suffix(snippet: &Option<String>) -> String {
    match snippet {
        Some(snippet) => format!("; body starts with {snippet:?}"),
        None => String::new(),
    }
}

/// Which limit a 429 reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitKind {
    /// The hourly request limit of the client is spent (`rate_limit_exceeded`).
    Hourly,
    /// Another statistics request of the same client is still running.
    ConcurrentStats,
    /// A new archive cannot be requested before the previous one is downloaded or an hour passes.
    Archive,
    /// A 429 of a kind this version does not know.
    Other,
}

impl fmt::Display for RateLimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RateLimitKind::Hourly => "hourly request limit spent",
            RateLimitKind::ConcurrentStats => "another statistics request is running",
            RateLimitKind::Archive => "the previous archive was not downloaded yet",
            RateLimitKind::Other => "too many requests",
        })
    }
}

/// A non-success HTTP answer, as much of it as could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body's `status` code (e.g. `access_denied`), or the OAuth `error` code; at most
    /// [`SNIPPET_LIMIT`] bytes.
    pub code: Option<String>,
    /// The body's `message`, or the OAuth `error_description`; at most [`SNIPPET_LIMIT`] bytes.
    pub message: Option<String>,
    /// The rate-limit headers of the answer.
    pub rate_limit: RateLimit,
    /// The start of the body (at most [`SNIPPET_LIMIT`] bytes) when it was not the API's JSON
    /// shape, e.g. an HTML page from a proxy.
    pub body_snippet: Option<String>,
}

/// The most bytes of a body that an error message quotes.
pub const SNIPPET_LIMIT: usize = 256;

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        if let Some(message) = &self.message {
            write!(f, " {message}")?;
        }
        if let Some(snippet) = &self.body_snippet {
            write!(f, " (body starts with {snippet:?})")?;
        }
        Ok(())
    }
}

impl Error {
    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<StatusCode> {
        self.api_error().map(|e| e.status)
    }

    /// The answer's details, when the error is an HTTP answer.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Unauthorized(e) | Error::Forbidden(e) | Error::NotFound(e) | Error::Api(e) => {
                Some(e)
            }
            Error::RateLimited { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The rate-limit headers of the answer, when there was one.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.api_error().map(|e| e.rate_limit)
    }

    /// Whether the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether trying again later may succeed: 5xx, 429 and transport failures.
    ///
    /// Whether it is *safe* to try again also depends on the request; [`crate::RetryPolicy`]
    /// decides both.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_) | Error::RateLimited { .. } => true,
            Error::Api(e) => e.status.is_server_error(),
            _ => false,
        }
    }
}

/// What replaces a secret in an error message.
pub const REDACTED: &str = "[redacted]";

impl Error {
    /// Replaces every occurrence of each of `secrets` in the texts the server sent back (code,
    /// message, body snippet) with `[redacted]`: a server that echoes the token, the client
    /// secret, a password or a storage link must not put it in `Display`, `Debug` or a log.
    /// Secrets shorter than 4 bytes are ignored (they would redact ordinary words).
    ///
    /// ```
    /// # use record_api::{error_for_status, http};
    /// let body = br#"{"message": "token s3cr3t-t0ken is expired"}"#;
    /// let error = error_for_status(http::StatusCode::UNAUTHORIZED, &http::HeaderMap::new(), body)
    ///     .unwrap()
    ///     .redact(&["s3cr3t-t0ken"]);
    /// assert_eq!(error.to_string(), "unauthorized: HTTP 401 Unauthorized token [redacted] is expired");
    /// ```
    pub fn redact(mut self, secrets: &[&str]) -> Self {
        let secrets: Vec<&str> = secrets.iter().copied().filter(|s| s.len() >= 4).collect();
        if secrets.is_empty() {
            return self;
        }
        let scrub = |text: &mut String| {
            for secret in &secrets {
                if text.contains(secret) {
                    *text = text.replace(secret, REDACTED);
                }
            }
        };
        match &mut self {
            Error::Unauthorized(e) | Error::Forbidden(e) | Error::NotFound(e) | Error::Api(e) => {
                e.scrub(scrub)
            }
            Error::RateLimited { error, .. } => error.scrub(scrub),
            Error::Decode {
                snippet: Some(text),
                ..
            } => scrub(text),
            _ => {}
        }
        self
    }
}

impl ApiError {
    fn scrub(&mut self, mut scrub: impl FnMut(&mut String)) {
        for text in [&mut self.code, &mut self.message, &mut self.body_snippet]
            .into_iter()
            .flatten()
        {
            scrub(text);
        }
    }
}

impl From<TransportError> for Error {
    fn from(err: TransportError) -> Self {
        Error::Transport(err)
    }
}
