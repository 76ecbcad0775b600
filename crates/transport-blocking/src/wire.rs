//! HTTP/1.1 on the wire: the request head and body, the response head, and how the response
//! body is delimited. Nothing here logs: no byte that crosses the wire is ever written anywhere
//! else.

use std::io::{self, BufRead, Read, Write};

use record_api::{TransportError, TransportErrorKind, http};

/// The longest response head accepted.
const HEAD_LIMIT: usize = 64 * 1024;
/// The most headers a response may have.
const HEADER_COUNT: usize = 128;

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

/// Reads a response head, skipping interim `1xx` answers. `Ok(None)` when the connection was
/// closed before the first byte of an answer.
pub(crate) fn read_head(
    input: &mut impl BufRead,
    method: &http::Method,
) -> Result<Option<Head>, TransportError> {
    loop {
        let Some(raw) = read_head_bytes(input)? else {
            return Ok(None);
        };
        let head = parse_head(&raw, method)?;
        if head.parts.status.is_informational() {
            continue;
        }
        return Ok(Some(head));
    }
}

/// The bytes of one head, up to and including the blank line.
fn read_head_bytes(input: &mut impl BufRead) -> Result<Option<Vec<u8>>, TransportError> {
    let mut raw = Vec::with_capacity(1024);
    loop {
        let n = input
            .read_until(b'\n', &mut raw)
            .map_err(TransportError::body_read)?;
        if n == 0 {
            if raw.is_empty() {
                return Ok(None);
            }
            return Err(protocol(
                "the connection closed in the middle of the response head",
            ));
        }
        if raw.ends_with(b"\r\n\r\n") || raw.ends_with(b"\n\n") || raw == b"\r\n" {
            if raw == b"\r\n" {
                // A stray empty line before a head: skip it.
                raw.clear();
                continue;
            }
            return Ok(Some(raw));
        }
        if raw.len() > HEAD_LIMIT {
            return Err(protocol("the response head is too large"));
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
    let framing = framing_of(&parts, method)?;
    let connection = parts
        .headers
        .get(http::header::CONNECTION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let keep_alive = framing != Framing::Close
        && if version == http::Version::HTTP_10 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };
    Ok(Head {
        parts,
        framing,
        keep_alive,
    })
}

fn framing_of(
    parts: &http::response::Parts,
    method: &http::Method,
) -> Result<Framing, TransportError> {
    let status = parts.status;
    if method == http::Method::HEAD
        || (method == http::Method::CONNECT && status.is_success())
        || status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED
    {
        return Ok(Framing::Empty);
    }
    let chunked = parts
        .headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
    if chunked {
        return Ok(Framing::Chunked);
    }
    let mut lengths = parts.headers.get_all(http::header::CONTENT_LENGTH).iter();
    match lengths.next() {
        None => Ok(Framing::Close),
        Some(value) => {
            let length = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| protocol("invalid Content-Length"))?;
            if lengths.any(|other| other != value) {
                return Err(protocol("conflicting Content-Length headers"));
            }
            Ok(Framing::Length(length))
        }
    }
}

/// Reads a response body as its framing delimits it; `done()` tells when it ended cleanly.
pub(crate) struct FramedBody<R> {
    input: R,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// This many bytes left of a `Content-Length` body, or of the current chunk.
    Remaining { left: u64, chunked: bool },
    /// Between chunks: the next size line is due.
    ChunkSize,
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
        FramedBody { input, state }
    }

    /// Whether the body ended cleanly, so the connection can carry another request.
    pub(crate) fn done(&self) -> bool {
        self.state == State::Done
    }

    /// The connection under the body.
    pub(crate) fn into_inner(self) -> R {
        self.input
    }

    /// Reads a chunk-size line (and, for the last chunk, the trailers).
    fn next_chunk(&mut self) -> io::Result<()> {
        let mut line = Vec::new();
        if self.input.read_until(b'\n', &mut line)? == 0 {
            return Err(eof("the connection closed before the next chunk"));
        }
        let text = std::str::from_utf8(&line).map_err(|_| invalid("a chunk size is not text"))?;
        let size = text.trim().split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| invalid("invalid chunk size"))?;
        if size > 0 {
            self.state = State::Remaining {
                left: size,
                chunked: true,
            };
            return Ok(());
        }
        // The last chunk: trailers until an empty line.
        loop {
            line.clear();
            if self.input.read_until(b'\n', &mut line)? == 0 {
                return Err(eof("the connection closed in the trailers"));
            }
            if line == b"\r\n" || line == b"\n" {
                self.state = State::Done;
                return Ok(());
            }
        }
    }

    /// Reads the `\r\n` after a chunk's data.
    fn end_chunk(&mut self) -> io::Result<()> {
        let mut crlf = Vec::with_capacity(2);
        self.input.read_until(b'\n', &mut crlf)?;
        if crlf != b"\r\n" && crlf != b"\n" {
            return Err(invalid("a chunk does not end with CRLF"));
        }
        self.state = State::ChunkSize;
        Ok(())
    }
}

impl<R: BufRead> Read for FramedBody<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::ChunkSize => self.next_chunk()?,
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
                    if left > 0 {
                        self.state = State::Remaining { left, chunked };
                    } else if chunked {
                        self.end_chunk()?;
                    } else {
                        self.state = State::Done;
                    }
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

    #[test]
    fn heads_are_parsed_and_interim_answers_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc";
        let mut input = BufReader::new(&raw[..]);
        let head = read_head(&mut input, &http::Method::GET).unwrap().unwrap();
        assert_eq!(head.parts.status, 200);
        assert_eq!(head.framing, Framing::Length(3));
        assert!(head.keep_alive);
        assert_eq!(head.parts.headers["x-a"], "b");
        let raw = b"HTTP/1.0 204 No Content\r\n\r\n";
        let head = read_head(&mut BufReader::new(&raw[..]), &http::Method::DELETE)
            .unwrap()
            .unwrap();
        assert_eq!(head.framing, Framing::Empty);
        assert!(!head.keep_alive);
        assert!(
            read_head(&mut BufReader::new(&b""[..]), &http::Method::GET)
                .unwrap()
                .is_none()
        );
        assert!(
            read_head(
                &mut BufReader::new(&b"garbage\r\n\r\n"[..]),
                &http::Method::GET
            )
            .is_err()
        );
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
