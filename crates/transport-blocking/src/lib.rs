//! A [`BlockingTransport`] built on [ureq](https://docs.rs/ureq) 3.
//!
//! ```no_run
//! use std::time::Duration;
//! use record_api::BlockingTransport;
//! use transport_blocking::UreqTransport;
//!
//! let transport = UreqTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60));
//! let request = record_api::http::Request::get("http://127.0.0.1:8080/oauth/token").body(Vec::new())?;
//! let response = transport.send(request)?;
//! println!("{}", response.status());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The agent it builds follows no redirects, returns 4xx and 5xx as responses, decodes gzip,
//! and has a connect timeout and a per-read timeout but no total deadline, so a long download
//! is never cut off while data keeps arriving. [`UreqTransport::from_agent`] takes an agent of
//! your own (proxies, custom roots); configure it the same way.

use std::time::Duration;

use record_api::{BlockingBody, BlockingTransport, TransportError, TransportErrorKind, http};

/// The largest body [`BlockingTransport::send`] buffers; streaming has no limit.
pub const BUFFERED_BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// A transport over a `ureq::Agent`.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl Default for UreqTransport {
    fn default() -> Self {
        UreqTransport::new()
    }
}

impl UreqTransport {
    /// A transport with a 10 s connect timeout and a 60 s per-read timeout.
    pub fn new() -> Self {
        UreqTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))
    }

    /// A transport with these timeouts: `connect` for opening a connection, `read` for each
    /// read (and each write) on it.
    pub fn with_timeouts(connect: Duration, read: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_per_read(Some(read))
            .timeout_per_write(Some(read))
            .build();
        UreqTransport {
            agent: config.into(),
        }
    }

    /// A transport over an agent you configured. It must not turn statuses into errors
    /// (`http_status_as_error(false)`) and should not follow redirects.
    pub fn from_agent(agent: ureq::Agent) -> Self {
        UreqTransport { agent }
    }

    fn run(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<ureq::Body>, TransportError> {
        self.agent.run(request).map_err(transport_error)
    }
}

/// Maps a ureq error, keeping it as the source.
fn transport_error(error: ureq::Error) -> TransportError {
    use ureq::Timeout;
    let (kind, sent) = match &error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            (TransportErrorKind::Connect, false)
        }
        ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
            (TransportErrorKind::Timeout, false)
        }
        ureq::Error::Timeout(_) => (TransportErrorKind::Timeout, true),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            (TransportErrorKind::Connect, false)
        }
        ureq::Error::Io(_) => (TransportErrorKind::Io, true),
        ureq::Error::Protocol(_) => (TransportErrorKind::Protocol, true),
        ureq::Error::BadUri(_) | ureq::Error::Http(_) | ureq::Error::InvalidProxyUrl => {
            (TransportErrorKind::Request, false)
        }
        _ => (TransportErrorKind::Other, true),
    };
    match error {
        // These quote the URI, which may be a storage link (a bearer secret).
        ureq::Error::BadUri(_) | ureq::Error::RequireHttpsOnly(_) => {
            TransportError::new(kind, sent).with_source("the request URI was refused")
        }
        error => TransportError::new(kind, sent).with_source(error),
    }
}

/// Drops the headers that describe the encoded body once ureq has decoded it.
fn strip_decoded_headers(headers: &mut http::HeaderMap) {
    let gzip = headers
        .get(http::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if gzip {
        headers.remove(http::header::CONTENT_ENCODING);
        headers.remove(http::header::CONTENT_LENGTH);
    }
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let response = self.run(request)?;
        let (mut parts, body) = response.into_parts();
        let bytes = body
            .into_with_config()
            .limit(BUFFERED_BODY_LIMIT)
            .read_to_vec()
            .map_err(|error| match error {
                ureq::Error::Io(io) => TransportError::body_read(io),
                ureq::Error::BodyExceedsLimit(_) => {
                    TransportError::new(TransportErrorKind::BodyTooLarge, true).with_source(error)
                }
                other => transport_error(other),
            })?;
        strip_decoded_headers(&mut parts.headers);
        Ok(http::Response::from_parts(parts, bytes))
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        let response = self.run(request)?;
        let (mut parts, body) = response.into_parts();
        strip_decoded_headers(&mut parts.headers);
        let reader: BlockingBody = Box::new(body.into_reader());
        Ok(http::Response::from_parts(parts, reader))
    }
}
