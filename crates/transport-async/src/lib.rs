//! An [`AsyncTransport`] built on [reqwest](https://docs.rs/reqwest).
//!
//! ```no_run
//! use std::time::Duration;
//! use record_api::AsyncTransport;
//! use transport_async::ReqwestTransport;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let transport = ReqwestTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))?;
//! let request = record_api::http::Request::get("http://127.0.0.1:8080/oauth/token").body(Vec::new())?;
//! let response = transport.send(request).await?;
//! println!("{}", response.status());
//! # Ok(()) }
//! ```
//!
//! The client it builds follows no redirects, decodes gzip, and has a connect timeout and a
//! per-read timeout but no total deadline, so a long download is never cut off while data keeps
//! arriving. [`ReqwestTransport::from_client`] takes a client of your own (proxies, custom
//! roots); configure it the same way.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use bytes::Bytes;
use record_api::{AsyncBody, AsyncTransport, TransportError, TransportErrorKind, http};

/// The largest body [`AsyncTransport::send`] buffers; streaming has no limit.
pub const BUFFERED_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// A transport over a `reqwest::Client`.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport with a 10 s connect timeout and a 60 s per-read timeout.
    pub fn new() -> Result<Self, TransportError> {
        ReqwestTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))
    }

    /// A transport with these timeouts: `connect` for opening a connection, `read` for each
    /// read on it.
    pub fn with_timeouts(connect: Duration, read: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect)
            .read_timeout(read)
            .gzip(true)
            .build()
            .map_err(|e| {
                TransportError::new(TransportErrorKind::Other, false).with_source(e.without_url())
            })?;
        Ok(ReqwestTransport { client })
    }

    /// A transport over a client you configured. It should not follow redirects
    /// (`redirect::Policy::none()`), and should use `read_timeout` rather than `timeout`.
    pub fn from_client(client: reqwest::Client) -> Self {
        ReqwestTransport { client }
    }

    async fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<reqwest::Response, TransportError> {
        let request = reqwest::Request::try_from(request).map_err(transport_error)?;
        self.client.execute(request).await.map_err(transport_error)
    }
}

/// Maps a reqwest error without its URL: a storage link is a secret and must not reach logs.
fn transport_error(error: reqwest::Error) -> TransportError {
    let (kind, sent) = if error.is_builder() {
        (TransportErrorKind::Request, false)
    } else if error.is_connect() {
        let kind = if error.is_timeout() {
            TransportErrorKind::Timeout
        } else {
            TransportErrorKind::Connect
        };
        (kind, false)
    } else if error.is_timeout() {
        (TransportErrorKind::Timeout, true)
    } else if error.is_body() || error.is_decode() || error.is_request() {
        (TransportErrorKind::Io, true)
    } else {
        (TransportErrorKind::Other, true)
    };
    TransportError::new(kind, sent).with_source(error.without_url())
}

fn into_parts(response: &reqwest::Response) -> http::response::Parts {
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers().clone();
    }
    // A builder with only a valid status and headers always builds.
    let (parts, ()) = builder
        .body(())
        .unwrap_or_else(|_| http::Response::new(()))
        .into_parts();
    parts
}

#[async_trait::async_trait]
impl AsyncTransport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let mut response = self.execute(request).await?;
        let parts = into_parts(&response);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > BUFFERED_BODY_LIMIT {
                return Err(TransportError::new(TransportErrorKind::BodyTooLarge, true)
                    .with_source("the response body exceeds the buffered limit of 256 MiB"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(http::Response::from_parts(parts, body))
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        let response = self.execute(request).await?;
        let parts = into_parts(&response);
        let body: Box<dyn AsyncBody> = Box::new(ReqwestBody(response));
        Ok(http::Response::from_parts(parts, body))
    }
}

/// A streamed reqwest body.
struct ReqwestBody(reqwest::Response);

#[async_trait::async_trait]
impl AsyncBody for ReqwestBody {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        self.0.chunk().await.map_err(transport_error)
    }
}
