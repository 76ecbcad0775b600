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
//! The client it builds follows no redirects, decodes gzip (here, under
//! [`BUFFERED_GZIP_LIMIT`] and [`BUFFERED_GZIP_RATIO`] for buffered answers), and has a connect
//! timeout, a per-read timeout and a deadline for the response head (connect plus read
//! timeout), but no total deadline, so a long download is never cut off while data keeps
//! arriving.
//!
//! It passes the transport conformance kit (`record_api::conformance`, run in this crate's
//! tests) but for one case: after an answer framed by both `Content-Length` and
//! `Transfer-Encoding`, hyper reads the body as chunked, as it must, but keeps the connection
//! for the next request, where RFC 9112 asks a client to close it. [`ReqwestTransport::from_client`] takes a client of your own (proxies, custom
//! roots); configure it the same way.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use bytes::Bytes;
use record_api::{AsyncBody, AsyncTransport, TransportError, TransportErrorKind, http};

/// The largest body [`AsyncTransport::send`] buffers; streaming has no limit.
pub const BUFFERED_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// The caps on a gzip-compressed body that [`AsyncTransport::send`] buffers, shared by every
/// transport of the SDK.
pub use record_api::{BUFFERED_GZIP_LIMIT, BUFFERED_GZIP_RATIO};

/// A transport over a `reqwest::Client`.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// How long a response head may take to arrive whole, from the request's start.
    head_deadline: Option<Duration>,
}

impl ReqwestTransport {
    /// A transport with a 10 s connect timeout and a 60 s per-read timeout.
    pub fn new() -> Result<Self, TransportError> {
        ReqwestTransport::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))
    }

    /// A transport with these timeouts: `connect` for opening a connection, `read` for each
    /// read on it. A response head must also arrive whole within `connect + read` of the
    /// request's start, however slowly its bytes drip in.
    pub fn with_timeouts(connect: Duration, read: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect)
            .read_timeout(read)
            // Gzip is decoded here, under the buffered caps, even if another crate of the
            // program turns reqwest's `gzip` feature on (which would make it the default).
            .no_gzip()
            .build()
            .map_err(|e| {
                TransportError::new(TransportErrorKind::Other, false).with_source(e.without_url())
            })?;
        Ok(ReqwestTransport {
            client,
            head_deadline: Some(connect.saturating_add(read)),
        })
    }

    /// A transport over a client you configured. It should not follow redirects
    /// (`redirect::Policy::none()`), and should use `read_timeout` rather than `timeout`.
    /// Bodies the server gzip-compressed are decoded here, under this crate's limits, unless
    /// your client decodes them itself: build it with `no_gzip()`, as another crate of your
    /// program may turn reqwest's `gzip` feature on, and with it reqwest's own decoding.
    pub fn from_client(client: reqwest::Client) -> Self {
        ReqwestTransport {
            client,
            head_deadline: None,
        }
    }

    /// Sends `request` and waits for the response head, within the head deadline.
    async fn execute(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<reqwest::Response, TransportError> {
        let request =
            reqwest::Request::try_from(record_api::outgoing(request)).map_err(transport_error)?;
        let answer = self.client.execute(request);
        let Some(deadline) = self.head_deadline else {
            return answer.await.map_err(transport_error);
        };
        match tokio::time::timeout(deadline, answer).await {
            Ok(answer) => answer.map_err(transport_error),
            Err(_) => Err(
                TransportError::new(TransportErrorKind::Timeout, true).with_source(
                    "the response head did not arrive within the connect and read timeouts",
                ),
            ),
        }
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
        let response = self.execute(request).await?;
        let mut parts = into_parts(&response);
        let mut body = Vec::new();
        if record_api::take_gzip(&mut parts.headers) {
            let mut decoded = Gunzip::new(response);
            while let Some(chunk) = decoded.next_chunk().await? {
                body.extend_from_slice(&chunk);
                record_api::gzip_growth(body.len() as u64, decoded.compressed)?;
            }
        } else {
            let mut response = ReqwestBody(response);
            while let Some(chunk) = response.next_chunk().await? {
                if body.len() + chunk.len() > BUFFERED_BODY_LIMIT {
                    return Err(too_large(
                        "the response body exceeds the buffered limit of 256 MiB",
                    ));
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(http::Response::from_parts(parts, body))
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        let response = self.execute(request).await?;
        let mut parts = into_parts(&response);
        let body: Box<dyn AsyncBody> = if record_api::take_gzip(&mut parts.headers) {
            Box::new(Gunzip::new(response))
        } else {
            Box::new(ReqwestBody(response))
        };
        Ok(http::Response::from_parts(parts, body))
    }
}

fn too_large(why: &'static str) -> TransportError {
    TransportError::new(TransportErrorKind::BodyTooLarge, true).with_source(why)
}

/// A streamed reqwest body.
struct ReqwestBody(reqwest::Response);

#[async_trait::async_trait]
impl AsyncBody for ReqwestBody {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        self.0.chunk().await.map_err(transport_error)
    }
}

/// A gzip-compressed body, decoded as it arrives: the compressed bytes go to the decoder 1 KiB
/// at a time, so one chunk handed out is at most about 1 MiB whatever the ratio.
struct Gunzip {
    body: ReqwestBody,
    pending: Bytes,
    decoder: flate2::write::MultiGzDecoder<Vec<u8>>,
    /// The compressed bytes decoded so far.
    compressed: u64,
    ended: bool,
}

impl Gunzip {
    fn new(response: reqwest::Response) -> Self {
        Gunzip {
            body: ReqwestBody(response),
            pending: Bytes::new(),
            decoder: flate2::write::MultiGzDecoder::new(Vec::new()),
            compressed: 0,
            ended: false,
        }
    }
}

fn undecodable(error: std::io::Error) -> TransportError {
    TransportError::new(TransportErrorKind::Protocol, true).with_source(error)
}

#[async_trait::async_trait]
impl AsyncBody for Gunzip {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        use std::io::Write as _;
        loop {
            if !self.decoder.get_ref().is_empty() {
                return Ok(Some(Bytes::from(std::mem::take(self.decoder.get_mut()))));
            }
            if self.ended {
                return Ok(None);
            }
            if self.pending.is_empty() {
                match self.body.next_chunk().await? {
                    Some(chunk) => self.pending = chunk,
                    None => {
                        // An empty body labelled gzip (a `204`, say) is an empty body.
                        if self.compressed > 0 {
                            self.decoder.try_finish().map_err(undecodable)?;
                        }
                        self.ended = true;
                        continue;
                    }
                }
            }
            let piece = self.pending.split_to(self.pending.len().min(1024));
            self.compressed += piece.len() as u64;
            self.decoder.write_all(&piece).map_err(undecodable)?;
        }
    }
}
