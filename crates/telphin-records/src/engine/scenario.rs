//! The shared setting of the engine's unit tests: a client's configuration, a record, answers
//! and failures as the engine meets them, tokens. Each engine module's tests build their
//! scenario from these.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test fixtures fail loudly by design

use record_api::{
    Authorization, Error, Secret, TransportError, TransportErrorKind, error_for_status, http,
};
use record_model::RecordUuid;

use super::tokens::Authorized;
use crate::core::Core;

/// The client secret of [`core`], which no error may show.
pub(crate) const SECRET: &str = "app-s3cret";

/// A client-credentials configuration against a loopback address nothing listens on.
pub(crate) fn core() -> Core {
    let credentials = crate::Credentials::client_credentials("id", SECRET);
    let builder = crate::ClientBuilder::new(credentials).base_url("http://127.0.0.1:9");
    builder.core().unwrap()
}

/// A record id.
pub(crate) fn uuid() -> RecordUuid {
    "30-624835FEEE0E11E6A19D331E4D6A0606".parse().unwrap()
}

/// The bearer `token`, as the token cache's generation `generation` hands it out.
pub(crate) fn bearer(token: &str, generation: u64) -> Authorized {
    Authorized {
        authorization: Authorization::Bearer(Secret::new(token)),
        generation,
    }
}

/// A whole answer of `status` with `body` and 41 requests left.
pub(crate) fn response(status: u16, body: &str) -> Result<http::Response<Vec<u8>>, TransportError> {
    Ok(http::Response::builder()
        .status(status)
        .header("x-ratelimit-remaining", "41")
        .body(body.as_bytes().to_vec())
        .unwrap())
}

/// A success head announcing `length` bytes.
pub(crate) fn ok_head(length: u64) -> Result<http::response::Parts, TransportError> {
    let (parts, ()) = http::Response::builder()
        .status(200)
        .header("content-length", length)
        .body(())
        .unwrap()
        .into_parts();
    Ok(parts)
}

/// A connection that broke after the request may have been sent.
pub(crate) fn broken() -> TransportError {
    TransportError::new(TransportErrorKind::Io, true)
}

/// A 401 without a body.
pub(crate) fn unauthorized() -> Error {
    error_for_status(http::StatusCode::UNAUTHORIZED, &http::HeaderMap::new(), b"")
        .expect("401 is an error")
}
