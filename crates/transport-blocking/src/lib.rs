//! A [`BlockingTransport`] over HTTP/1.1 on `std::net`, with rustls (default) or the platform's
//! TLS, gzip, kept-alive connections — and no logging of any kind.
//!
//! ```no_run
//! use std::time::{Duration, Instant};
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
#[cfg(feature = "ureq")]
mod ureq;
mod wire;

pub use proxy::Proxy;
#[cfg(feature = "ureq")]
#[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
pub use ureq::UreqTransport;

use std::io::{BufReader, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use record_api::{BlockingBody, BlockingTransport, TransportError, TransportErrorKind, http};

use crate::conn::{Tls, connect};
use crate::pool::{Key, Pool, Pooled};
use crate::wire::{FramedBody, Framing, HeadClock, NoHead, read_head, write_request};

/// What the fuzz targets reach: the response parser, on bytes instead of a socket.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use std::io::{self, BufReader, Read};

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
        if let Ok(parsed) = read_head(&mut input, &method, &mut ()) {
            let mut body = Vec::new();
            let framed = FramedBody::new(input, parsed.framing);
            let _ = framed.take(limit).read_to_end(&mut body);
        }
    }

    /// A response as a server might send it: `bytes`, with the byte at `long_at` repeated
    /// `long` times (an arbitrarily long line), in pieces of the sizes `plan` gives in turn
    /// (a 0 is a read timeout instead).
    pub struct Hostile<'a> {
        bytes: &'a [u8],
        long_at: usize,
        long: u64,
        plan: &'a [u8],
        step: usize,
        at: usize,
        repeated: u64,
    }

    impl<'a> Hostile<'a> {
        /// See [`Hostile`].
        pub fn new(bytes: &'a [u8], long_at: usize, long: u64, plan: &'a [u8]) -> Self {
            Hostile {
                bytes,
                long_at,
                long,
                plan,
                step: 0,
                at: 0,
                repeated: 0,
            }
        }
    }

    impl Read for Hostile<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let piece = self
                .plan
                .get(self.step % self.plan.len().max(1))
                .copied()
                .unwrap_or(255);
            self.step += 1;
            if piece == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "a scripted timeout",
                ));
            }
            let want = buf.len().min(usize::from(piece));
            let Some(&byte) = self.bytes.get(self.at) else {
                return Ok(0);
            };
            if self.at == self.long_at && self.repeated < self.long {
                let n = want.min(usize::try_from(self.long - self.repeated).unwrap_or(want));
                buf[..n].fill(byte);
                self.repeated += n as u64;
                return Ok(n);
            }
            let end = (self.at + want).min(self.bytes.len());
            let end = if self.at < self.long_at && end > self.long_at {
                self.long_at
            } else {
                end
            };
            let n = end - self.at;
            buf[..n].copy_from_slice(&self.bytes[self.at..end]);
            self.at = end;
            Ok(n)
        }
    }

    /// Reads the response `source` gives, going on after each timeout (at most `patience` in
    /// a row), and checks after every read that the reader holds no more than its limits
    /// allow; returns the body read, and whether it ended cleanly.
    pub fn read_hostile(source: impl Read, head: bool, patience: usize) -> (Vec<u8>, bool) {
        let method = if head {
            record_api::http::Method::HEAD
        } else {
            record_api::http::Method::GET
        };
        let mut input = BufReader::with_capacity(64, source);
        let parsed = loop {
            match read_head(&mut input, &method, &mut ()) {
                Ok(parsed) => break parsed,
                Err(_) => return (Vec::new(), false),
            }
        };
        let mut framed = FramedBody::new(input, parsed.framing);
        let mut body = Vec::new();
        let mut buf = [0u8; 97];
        let mut timeouts = 0;
        loop {
            let read = framed.read(&mut buf);
            assert!(
                framed.buffered() <= 2 * crate::TRAILER_LIMIT.max(crate::CHUNK_LINE_LIMIT),
                "the reader holds {} bytes of framing",
                framed.buffered()
            );
            match read {
                Ok(0) => return (body, framed.done()),
                Ok(n) => {
                    timeouts = 0;
                    body.extend_from_slice(&buf[..n]);
                    if body.len() > 1 << 22 {
                        return (body, false);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock && timeouts < patience => {
                    timeouts += 1;
                }
                Err(_) => return (body, false),
            }
        }
    }
}

/// The largest body [`BlockingTransport::send`] buffers; streaming has no limit.
pub const BUFFERED_BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// The caps on a gzip-compressed body that [`BlockingTransport::send`] buffers, shared by
/// every transport of the SDK.
pub use record_api::{BUFFERED_GZIP_LIMIT, BUFFERED_GZIP_RATIO};

/// The most bytes of a response head the transport reads: the status line and the headers
/// together (each interim `1xx` head on its own). A longer head is an error, and no more of
/// it is ever buffered. The whole head must also arrive within one read timeout.
pub const HEAD_LIMIT: usize = 64 * 1024;

/// The longest chunk-size line (with its extensions) of a chunked body.
pub const CHUNK_LINE_LIMIT: usize = 4 * 1024;

/// The most bytes of trailers after the last chunk of a chunked body.
pub const TRAILER_LIMIT: usize = 64 * 1024;

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

    /// The proxy for `key`, if any; an error when the environment names one that cannot be
    /// used (never a silent direct connection).
    fn proxy_for(&self, key: &Key) -> Result<Option<Proxy>, TransportError> {
        match &self.inner.proxy {
            ProxySetting::FromEnvironment => Proxy::from_env_for(key),
            ProxySetting::Fixed(proxy) => Ok(proxy.clone()),
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
    ///
    /// A kept connection that the server closed meanwhile may fail before any answer. Then a
    /// `GET` or `HEAD` goes once more on a new connection — only when not one byte of an answer
    /// arrived and the connection was closed or reset. Any other request is never sent again
    /// here: its error says it may have been sent, and the caller (the SDK's engine) decides.
    fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<(http::response::Parts, Body), TransportError> {
        let request = &record_api::outgoing(request);
        let key = Key::of(request.uri())?;
        let proxy = self.proxy_for(&key)?;
        // A plain-HTTP request through a proxy goes to the proxy in absolute form; an
        // `https` one through its tunnel as if direct.
        let via = proxy.as_ref().filter(|_| !key.secure);
        let safe = matches!(*request.method(), http::Method::GET | http::Method::HEAD);
        let mut reused = self.inner.pool.take(&key);
        loop {
            let again = reused.is_some() && safe;
            let mut input = match reused.take() {
                Some(conn) => conn,
                None => BufReader::with_capacity(64 * 1024, self.connect(&key, proxy.as_ref())?),
            };
            if let Err(error) = write_request(input.get_mut(), request, &key.host_header(), via) {
                if again {
                    continue;
                }
                return Err(TransportError::new(TransportErrorKind::Io, true).with_source(error));
            }
            let mut clock = HeadDeadline::new(self.inner.io_timeout);
            let head = read_head(&mut input, request.method(), &mut clock);
            clock.restore(&input).map_err(|error| {
                TransportError::new(TransportErrorKind::Io, true).with_source(error)
            })?;
            match head {
                Ok(head) => {
                    let body =
                        Body::new(input, head.framing, head.keep_alive, key, &self.inner.pool);
                    return Ok((head.parts, body));
                }
                Err(NoHead::Silent) if again => continue,
                Err(NoHead::Silent) => {
                    return Err(TransportError::new(TransportErrorKind::Io, true)
                        .with_source("the server closed the connection without an answer"));
                }
                Err(NoHead::Failed(error)) => return Err(error),
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

/// The deadline of a response head: the whole head must arrive within one read timeout of
/// the request, however slowly its bytes drip in.
struct HeadDeadline {
    timeout: Duration,
    at: Instant,
    shortened: bool,
}

impl HeadDeadline {
    fn new(timeout: Duration) -> Self {
        HeadDeadline {
            timeout,
            at: Instant::now() + timeout,
            shortened: false,
        }
    }

    /// Gives the connection its read timeout back, for the body.
    fn restore(self, input: &BufReader<conn::Conn>) -> std::io::Result<()> {
        if self.shortened {
            input.get_ref().set_read_timeout(self.timeout)?;
        }
        Ok(())
    }
}

impl HeadClock<BufReader<conn::Conn>> for HeadDeadline {
    fn before_read(&mut self, input: &BufReader<conn::Conn>) -> std::io::Result<()> {
        if !input.buffer().is_empty() {
            return Ok(());
        }
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the response head did not arrive within the read timeout",
            ));
        }
        if left < self.timeout {
            self.shortened = true;
            input.get_ref().set_read_timeout(left)?;
        }
        Ok(())
    }
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

/// The body as the caller reads it: decoded when gzip-compressed.
fn decoded(body: impl Read + Send + 'static, gzip: bool) -> BlockingBody {
    if gzip {
        Box::new(Gunzip::Unread(BufReader::new(body)))
    } else {
        Box::new(body)
    }
}

/// A gzip-compressed body read as it arrives. An empty body (a `204` or a `HEAD` answer that
/// carries `Content-Encoding: gzip`) is an empty body, not a broken gzip stream.
enum Gunzip<R> {
    /// Nothing read yet.
    Unread(BufReader<R>),
    Decoding(flate2::bufread::MultiGzDecoder<BufReader<R>>),
    /// The body was empty.
    Empty,
}

impl<R: Read> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self {
                Gunzip::Decoding(decoder) => return decoder.read(buf),
                Gunzip::Empty => return Ok(0),
                Gunzip::Unread(input) => {
                    let empty = std::io::BufRead::fill_buf(input)?.is_empty();
                    let Gunzip::Unread(input) = std::mem::replace(self, Gunzip::Empty) else {
                        return Ok(0);
                    };
                    if !empty {
                        *self = Gunzip::Decoding(flate2::bufread::MultiGzDecoder::new(input));
                    }
                }
            }
        }
    }
}

/// An answer read whole: decoded when gzip-compressed, within the buffered limits.
fn buffered(
    mut parts: http::response::Parts,
    body: impl Read,
) -> Result<http::Response<Vec<u8>>, TransportError> {
    let bytes = if record_api::take_gzip(&mut parts.headers) {
        read_gzip(body)?
    } else {
        let mut bytes = Vec::new();
        body.take(BUFFERED_BODY_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(TransportError::body_read)?;
        if bytes.len() as u64 > BUFFERED_BODY_LIMIT {
            return Err(too_large(
                "the response body exceeds the buffered limit of 256 MiB",
            ));
        }
        bytes
    };
    Ok(http::Response::from_parts(parts, bytes))
}

/// A gzip-compressed body, decoded and buffered within [`BUFFERED_GZIP_LIMIT`] and
/// [`BUFFERED_GZIP_RATIO`].
fn read_gzip(body: impl Read) -> Result<Vec<u8>, TransportError> {
    // A small buffer below the decoder, so that the compressed bytes counted are close to
    // those it has used.
    let compressed = BufReader::with_capacity(
        8 * 1024,
        Counted {
            inner: body,
            count: 0,
        },
    );
    let mut compressed = compressed;
    if std::io::BufRead::fill_buf(&mut compressed)
        .map_err(TransportError::body_read)?
        .is_empty()
    {
        // An empty body labelled gzip (a `204`, say) is an empty body.
        return Ok(Vec::new());
    }
    let mut decoder = flate2::bufread::MultiGzDecoder::new(compressed);
    let mut bytes = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match decoder.read(&mut buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(TransportError::body_read(error)),
        };
        bytes.extend_from_slice(&buf[..n]);
        record_api::gzip_growth(bytes.len() as u64, decoder.get_ref().get_ref().count)?;
    }
}

fn too_large(why: &'static str) -> TransportError {
    TransportError::new(TransportErrorKind::BodyTooLarge, true).with_source(why)
}

/// A reader that counts the bytes read through it.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

impl BlockingTransport for HttpTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (parts, body) = self.exchange(request)?;
        buffered(parts, body)
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        let (mut parts, body) = self.exchange(request)?;
        let gzip = record_api::take_gzip(&mut parts.headers);
        Ok(http::Response::from_parts(parts, decoded(body, gzip)))
    }
}
