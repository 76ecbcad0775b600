//! Reading answers: rate-limit headers, error bodies, JSON bodies.

use http::{HeaderMap, StatusCode};
use record_model::RateLimit;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, RateLimitKind, SNIPPET_LIMIT};

/// The `X-RateLimit-*` headers of any answer; missing or unreadable headers are `None`.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-ratelimit-remaining", "41".parse().unwrap());
/// assert_eq!(record_api::rate_limit_of(&headers).remaining, Some(41));
/// ```
pub fn rate_limit_of(headers: &HeaderMap) -> RateLimit {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    RateLimit::from_header_values(
        value("x-ratelimit-limit"),
        value("x-ratelimit-remaining"),
        value("x-ratelimit-reset"),
    )
}

/// Turns a non-success answer into the matching [`Error`]; `None` for a success status.
///
/// The body is read leniently: the API's `{"status", "message"}`, the OAuth
/// `{"error", "error_description"}`, empty, or anything else (quoted as a capped snippet).
pub fn error_for_status(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<Error> {
    if status.is_success() {
        return None;
    }
    let rate_limit = rate_limit_of(headers);
    let (code, message, body_snippet) = read_error_body(body);
    let error = Box::new(ApiError {
        status,
        code,
        message,
        rate_limit,
        body_snippet,
    });
    Some(match status {
        StatusCode::UNAUTHORIZED => Error::Unauthorized(error),
        StatusCode::FORBIDDEN => Error::Forbidden(error),
        StatusCode::NOT_FOUND => Error::NotFound(error),
        StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
            kind: rate_limit_kind(&error),
            reset_after: rate_limit.reset_after,
            error,
        },
        // The token endpoint answers bad credentials with 400 and the OAuth shape.
        StatusCode::BAD_REQUEST
            if matches!(
                error.code.as_deref(),
                Some("invalid_grant" | "invalid_client")
            ) =>
        {
            Error::Unauthorized(error)
        }
        _ => Error::Api(error),
    })
}

fn rate_limit_kind(error: &ApiError) -> RateLimitKind {
    let message = error.message.as_deref().unwrap_or("").to_ascii_lowercase();
    match error.code.as_deref() {
        Some("rate_limit_exceeded") => RateLimitKind::Hourly,
        Some("archive_not_downloaded") => RateLimitKind::Archive,
        _ if message.contains("stats") && message.contains("concurrent") => {
            RateLimitKind::ConcurrentStats
        }
        _ => RateLimitKind::Other,
    }
}

/// Reads `(code, message, snippet)` from an error body of any shape.
fn read_error_body(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    if body.iter().all(u8::is_ascii_whitespace) {
        return (None, None, None);
    }
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) {
        let text = |key: &str| {
            object
                .get(key)
                .and_then(|v| v.as_str())
                .map(|v| snippet(v.as_bytes()))
        };
        let code = text("status").or_else(|| text("error"));
        let message = text("message").or_else(|| text("error_description"));
        if code.is_some() || message.is_some() {
            return (code, message, None);
        }
    }
    (None, None, Some(snippet(body)))
}

/// The start of a body, at most [`SNIPPET_LIMIT`] bytes, cut at a character boundary.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_LIMIT)]);
    let mut text = text.into_owned();
    if body.len() > SNIPPET_LIMIT {
        text.push('…');
    }
    text
}

/// Decodes a success body as JSON; on failure the error quotes the body unless `sensitive`.
pub(crate) fn decode_json<T: DeserializeOwned>(
    what: &'static str,
    body: &[u8],
    sensitive: bool,
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|source| {
        if sensitive {
            // serde_json quotes offending values in its messages; a token or a storage link
            // must not reach an error, so only the position is kept.
            let position = format!(
                "{:?} error at line {} column {}",
                source.classify(),
                source.line(),
                source.column()
            );
            Error::Decode {
                what,
                source: <serde_json::Error as serde::de::Error>::custom(position),
                snippet: None,
            }
        } else {
            Error::Decode {
                what,
                source: bounded(source),
                snippet: Some(snippet(body)),
            }
        }
    })
}

/// The longest decoder message an error keeps: serde quotes whole offending strings.
const DECODE_MESSAGE_LIMIT: usize = 512;

/// `source` itself, or a copy of its message cut to [`DECODE_MESSAGE_LIMIT`] bytes with its
/// position, when the message quotes a huge value.
pub(crate) fn bounded(source: serde_json::Error) -> serde_json::Error {
    let message = source.to_string();
    if message.len() <= DECODE_MESSAGE_LIMIT {
        return source;
    }
    let mut cut = DECODE_MESSAGE_LIMIT;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    <serde_json::Error as serde::de::Error>::custom(format!(
        "{}… ({} bytes in all) at line {} column {}",
        &message[..cut],
        message.len(),
        source.line(),
        source.column()
    ))
}
