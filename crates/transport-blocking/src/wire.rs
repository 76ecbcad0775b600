//! HTTP/1.1 on the wire: the request head and body, the response head, and how the response
//! body is delimited. Nothing here logs: no byte that crosses the wire is ever written anywhere
//! else.

use std::io::{self, BufRead, Read, Write};

use record_api::{TransportError, TransportErrorKind, http};

/// The most bytes of a response head, status line and headers together (each interim `1xx`
/// head counts on its own): [`HEAD_LIMIT`](crate::HEAD_LIMIT).
const HEAD_LIMIT: usize = crate::HEAD_LIMIT;
/// The most headers a response may have.
const HEADER_COUNT: usize = 128;
/// The most interim `1xx` heads before the answer.
const INTERIM_LIMIT: usize = 16;

/// Writes `request` to `out` in one buffered write: origin-form, or absolute-form with the
/// proxy's authorization when it goes to a plain-HTTP proxy.
pub(crate) fn write_request(
    out: &mut impl Write,
    request: &http::Request<Vec<u8>>,
    host: &str,
    proxy: Option<&crate::Proxy>,
) -> io::Result<()> {
    let absolute = request.uri().to_string();
    let target = match proxy {
        Some(_) => absolute.as_str(),
        None => request
            .uri()
            .path_and_query()
            .map_or("/", |target| target.as_str()),
    };
    let mut head = Vec::with_capacity(512 + request.body().len());
    head.extend_from_slice(request.method().as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(target.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    head.extend_from_slice(host.as_bytes());
    head.extend_from_slice(b"\r\n");
    if let Some(proxy) = proxy {
        head.extend_from_slice(proxy.authorization_line().as_bytes());
    }
    for (name, value) in request.headers() {
        if name == http::header::HOST || name == http::header::CONTENT_LENGTH {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let method = request.method();
    if !request.body().is_empty() || !matches!(*method, http::Method::GET | http::Method::HEAD) {
        head.extend_from_slice(format!("content-length: {}\r\n", request.body().len()).as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head.extend_from_slice(request.body());
    out.write_all(&head)?;
    out.flush()
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the server closes the connection.
    Close,
}

/// A response head, how its body is delimited, and whether the connection may be reused.
pub(crate) struct Head {
    pub(crate) parts: http::response::Parts,
    pub(crate) framing: Framing,
    pub(crate) keep_alive: bool,
}

/// How a response head is awaited: called before each read of it, so a transport can bound
/// the whole head by one deadline (an error ends the read).
pub(crate) trait HeadClock<R> {
    /// Prepares the next read of `input`, or fails once the head's time is up.
    fn before_read(&mut self, input: &R) -> io::Result<()>;
}

/// No deadline: for bytes already in memory, and for framing lines (each read has its
/// timeout).
impl<R> HeadClock<R> for () {
    fn before_read(&mut self, _: &R) -> io::Result<()> {
        Ok(())
    }
}

/// Why no head was read.
pub(crate) enum NoHead {
    /// The connection ended (closed or reset) before a single byte of an answer.
    Silent,
    /// Anything else: the answer broke off, was invalid, or took too long.
    Failed(TransportError),
}

impl From<TransportError> for NoHead {
    fn from(error: TransportError) -> Self {
        NoHead::Failed(error)
    }
}

/// Reads a response head, skipping interim `1xx` answers.
pub(crate) fn read_head<R: BufRead>(
    input: &mut R,
    method: &http::Method,
    clock: &mut impl HeadClock<R>,
) -> Result<Head, NoHead> {
    for interim in 0.. {
        let raw = read_head_bytes(input, clock, interim == 0)?;
        let head = parse_head(&raw, method)?;
        if !head.parts.status.is_informational() {
            return Ok(head);
        }
        if interim == INTERIM_LIMIT {
            break;
        }
    }
    Err(protocol("too many interim (1xx) answers").into())
}

/// The bytes of one head, up to and including the blank line, at most [`HEAD_LIMIT`].
fn read_head_bytes<R: BufRead>(
    input: &mut R,
    clock: &mut impl HeadClock<R>,
    first: bool,
) -> Result<Vec<u8>, NoHead> {
    let mut raw = Vec::with_capacity(1024);
    loop {
        let start = raw.len();
        let complete = read_line(input, &mut raw, HEAD_LIMIT, clock).map_err(|error| {
            let closed = matches!(
                error.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            );
            if first && raw.is_empty() && closed {
                NoHead::Silent
            } else {
                NoHead::Failed(head_error(error))
            }
        })?;
        if !complete {
            if first && raw.is_empty() {
                return Err(NoHead::Silent);
            }
            return Err(
                protocol("the connection closed in the middle of the response head").into(),
            );
        }
        let line = &raw[start..];
        if line == b"\r\n" || line == b"\n" {
            if start == 0 {
                // A stray empty line before a head: skipped, but counted.
                raw.clear();
                continue;
            }
            return Ok(raw);
        }
    }
}

/// An error while a head was read: a timeout, a broken connection, or a head too large.
fn head_error(error: io::Error) -> TransportError {
    match error.kind() {
        io::ErrorKind::FileTooLarge => protocol("the response head is too large"),
        _ => TransportError::body_read(error),
    }
}

/// Reads one line, up to and including its `\n`, onto the end of `line`, which may already
/// hold at most `limit` bytes: whatever is kept stays in `line` even when a read fails, and
/// nothing beyond `limit` is ever buffered (a longer line is an error of kind
/// `FileTooLarge`). `Ok(false)` when the input ended first.
fn read_line<R: BufRead>(
    input: &mut R,
    line: &mut Vec<u8>,
    limit: usize,
    clock: &mut impl HeadClock<R>,
) -> io::Result<bool> {
    loop {
        clock.before_read(input)?;
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(false);
        }
        let (take, ended) = match available.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > limit {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "a line is too long",
            ));
        }
        line.extend_from_slice(&available[..take]);
        debug_assert!(line.len() <= limit, "a line beyond its limit");
        input.consume(take);
        if ended {
            return Ok(true);
        }
    }
}

fn parse_head(raw: &[u8], method: &http::Method) -> Result<Head, TransportError> {
    let mut headers = [httparse::EMPTY_HEADER; HEADER_COUNT];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(raw) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(protocol("the response head is not valid HTTP/1.x")),
    }
    let code = response.code.unwrap_or(0);
    let status = http::StatusCode::from_u16(code).map_err(|_| protocol("invalid status code"))?;
    let version = match response.version {
        Some(0) => http::Version::HTTP_10,
        _ => http::Version::HTTP_11,
    };
    let mut builder = http::Response::builder().status(status).version(version);
    for header in response.headers.iter() {
        builder = builder.header(header.name, header.value);
    }
    let (parts, ()) = builder
        .body(())
        .map_err(|_| protocol("a response header is not valid"))?
        .into_parts();
    let (framing, trusted) = framing_of(&parts, method)?;
    let tokens = |name| header_tokens(&parts.headers, name);
    let close = tokens(http::header::CONNECTION).any(|token| token.eq_ignore_ascii_case("close"));
    let keep_alive = !close
        && trusted
        && framing != Framing::Close
        && (version != http::Version::HTTP_10
            || tokens(http::header::CONNECTION).any(|t| t.eq_ignore_ascii_case("keep-alive")));
    Ok(Head {
        parts,
        framing,
        keep_alive,
    })
}

/// The comma-separated tokens of every `name` header, trimmed; a value that is not text gives
/// one token that matches nothing.
fn header_tokens(
    headers: &http::HeaderMap,
    name: http::header::HeaderName,
) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .flat_map(|value| value.to_str().unwrap_or("\u{0}").split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

/// How the body is delimited, strictly (RFC 9112 §6.3), and whether the connection may carry
/// another request after it: not after a body framed both by `Transfer-Encoding` and
/// `Content-Length`, nor after `Transfer-Encoding` in an HTTP/1.0 answer.
fn framing_of(
    parts: &http::response::Parts,
    method: &http::Method,
) -> Result<(Framing, bool), TransportError> {
    let status = parts.status;
    if method == http::Method::HEAD
        || (method == http::Method::CONNECT && status.is_success())
        || status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED
    {
        return Ok((Framing::Empty, true));
    }
    let has_length = parts.headers.contains_key(http::header::CONTENT_LENGTH);
    if parts.headers.contains_key(http::header::TRANSFER_ENCODING) {
        let mut codings = header_tokens(&parts.headers, http::header::TRANSFER_ENCODING);
        let only_chunked = codings
            .next()
            .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"))
            && codings.next().is_none();
        if !only_chunked {
            return Err(protocol(
                "the response's Transfer-Encoding is not \"chunked\" alone",
            ));
        }
        let trusted = !has_length && parts.version != http::Version::HTTP_10;
        return Ok((Framing::Chunked, trusted));
    }
    let mut lengths = parts.headers.get_all(http::header::CONTENT_LENGTH).iter();
    let Some(first) = lengths.next() else {
        return Ok((Framing::Close, false));
    };
    let length = content_length(first.as_bytes())?;
    for other in lengths {
        if content_length(other.as_bytes())? != length {
            return Err(protocol("conflicting Content-Length headers"));
        }
    }
    Ok((Framing::Length(length), true))
}

/// A `Content-Length` value: decimal digits only (no sign, no list), at most 19 of them.
fn content_length(value: &[u8]) -> Result<u64, TransportError> {
    let invalid = || protocol("invalid Content-Length");
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(invalid)
}

/// A chunk size: hexadecimal digits only, at most 15 of them, then optional white space and
/// extensions after `;`.
fn chunk_size(line: &[u8]) -> io::Result<u64> {
    let line = line
        .strip_suffix(b"\n")
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .unwrap_or(line);
    let size_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    let (size, rest) = line.split_at(size_end);
    let rest_ok = rest
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .is_none_or(|at| rest[at] == b';');
    if size.is_empty() || size.len() > 15 || !rest_ok {
        return Err(invalid("invalid chunk size"));
    }
    let digits = std::str::from_utf8(size).map_err(|_| invalid("invalid chunk size"))?;
    u64::from_str_radix(digits, 16).map_err(|_| invalid("invalid chunk size"))
}

/// The longest chunk-size line, extensions included.
const CHUNK_LINE_LIMIT: usize = crate::CHUNK_LINE_LIMIT;
/// The most bytes of trailers after the last chunk.
const TRAILER_LIMIT: usize = crate::TRAILER_LIMIT;

/// Reads a response body as its framing delimits it; `done()` tells when it ended cleanly.
///
/// A read that fails leaves the state as it was before the bytes it failed on: whatever part
/// of a framing line was read is kept, and no read returns an error after it copied bytes.
pub(crate) struct FramedBody<R> {
    input: R,
    state: State,
    /// The part of a framing line read so far.
    line: Vec<u8>,
    /// The bytes of trailers read so far.
    trailers: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes left of a `Content-Length` body, or of the current chunk.
    Remaining { left: u64, chunked: bool },
    /// The line ending after a chunk's data is due.
    ChunkEnd,
    /// Between chunks: the next size line is due.
    ChunkSize,
    /// After the last chunk: trailers until an empty line.
    Trailers,
    /// Until the connection closes.
    UntilClose,
    /// The body ended cleanly.
    Done,
}

impl<R: BufRead> FramedBody<R> {
    pub(crate) fn new(input: R, framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(left) => State::Remaining {
                left,
                chunked: false,
            },
            Framing::Chunked => State::ChunkSize,
            Framing::Close => State::UntilClose,
        };
        FramedBody {
            input,
            state,
            line: Vec::new(),
            trailers: 0,
        }
    }

    /// Whether the body ended cleanly, so the connection can carry another request.
    pub(crate) fn done(&self) -> bool {
        self.state == State::Done
    }

    /// The bytes of framing the reader holds (the part of a line read so far).
    #[cfg(fuzzing)]
    pub(crate) fn buffered(&self) -> usize {
        self.line.capacity()
    }

    /// The connection under the body.
    pub(crate) fn into_inner(self) -> R {
        self.input
    }

    /// Reads the rest of a framing line of at most `limit` bytes into `self.line`.
    fn line(&mut self, limit: usize, closed: &'static str) -> io::Result<()> {
        match read_line(&mut self.input, &mut self.line, limit, &mut ()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(eof(closed)),
            Err(error) if error.kind() == io::ErrorKind::FileTooLarge => {
                Err(invalid("a line of the chunked body is too long"))
            }
            Err(error) => Err(error),
        }
    }

    /// Reads one framing line and moves to the state after it.
    fn advance(&mut self) -> io::Result<()> {
        match self.state {
            State::ChunkSize => {
                self.line(
                    CHUNK_LINE_LIMIT,
                    "the connection closed before the next chunk",
                )?;
                let size = chunk_size(&self.line)?;
                self.state = if size > 0 {
                    State::Remaining {
                        left: size,
                        chunked: true,
                    }
                } else {
                    State::Trailers
                };
            }
            State::ChunkEnd => {
                self.line(2, "the connection closed after a chunk")?;
                if self.line != b"\r\n" && self.line != b"\n" {
                    return Err(invalid("a chunk does not end with CRLF"));
                }
                self.state = State::ChunkSize;
            }
            State::Trailers => {
                let room = TRAILER_LIMIT - self.trailers;
                self.line(room, "the connection closed in the trailers")?;
                self.trailers += self.line.len();
                if self.line == b"\r\n" || self.line == b"\n" {
                    self.state = State::Done;
                }
            }
            State::Remaining { .. } | State::UntilClose | State::Done => {}
        }
        self.line.clear();
        Ok(())
    }
}

impl<R: BufRead> Read for FramedBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::ChunkSize | State::ChunkEnd | State::Trailers => self.advance()?,
                State::UntilClose => return self.input.read(buf),
                State::Remaining { left, chunked } => {
                    if buf.is_empty() {
                        return Ok(0);
                    }
                    let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
                    let n = self.input.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(eof("the connection closed before the body's end"));
                    }
                    let left = left - n as u64;
                    self.state = match (left, chunked) {
                        (0, true) => State::ChunkEnd,
                        (0, false) => State::Done,
                        (left, chunked) => State::Remaining { left, chunked },
                    };
                    return Ok(n);
                }
            }
        }
    }
}

fn eof(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what)
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

fn protocol(what: &'static str) -> TransportError {
    TransportError::new(TransportErrorKind::Protocol, true).with_source(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    fn body(raw: &[u8], framing: Framing) -> (io::Result<Vec<u8>>, bool) {
        let mut framed = FramedBody::new(BufReader::with_capacity(3, raw), framing);
        let mut out = Vec::new();
        let result = framed.read_to_end(&mut out).map(|_| out);
        (result, framed.done())
    }

    #[test]
    fn chunked_bodies_are_decoded_with_extensions_and_trailers() {
        let raw = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (result, done) = body(raw, Framing::Chunked);
        assert_eq!(result.unwrap(), b"Wikipedia in\r\n\r\nchunks.");
        assert!(done);
    }

    #[test]
    fn short_bodies_are_errors() {
        let (result, done) = body(b"abc", Framing::Length(5));
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        assert!(!done);
        let (result, _) = body(b"5\r\nab", Framing::Chunked);
        assert!(result.is_err());
        let (result, _) = body(b"zz\r\n", Framing::Chunked);
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn length_and_close_framing() {
        let (result, done) = body(b"hello world", Framing::Length(5));
        assert_eq!(result.unwrap(), b"hello");
        assert!(done);
        let (result, done) = body(b"all of it", Framing::Close);
        assert_eq!(result.unwrap(), b"all of it");
        assert!(!done, "a close-delimited body never frees its connection");
    }

    fn head(raw: &[u8], method: http::Method) -> Result<Head, NoHead> {
        read_head(&mut BufReader::with_capacity(5, raw), &method, &mut ())
    }

    fn refused(raw: &[u8]) -> bool {
        matches!(head(raw, http::Method::GET), Err(NoHead::Failed(_)))
    }

    #[test]
    fn heads_are_parsed_and_interim_answers_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc";
        let Ok(parsed) = head(raw, http::Method::GET) else {
            panic!("a valid head was refused");
        };
        assert_eq!(parsed.parts.status, 200);
        assert_eq!(parsed.framing, Framing::Length(3));
        assert!(parsed.keep_alive);
        assert_eq!(parsed.parts.headers["x-a"], "b");
        let Ok(parsed) = head(b"HTTP/1.0 204 No Content\r\n\r\n", http::Method::DELETE) else {
            panic!("a valid head was refused");
        };
        assert_eq!(parsed.framing, Framing::Empty);
        assert!(!parsed.keep_alive);
        assert!(matches!(head(b"", http::Method::GET), Err(NoHead::Silent)));
        assert!(refused(b"garbage\r\n\r\n"));
        assert!(
            refused(b"HTTP/1.1 200 OK\r\nContent-Le"),
            "half a head is no silence"
        );
    }

    #[test]
    fn framing_is_strict() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(refused(raw), "{}", String::from_utf8_lossy(raw));
        }
        let kept = |raw: &[u8]| {
            head(raw, http::Method::GET)
                .ok()
                .map(|h| (h.framing, h.keep_alive))
        };
        assert_eq!(
            kept(
                b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
            ),
            Some((Framing::Chunked, false)),
            "HTTP/1.0 with chunked is read, and the connection closed"
        );
        assert_eq!(
            kept(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            Some((Framing::Chunked, false)),
            "Transfer-Encoding wins over Content-Length, and the connection is closed"
        );
        assert_eq!(
            kept(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"),
            Some((Framing::Length(1), false)),
            "any close token closes"
        );
        assert_eq!(
            kept(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: upgrade, Close\r\n\r\n"),
            Some((Framing::Length(1), false))
        );
        let (result, _) = body(b"+5\r\nhello\r\n0\r\n\r\n", Framing::Chunked);
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let (result, _) = body(b"5 x\r\nhello\r\n0\r\n\r\n", Framing::Chunked);
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let (result, done) = body(b"5 ;a=b\r\nhello\r\n0\r\n\r\n", Framing::Chunked);
        assert_eq!(result.unwrap(), b"hello");
        assert!(done);
    }

    #[test]
    fn lines_stop_at_their_limits() {
        let long = [b'a'; 100_000];
        let mut raw = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        raw.extend_from_slice(&long);
        assert!(refused(&raw), "a head line longer than the head limit");
        let mut chunked = b"5".to_vec();
        chunked.extend_from_slice(&[b'0'; CHUNK_LINE_LIMIT]);
        let (result, _) = body(&chunked, Framing::Chunked);
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut trailers = b"1\r\na\r\n0\r\n".to_vec();
        for _ in 0..TRAILER_LIMIT / 10 + 1 {
            trailers.extend_from_slice(b"X: 12345\r\n");
        }
        let (result, _) = body(&trailers, Framing::Chunked);
        assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut interim = Vec::new();
        for _ in 0..=INTERIM_LIMIT {
            interim.extend_from_slice(b"HTTP/1.1 103 Early Hints\r\n\r\n");
        }
        interim.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert!(refused(&interim));
    }

    /// Input that fails once, with a timeout, at a given offset.
    struct Stalls<'a> {
        bytes: &'a [u8],
        pos: usize,
        at: usize,
        stalled: bool,
    }

    impl Read for Stalls<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if !self.stalled && self.pos == self.at {
                self.stalled = true;
                return Err(io::Error::new(io::ErrorKind::WouldBlock, "stalled"));
            }
            let end = if self.stalled {
                self.bytes.len()
            } else {
                self.at
            };
            let n = buf.len().min(end - self.pos);
            buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn a_timeout_anywhere_loses_no_byte() {
        let raw = b"3;x\r\nabc\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n";
        for at in 0..raw.len() {
            let input = Stalls {
                bytes: raw,
                pos: 0,
                at,
                stalled: false,
            };
            let mut framed = FramedBody::new(BufReader::with_capacity(4, input), Framing::Chunked);
            let mut out = Vec::new();
            let mut buf = [0u8; 3];
            let mut timeouts = 0;
            loop {
                match framed.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => timeouts += 1,
                    Err(error) => panic!("offset {at}: {error}"),
                }
                assert!(timeouts <= 1, "offset {at}: the stall repeats");
            }
            assert_eq!(out, b"abchello", "offset {at}");
            assert!(framed.done(), "offset {at}");
        }
    }

    #[test]
    fn requests_carry_host_length_and_body() {
        let request = http::Request::post("http://h.example:8080/oauth/token?x=1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(b"a=b".to_vec())
            .unwrap();
        let mut out = Vec::new();
        write_request(&mut out, &request, "h.example:8080", None).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("POST /oauth/token?x=1 HTTP/1.1\r\nhost: h.example:8080\r\n"));
        assert!(text.contains("content-length: 3\r\n"));
        assert!(text.ends_with("\r\n\r\na=b"));
    }
}
