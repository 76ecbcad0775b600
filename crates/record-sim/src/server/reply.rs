//! Answers, before the common headers, compression and counting are applied.

use axum::body::Body;
use http::StatusCode;
use serde_json::{Value, json};

/// An answer of a route handler.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(http::HeaderName, String)>,
    pub(crate) body: ReplyBody,
}

pub(crate) enum ReplyBody {
    Empty,
    Json(Value),
    /// A list answer written before (gzip-compressed once, when first asked for).
    Cached(std::sync::Arc<crate::state::CachedList>),
    /// JSON written as it is sent, chunk by chunk.
    JsonStream(futures_util::stream::BoxStream<'static, bytes::Bytes>),
    /// A file or archive stream, with its `Content-Type` and `Content-Length` (if known).
    Stream {
        body: Body,
        content_type: &'static str,
        length: Option<u64>,
    },
}

impl Reply {
    pub(crate) fn json(status: StatusCode, value: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(value),
        }
    }

    pub(crate) fn json_stream(
        chunks: impl futures_util::Stream<Item = bytes::Bytes> + Send + 'static,
    ) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::JsonStream(Box::pin(chunks)),
        }
    }

    pub(crate) fn cached_json(list: std::sync::Arc<crate::state::CachedList>) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Cached(list),
        }
    }

    pub(crate) fn empty(status: StatusCode) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Empty,
        }
    }

    /// The API's error shape: `{"status": code, "message": message}` (no `status` when `None`).
    pub(crate) fn error(status: StatusCode, code: Option<&str>, message: &str) -> Reply {
        let body = match code {
            Some(code) => json!({"status": code, "message": message}),
            None => json!({"message": message}),
        };
        Reply::json(status, body)
    }

    /// The OAuth error shape of the token route.
    pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            json!({"error": error, "error_description": description}),
        )
    }

    pub(crate) fn bad_request(code: &str, message: &str) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, Some(code), message)
    }

    pub(crate) fn record_not_found() -> Reply {
        Reply::error(StatusCode::NOT_FOUND, None, "Record not found")
    }

    pub(crate) fn with_header(mut self, name: http::HeaderName, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}
