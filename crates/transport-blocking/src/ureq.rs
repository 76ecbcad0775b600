//! [`UreqTransport`]: the [`BlockingTransport`] contract over ureq 3 (feature `ureq`).

use std::time::Duration;

use record_api::{BlockingBody, BlockingTransport, TransportError, TransportErrorKind, http};

/// A [`BlockingTransport`] over a [`ureq::Agent`], for programs that run ureq already or trust
/// its parser: the same contract as [`HttpTransport`](crate::HttpTransport) — no redirects,
/// statuses as answers, gzip decoded (here, under the same buffered caps), a connect timeout,
/// a per-read timeout and a deadline for the response head — and it passes the transport
/// conformance kit (`record_api::conformance`) but for the cases its documentation below names.
///
/// # Its logs carry secrets
///
/// ureq's protocol crate, `ureq_proto`, writes every byte it sends and receives to the `log`
/// facade at TRACE level, **unredacted**: the bearer token in each `Authorization` header, the
/// token request's form (with the client secret or the PBX password), the tokens in the token
/// answer, and the paths of storage links, which are secrets themselves. A library cannot
/// filter your logger; you must. Keep `ureq_proto` (and `ureq`) below TRACE in every logger
/// your program installs, whatever its global level:
///
/// ```text
/// RUST_LOG=trace,ureq_proto=debug,ureq=debug      # env_logger, or any RUST_LOG-style filter
/// ```
///
/// ```rust,ignore
/// // env_logger's builder; other loggers have the same per-target filter.
/// env_logger::Builder::from_default_env()
///     .filter_module("ureq_proto", log::LevelFilter::Debug)
///     .filter_module("ureq", log::LevelFilter::Debug)
///     .init();
/// ```
///
/// The SDK's tests check, with that filter in place, that no secret reaches a log through
/// this transport (and that, without it, ureq does write them).
///
/// # Cases of the conformance kit it does not pass
///
/// Run in this crate's `tests/conformance_ureq.rs`; ureq 3.5 parses leniently where the
/// built-in transport is strict:
///
/// - `Chunked`: a chunk extension with a quoted value (`5;name="a;b"`) is refused;
/// - `SignedChunkSize`: a chunk size written `+5` is accepted;
/// - `ChunkedThenGzip`: `Transfer-Encoding: chunked, gzip` is decoded as chunked alone;
/// - `LengthAndChunked`: the connection is kept after an answer framed by both
///   `Content-Length` and `Transfer-Encoding`;
/// - `ProxyAbsoluteForm`: plain-HTTP requests go through a `CONNECT` tunnel too, not in
///   absolute form (a proxy that refuses `CONNECT` to port 80 cannot be used);
/// - `GzipBomb`, when ureq's own `gzip` feature is on anywhere in your program (features are
///   unified: another crate may turn it on): ureq then decodes gzip itself and removes the
///   headers that say so, leaving this transport no compressed count to cap, and a buffered
///   answer is bounded only by [`BUFFERED_BODY_LIMIT`](crate::BUFFERED_BODY_LIMIT) decoded.
///   With the feature off (as this crate asks for ureq), the caps apply;
/// - `EmptyGzip`, in the same case: ureq's own decoder fails an empty answer (a `204`)
///   labelled `Content-Encoding: gzip`, where this transport's gives an empty body.
///
/// ```no_run
/// use std::time::Duration;
/// use transport_blocking::UreqTransport;
///
/// let transport = UreqTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60));
/// # let _ = transport;
/// ```
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl UreqTransport {
    /// A transport with these timeouts: `connect` for opening a connection, `read` for each
    /// read, and for the whole response head. Proxies come from the environment, as ureq reads
    /// it.
    ///
    /// **Unsafe at TRACE:** ureq logs every byte, secrets included, at TRACE level; keep
    /// `ureq_proto` and `ureq` below TRACE in your logger (see [the type's docs](Self)).
    pub fn with_timeouts(connect: Duration, read: Duration) -> Self {
        UreqTransport::configured(connect, read, ureq::Proxy::try_from_env())
    }

    /// A transport with these timeouts that sends every request through the plain-HTTP proxy
    /// at `proxy` (`http://[user:password@]host:port`), or straight to the host when `None`,
    /// whatever the environment says. The error never quotes `proxy` (it may hold a password).
    ///
    /// **Unsafe at TRACE:** ureq logs every byte, secrets included, at TRACE level; keep
    /// `ureq_proto` and `ureq` below TRACE in your logger (see [the type's docs](Self)).
    pub fn with_proxy(
        connect: Duration,
        read: Duration,
        proxy: Option<&str>,
    ) -> Result<Self, TransportError> {
        let proxy = match proxy {
            None => None,
            Some(url) => Some(ureq::Proxy::new(url).map_err(|_| {
                TransportError::new(TransportErrorKind::Request, false)
                    .with_source("the proxy address cannot be used")
            })?),
        };
        Ok(UreqTransport::configured(connect, read, proxy))
    }

    fn configured(connect: Duration, read: Duration, proxy: Option<ureq::Proxy>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .save_redirect_history(false)
            .proxy(proxy)
            .timeout_connect(Some(connect))
            .timeout_per_read(Some(read))
            .timeout_per_write(Some(read))
            .timeout_recv_response(Some(read))
            .build();
        UreqTransport {
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// A transport over an agent you configured. It must not follow redirects
    /// (`max_redirects(0)`), must answer error statuses (`http_status_as_error(false)`), and
    /// should not decode gzip itself (ureq's `gzip` feature off), so that this transport's
    /// caps apply.
    pub fn from_agent(agent: ureq::Agent) -> Self {
        UreqTransport { agent }
    }

    fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<(http::response::Parts, BlockingBody), TransportError> {
        // The host as the SDK's checks read it: ureq would take `[::1].evil.example` for ::1.
        if record_api::authority_host(request.uri()).is_none() {
            return Err(TransportError::new(TransportErrorKind::Request, false)
                .with_source("the URI has no valid host"));
        }
        let response = self
            .agent
            .run(record_api::outgoing(request))
            .map_err(transport_error)?;
        let (parts, body) = response.into_parts();
        Ok((parts, Box::new(body.into_reader())))
    }
}

/// A ureq error as a transport error: the request counts as never sent only when no
/// connection was made.
fn transport_error(error: ureq::Error) -> TransportError {
    use ureq::Error;
    use ureq::Timeout;
    let (kind, sent) = match &error {
        Error::HostNotFound | Error::ConnectionFailed => (TransportErrorKind::Connect, false),
        Error::Timeout(Timeout::Resolve | Timeout::Connect) => (TransportErrorKind::Timeout, false),
        Error::Timeout(_) => (TransportErrorKind::Timeout, true),
        Error::Tls(_) | Error::Rustls(_) => (TransportErrorKind::Connect, false),
        Error::BadUri(_) | Error::Http(_) | Error::InvalidProxyUrl | Error::RequireHttpsOnly(_) => {
            (TransportErrorKind::Request, false)
        }
        Error::Protocol(_) | Error::LargeResponseHeader(..) => (TransportErrorKind::Protocol, true),
        Error::BodyExceedsLimit(_) => (TransportErrorKind::BodyTooLarge, true),
        Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            (TransportErrorKind::Timeout, true)
        }
        _ => (TransportErrorKind::Io, true),
    };
    // ureq's messages may quote the URL (a storage link is a secret): only the kind is kept.
    let what = match kind {
        TransportErrorKind::Connect => "ureq could not connect",
        TransportErrorKind::Timeout => "ureq timed out",
        TransportErrorKind::Request => "ureq refused the request",
        TransportErrorKind::Protocol => "ureq read invalid HTTP",
        TransportErrorKind::BodyTooLarge => "ureq's body limit was reached",
        _ => "ureq's connection broke",
    };
    TransportError::new(kind, sent).with_source(what)
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (parts, body) = self.exchange(request)?;
        crate::buffered(parts, body)
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        let (mut parts, body) = self.exchange(request)?;
        let gzip = record_api::take_gzip(&mut parts.headers);
        Ok(http::Response::from_parts(
            parts,
            crate::decoded(body, gzip),
        ))
    }
}
