//! A [`BlockingTransport`] over HTTP/1.1 on `std::net`, with rustls (default) or the platform's
//! TLS, gzip, kept-alive connections — and no logging of any kind.
//!
//! ```no_run
//! use std::time::Duration;
//! use record_api::BlockingTransport;
//! use transport_blocking::HttpTransport;
//!
//! let transport = HttpTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60));
//! let request = record_api::http::Request::get("http://127.0.0.1:8080/oauth/token").body(Vec::new())?;
//! let response = transport.send(request)?;
//! println!("{}", response.status());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! It follows no redirects, returns 4xx and 5xx as responses, decodes gzip, and has a connect
//! timeout and a per-read (and per-write) timeout but no total deadline, so a long download is
//! never cut off while data keeps arriving. Idle connections are kept per host and reused.
//!
//! Why not a general-purpose client: the ones for blocking code either dump every byte they
//! send and receive — `Authorization` headers, token answers, storage-link paths — into the
//! application's `log` output at TRACE level (ureq), log URL paths at DEBUG (attohttpc), or put a
//! total deadline on a request (minreq). This SDK's secrets must never reach a log, and its
//! downloads must not be cut off, so the transport speaks the little HTTP/1.1 the API needs
//! itself. Plain-HTTP proxies are supported ([`Proxy`]: `CONNECT` tunnels for `https`), from the
//! environment by default, as ureq and curl read it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod conn;
mod pool;
mod proxy;
mod wire;

pub use proxy::Proxy;

use std::io::{BufReader, Read};
use std::sync::Arc;
use std::time::Duration;

use record_api::{BlockingBody, BlockingTransport, TransportError, TransportErrorKind, http};

use crate::conn::{Tls, connect};
use crate::pool::{Key, Pool, Pooled};
use crate::wire::{FramedBody, Framing, read_head, write_request};

/// What the fuzz targets reach: the response parser, on bytes instead of a socket.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use std::io::{BufReader, Read};

    use crate::wire::{FramedBody, read_head};

    /// Parses `bytes` as a response to `GET` (or `HEAD` when `head`), and reads its body as
    /// its head delimits it, at most `limit` bytes.
    pub fn read_response(bytes: &[u8], head: bool, limit: u64) {
        let method = if head {
            record_api::http::Method::HEAD
        } else {
            record_api::http::Method::GET
        };
        let mut input = BufReader::with_capacity(7, bytes);
        if let Ok(Some(parsed)) = read_head(&mut input, &method) {
            let mut body = Vec::new();
            let framed = FramedBody::new(input, parsed.framing);
            let _ = framed.take(limit).read_to_end(&mut body);
        }
    }
}

/// The largest body [`BlockingTransport::send`] buffers; streaming has no limit.
pub const BUFFERED_BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// A blocking HTTP/1.1 transport. Cloning it is cheap; clones share the idle connections.
#[derive(Clone)]
pub struct HttpTransport {
    inner: Arc<Inner>,
}

struct Inner {
    connect_timeout: Duration,
    io_timeout: Duration,
    tls: Tls,
    proxy: ProxySetting,
    pool: Pool,
}

/// Which proxy requests go through.
#[derive(Clone)]
enum ProxySetting {
    /// The one the environment names for each target (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`), read when a connection is made.
    FromEnvironment,
    /// This one, or none.
    Fixed(Option<Proxy>),
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("io_timeout", &self.inner.io_timeout)
            .finish_non_exhaustive()
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        HttpTransport::new()
    }
}

impl HttpTransport {
    /// A transport with a 10 s connect timeout and a 60 s per-read timeout.
    pub fn new() -> Self {
        HttpTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))
    }

    /// A transport with these timeouts: `connect` for opening a connection (and its TLS
    /// handshake's reads), `read` for each read and each write on it.
    pub fn with_timeouts(connect: Duration, read: Duration) -> Self {
        HttpTransport {
            inner: Arc::new(Inner {
                connect_timeout: connect,
                io_timeout: read,
                tls: Tls::default_config(),
                proxy: ProxySetting::FromEnvironment,
                pool: Pool::default(),
            }),
        }
    }

    /// Sends every request through `proxy` (`None`: straight to the host, whatever the
    /// environment says). By default the proxy comes from `HTTPS_PROXY`, `HTTP_PROXY` or
    /// `ALL_PROXY` unless the host is in `NO_PROXY` or is loopback.
    pub fn with_proxy(self, proxy: Option<Proxy>) -> Self {
        self.rebuilt(self.inner.tls.clone(), ProxySetting::Fixed(proxy))
    }

    fn rebuilt(&self, tls: Tls, proxy: ProxySetting) -> Self {
        HttpTransport {
            inner: Arc::new(Inner {
                connect_timeout: self.inner.connect_timeout,
                io_timeout: self.inner.io_timeout,
                tls,
                proxy,
                pool: Pool::default(),
            }),
        }
    }

    /// The proxy for `key`, if any.
    fn proxy_for(&self, key: &Key) -> Option<Proxy> {
        match &self.inner.proxy {
            ProxySetting::FromEnvironment => Proxy::from_env_for(key),
            ProxySetting::Fixed(proxy) => proxy.clone(),
        }
    }

    /// Uses this rustls configuration (custom roots, client certificates) for `https`.
    #[cfg(feature = "rustls")]
    pub fn with_rustls_config(self, config: Arc<rustls::ClientConfig>) -> Self {
        self.with_tls(Tls::Rustls(config))
    }

    /// Uses the platform's TLS library through this connector for `https`.
    #[cfg(feature = "native-tls")]
    pub fn with_native_tls(self, connector: native_tls::TlsConnector) -> Self {
        self.with_tls(Tls::Native(connector))
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn with_tls(self, tls: Tls) -> Self {
        self.rebuilt(tls, self.inner.proxy.clone())
    }

    /// Sends `request` and reads the response head; the body is left on the connection.
    fn exchange(
        &self,
        request: &http::Request<Vec<u8>>,
    ) -> Result<(http::response::Parts, Body), TransportError> {
        let key = Key::of(request.uri())?;
        let proxy = self.proxy_for(&key);
        // A plain-HTTP request through a proxy goes to the proxy in absolute form; an
        // `https` one through its tunnel as if direct.
        let via = proxy.as_ref().filter(|_| !key.secure);
        // A kept connection the server closed meanwhile fails before any answer; then the
        // request goes once more on a new connection, where that is safe.
        let mut reused = self.inner.pool.take(&key);
        loop {
            let was_reused = reused.is_some();
            let mut input = match reused.take() {
                Some(conn) => conn,
                None => BufReader::with_capacity(64 * 1024, self.connect(&key, proxy.as_ref())?),
            };
            let sent = write_request(input.get_mut(), request, &key.host_header(), via);
            let head = match sent {
                Ok(()) => read_head(&mut input, request.method()),
                Err(error) if was_reused && is_retry_safe(request) => {
                    drop(error);
                    continue;
                }
                Err(error) => {
                    Err(TransportError::new(TransportErrorKind::Io, true).with_source(error))
                }
            };
            match head {
                Ok(Some(head)) => {
                    let body =
                        Body::new(input, head.framing, head.keep_alive, key, &self.inner.pool);
                    return Ok((head.parts, body));
                }
                Ok(None) if was_reused && is_retry_safe(request) => continue,
                Ok(None) => {
                    return Err(TransportError::new(TransportErrorKind::Io, true)
                        .with_source("the server closed the connection without an answer"));
                }
                Err(_) if was_reused && is_retry_safe(request) => continue,
                Err(error) => return Err(error),
            }
        }
    }

    fn connect(&self, key: &Key, proxy: Option<&Proxy>) -> Result<conn::Conn, TransportError> {
        let timeouts = (self.inner.connect_timeout, self.inner.io_timeout);
        connect(
            &key.host,
            key.port,
            key.secure,
            &self.inner.tls,
            proxy,
            timeouts,
        )
    }
}

/// Whether a request may go again after a kept connection failed before its answer: the
/// methods that are idempotent by definition.
fn is_retry_safe(request: &http::Request<Vec<u8>>) -> bool {
    request.method().is_idempotent()
}

/// A response body still on its connection; the connection goes back to the pool once the
/// body has been read to its clean end.
struct Body {
    framed: Option<FramedBody<BufReader<conn::Conn>>>,
    keep_alive: bool,
    key: Key,
    pool: Pooled,
}

impl Body {
    fn new(
        input: BufReader<conn::Conn>,
        framing: Framing,
        keep_alive: bool,
        key: Key,
        pool: &Pool,
    ) -> Self {
        let mut body = Body {
            framed: Some(FramedBody::new(input, framing)),
            keep_alive,
            key,
            pool: pool.handle(),
        };
        body.release_if_done();
        body
    }

    fn release_if_done(&mut self) {
        if self.framed.as_ref().is_some_and(FramedBody::done)
            && let Some(framed) = self.framed.take()
            && self.keep_alive
        {
            self.pool.put(self.key.clone(), framed.into_inner());
        }
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(framed) = &mut self.framed else {
            return Ok(0);
        };
        let n = framed.read(buf)?;
        self.release_if_done();
        Ok(n)
    }
}

/// Whether the headers say the body is gzip-compressed; if so, drops the headers that
/// describe the compressed body.
fn take_gzip(headers: &mut http::HeaderMap) -> bool {
    let gzip = headers
        .get(http::header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    if gzip {
        headers.remove(http::header::CONTENT_ENCODING);
        headers.remove(http::header::CONTENT_LENGTH);
    }
    gzip
}

/// The body as the caller reads it: decoded when gzip-compressed.
fn decoded(body: Body, gzip: bool) -> BlockingBody {
    if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(body))
    } else {
        Box::new(body)
    }
}

impl BlockingTransport for HttpTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (mut parts, body) = self.exchange(&request)?;
        let gzip = take_gzip(&mut parts.headers);
        let mut bytes = Vec::new();
        decoded(body, gzip)
            .take(BUFFERED_BODY_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(TransportError::body_read)?;
        if bytes.len() as u64 > BUFFERED_BODY_LIMIT {
            return Err(TransportError::new(TransportErrorKind::BodyTooLarge, true)
                .with_source("the response body exceeds the buffered limit of 256 MiB"));
        }
        Ok(http::Response::from_parts(parts, bytes))
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        let (mut parts, body) = self.exchange(&request)?;
        let gzip = take_gzip(&mut parts.headers);
        Ok(http::Response::from_parts(parts, decoded(body, gzip)))
    }
}
