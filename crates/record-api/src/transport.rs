//! The transport contracts: `http::Request` in, `http::Response` out.
//!
//! A transport only moves bytes. Statuses 4xx and 5xx are responses, not errors; a
//! [`TransportError`] means no complete response arrived.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

/// A boxed error source.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (DNS, refused, TLS handshake).
    Connect,
    /// Connecting or reading took longer than allowed.
    Timeout,
    /// The connection broke while sending or receiving.
    Io,
    /// The peer spoke something that is not valid HTTP, or the body ended early.
    Protocol,
    /// The request could not be built (a bad URL or header). Sending it again cannot help.
    Request,
    /// The response body is larger than the transport buffers. Sending it again cannot help.
    BodyTooLarge,
    /// Anything else.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "timed out",
            TransportErrorKind::Io => "connection broken",
            TransportErrorKind::Protocol => "invalid HTTP from the server",
            TransportErrorKind::Request => "invalid request",
            TransportErrorKind::BodyTooLarge => "response body too large to buffer",
            TransportErrorKind::Other => "transport failure",
        })
    }
}

/// A failure below HTTP, with whether the request may have reached the server.
///
/// `may_have_been_sent` drives safe retries: a request that provably never left can be sent
/// again whatever its method.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    may_have_been_sent: bool,
    source: Option<BoxError>,
    host: Option<String>,
}

impl TransportError {
    /// A failure of `kind`; `may_have_been_sent` is false only when the request provably never
    /// left (e.g. the connection was refused).
    pub fn new(kind: TransportErrorKind, may_have_been_sent: bool) -> Self {
        TransportError {
            kind,
            may_have_been_sent,
            source: None,
            host: None,
        }
    }

    /// A failure while reading a response body: the request was sent, and the body broke off.
    pub fn body_read(error: std::io::Error) -> Self {
        let kind = match error.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                TransportErrorKind::Timeout
            }
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData => {
                TransportErrorKind::Protocol
            }
            _ => TransportErrorKind::Io,
        };
        TransportError::new(kind, true).with_source(error)
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Names the server the request went to (`host:port`), for the message. The clients of
    /// `telphin-records` set it from the request, whatever the transport.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The server the request went to, when known.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// Why, in a few words: the innermost error's message on one line (at most 200 bytes),
    /// with a hint where it tells of TLS spoken to a plain-HTTP port. `None` without a source.
    pub fn cause(&self) -> Option<String> {
        let mut deepest: &(dyn StdError + 'static) = self.source.as_deref()?;
        let mut chain = vec![deepest.to_string()];
        while let Some(next) = deepest.source() {
            deepest = next;
            chain.push(deepest.to_string());
        }
        if let Some(io) = deepest.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return Some("connection refused".to_owned());
        }
        let text = chain.last().map(String::as_str).unwrap_or_default();
        let mut cause = one_line(text, 200);
        let plain_http = [
            "InvalidContentType",
            "corrupt message",
            "wrong version number",
        ];
        if chain
            .iter()
            .any(|message| plain_http.iter().any(|sign| message.contains(sign)))
        {
            cause.push_str(" (the TLS handshake failed: does this port speak plain HTTP?)");
        }
        Some(cause)
    }

    /// A copy for another caller of the same failure (the errors of a shared token request):
    /// its kind, whether it was sent, its host, and its innermost cause as text.
    pub fn copied(&self) -> TransportError {
        let mut copy = TransportError::new(self.kind, self.may_have_been_sent);
        copy.host.clone_from(&self.host);
        if let Some(source) = self.source.as_deref() {
            let mut deepest: &(dyn StdError + 'static) = source;
            while let Some(next) = deepest.source() {
                deepest = next;
            }
            copy.source = Some(match deepest.downcast_ref::<std::io::Error>() {
                Some(io) => Box::new(std::io::Error::new(io.kind(), io.to_string())),
                None => BoxError::from(deepest.to_string()),
            });
        }
        copy
    }

    /// What went wrong.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the server may have received the request.
    pub fn may_have_been_sent(&self) -> bool {
        self.may_have_been_sent
    }

    /// Whether the same request can never succeed: it could not be built, or its answer is
    /// larger than the transport buffers.
    pub fn is_final(&self) -> bool {
        matches!(
            self.kind,
            TransportErrorKind::Request | TransportErrorKind::BodyTooLarge
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            None => write!(f, "{}", self.kind)?,
            Some(host) => {
                let to = match self.kind {
                    TransportErrorKind::Connect => "to",
                    TransportErrorKind::Timeout => "waiting for",
                    TransportErrorKind::Io => "with",
                    _ => "from",
                };
                write!(f, "{} {to} {host}", self.kind)?;
            }
        }
        if let Some(cause) = self.cause() {
            write!(f, ": {cause}")?;
        }
        if !self.may_have_been_sent {
            f.write_str(" (the request was not sent)")?;
        }
        Ok(())
    }
}

/// `text` on one line, cut at a character boundary to at most `limit` bytes, with any URL
/// replaced by `<url>` (a storage link is a secret).
fn one_line(text: &str, limit: usize) -> String {
    let words: Vec<&str> = text
        .split_whitespace()
        .map(|word| if word.contains("://") { "<url>" } else { word })
        .collect();
    let mut line = words.join(" ");
    if line.len() > limit {
        let mut cut = limit;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// A streamed response body for blocking code.
pub type BlockingBody = Box<dyn std::io::Read + Send>;

/// A streamed response body for async code: the next chunk, or `None` at the end.
#[async_trait::async_trait]
pub trait AsyncBody: Send {
    /// The next chunk of the body; `Ok(None)` once it has ended.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError>;
}

/// Sends requests from blocking code.
///
/// Implement it to plug in your own HTTP client; the built-in one is in `transport-blocking`.
pub trait BlockingTransport: Send + Sync {
    /// Sends a request and reads the whole response body.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;

    /// Sends a request and returns as soon as the headers arrived; the body is read from the
    /// returned reader, so memory does not grow with its size.
    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError>;
}

/// Sends requests from async code.
///
/// Implement it to plug in your own HTTP client; the built-in one is in `transport-async`.
#[async_trait::async_trait]
pub trait AsyncTransport: Send + Sync {
    /// Sends a request and reads the whole response body.
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;

    /// Sends a request and returns as soon as the headers arrived; the body is read chunk by
    /// chunk from the returned [`AsyncBody`].
    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError>;
}

macro_rules! forward_blocking {
    ($($ptr:ty),+) => {$(
        impl<T: BlockingTransport + ?Sized> BlockingTransport for $ptr {
            fn send(
                &self,
                request: http::Request<Vec<u8>>,
            ) -> Result<http::Response<Vec<u8>>, TransportError> {
                (**self).send(request)
            }

            fn send_streaming(
                &self,
                request: http::Request<Vec<u8>>,
            ) -> Result<http::Response<BlockingBody>, TransportError> {
                (**self).send_streaming(request)
            }
        }
    )+};
}

forward_blocking!(&T, Box<T>, Arc<T>);

macro_rules! forward_async {
    ($($ptr:ty),+) => {$(
        #[async_trait::async_trait]
        impl<T: AsyncTransport + ?Sized> AsyncTransport for $ptr {
            async fn send(
                &self,
                request: http::Request<Vec<u8>>,
            ) -> Result<http::Response<Vec<u8>>, TransportError> {
                (**self).send(request).await
            }

            async fn send_streaming(
                &self,
                request: http::Request<Vec<u8>>,
            ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
                (**self).send_streaming(request).await
            }
        }
    )+};
}

forward_async!(&T, Box<T>, Arc<T>);

/// A transport made of a closure that answers a request with a whole response, for tests and
/// small adapters. It implements both [`BlockingTransport`] and [`AsyncTransport`]; streaming
/// calls hand out the buffered body.
///
/// ```
/// use record_api::{BlockingTransport, FnTransport};
///
/// let transport = FnTransport::new(|_request| {
///     Ok(http::Response::builder().status(200).body(b"[]".to_vec()).unwrap())
/// });
/// let response = transport.send(http::Request::new(Vec::new()))?;
/// assert_eq!(response.body(), b"[]");
/// # Ok::<(), record_api::TransportError>(())
/// ```
pub struct FnTransport<F>(F);

impl<F> FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> + Send + Sync,
{
    /// Wraps the closure.
    pub fn new(handler: F) -> Self {
        FnTransport(handler)
    }
}

impl<F> fmt::Debug for FnTransport<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnTransport")
    }
}

impl<F> BlockingTransport for FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> + Send + Sync,
{
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        (self.0)(request)
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        let response = (self.0)(request)?;
        Ok(response.map(|body| Box::new(std::io::Cursor::new(body)) as BlockingBody))
    }
}

#[async_trait::async_trait]
impl<F> AsyncTransport for FnTransport<F>
where
    F: Fn(http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError> + Send + Sync,
{
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        (self.0)(request)
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        let response = (self.0)(request)?;
        Ok(response
            .map(|body| Box::new(BufferedBody(Some(Bytes::from(body)))) as Box<dyn AsyncBody>))
    }
}

/// A whole body handed out as one chunk.
#[derive(Debug)]
pub struct BufferedBody(pub Option<Bytes>);

#[async_trait::async_trait]
impl AsyncBody for BufferedBody {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        Ok(self.0.take().filter(|chunk| !chunk.is_empty()))
    }
}

/// `request` as it may go out: without a `user:password@` in its URL — credentials are sent
/// in headers or not at all, never in a request line a proxy or its log sees — and without a
/// caller's `Transfer-Encoding` or `Content-Length`: a transport frames the body it sends
/// itself, and two framing headers let a proxy and a server read two different requests.
/// Every transport applies it before sending (the conformance kit checks).
///
/// ```
/// use record_api::{http, outgoing};
///
/// let request = http::Request::builder()
///     .uri("http://user:pw@example.test/path?q=1")
///     .header("transfer-encoding", "chunked")
///     .body(b"a=1".to_vec())
///     .unwrap();
/// let request = outgoing(request);
/// assert_eq!(request.uri().to_string(), "http://example.test/path?q=1");
/// assert!(request.headers().get("transfer-encoding").is_none());
/// ```
pub fn outgoing(mut request: http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let headers = request.headers_mut();
    headers.remove(http::header::TRANSFER_ENCODING);
    headers.remove(http::header::CONTENT_LENGTH);
    let uri = request.uri();
    if let Some(authority) = uri.authority()
        && authority.as_str().contains('@')
    {
        let host_port = match authority.port() {
            Some(port) => format!("{}:{port}", authority.host()),
            None => authority.host().to_owned(),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(clean) = host_port.parse::<http::uri::Authority>() {
            parts.authority = Some(clean);
            if let Ok(clean) = http::Uri::from_parts(parts) {
                *request.uri_mut() = clean;
            }
        }
    }
    request
}
