//! The cases: each starts its server, builds a transport for its setup, and checks what the
//! transport did.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::server::{Peer, Server};
use super::{Body, Case, PeakAlloc, Setup, Under, describe};

/// What a case needs: the transports, and how memory is counted.
pub(super) struct Context<'a, U> {
    pub(super) make: &'a dyn Fn(&Setup) -> U,
    pub(super) memory: Option<(&'static PeakAlloc, usize)>,
}

/// How a case that did not fail ended.
pub(super) enum Ran {
    Passed,
    /// This machine cannot run it.
    NotHere(&'static str),
}

type Checked = Result<Ran, String>;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
const GIB: u64 = 1 << 30;

pub(super) async fn run<U: Under>(case: Case, cx: &Context<'_, U>) -> Checked {
    match case {
        Case::KeepAlive => keep_alive(cx).await,
        Case::Chunked => chunked(cx).await,
        Case::Gzip => gzip(cx).await,
        Case::EmptyGzip => empty_gzip(cx).await,
        Case::Interim => interim(cx).await,
        Case::NoBody => no_body(cx).await,
        Case::ConnectionClose => until_close(cx, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it", "all of it").await,
        Case::Http10 => until_close(cx, b"HTTP/1.0 200 OK\r\n\r\nold body", "old body").await,
        Case::Redirect => redirect(cx).await,
        Case::ErrorStatus => error_status(cx).await,
        Case::EndlessHeadLine => endless(cx, "HTTP/1.1 200 OK\r\nX-Long: ".into(), b'a', false).await,
        Case::EndlessChunkLine => endless(cx, CHUNKED.into(), b'0', true).await,
        Case::EndlessTrailer => endless(cx, format!("{CHUNKED}1\r\na\r\n0\r\nX-Trailer: "), b'a', true).await,
        Case::EndlessChunkEnd => endless(cx, format!("{CHUNKED}1\r\na"), b'b', true).await,
        Case::NoResendAfterStall => no_resend(cx, |peer| peer.until_closed(Duration::from_secs(20))).await,
        Case::NoResendAfterHalfHead => no_resend(cx, |peer| {
            peer.send(b"HTTP/1.1 200 OK\r\nContent-Le");
        })
        .await,
        Case::NoResendAfterInvalidHead => no_resend(cx, |peer| {
            peer.send(b"NOT HTTP AT ALL\r\n\r\n");
        })
        .await,
        Case::NoResendAfterClose => no_resend(cx, |_| {}).await,
        Case::DrippingHead => dripping_head(cx).await,
        Case::SilentTlsServer => silent_tls(cx).await,
        Case::SignedLength => refused(cx, "HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello").await,
        Case::SignedChunkSize => refused(cx, &format!("{CHUNKED}+5\r\nhello\r\n0\r\n\r\n")).await,
        Case::ChunkedThenGzip => chunked_then_gzip(cx).await,
        Case::Http10Chunked => not_kept(cx, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n").await,
        Case::LengthAndChunked => not_kept(cx, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").await,
        Case::KeepAliveThenClose => not_kept(cx, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nConnection: close\r\n\r\nok").await,
        Case::TimeoutMidBody => timeout_mid_body(cx).await,
        Case::GzipBomb => gzip_bomb(cx).await,
        Case::BracketedHostWithSuffix => bracketed_host(cx).await,
        Case::ProxyAbsoluteForm => proxy_absolute(cx).await,
        Case::ProxyTunnel => proxy_tunnel(cx).await,
        Case::ProxyWithoutCredentials => proxy_without_credentials(cx).await,
        Case::OneFramingHeader => one_framing_header(cx).await,
    }
}

fn ensure(holds: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if holds { Ok(()) } else { Err(what()) }
}

fn start(script: impl Fn(&mut Peer) + Send + Sync + 'static) -> Result<Server, String> {
    Server::start(script).map_err(|error| format!("the kit's server did not start: {error}"))
}

/// A script answering every request on a connection with `answer`.
fn answering(answer: Vec<u8>) -> impl Fn(&mut Peer) + Send + Sync + 'static {
    move |peer| {
        while peer.request().is_some() {
            if !peer.send(&answer) {
                return;
            }
        }
    }
}

/// A script answering every request on a connection with what `route` gives for its request
/// line.
fn routing(route: fn(&str) -> &'static [u8]) -> impl Fn(&mut Peer) + Send + Sync + 'static {
    move |peer| {
        while let Some(line) = peer.request() {
            if !peer.send(route(&line)) {
                return;
            }
        }
    }
}

fn request(method: &str, url: &str) -> Result<http::Request<Vec<u8>>, String> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .header(http::header::ACCEPT_ENCODING, "gzip")
        .body(Vec::new())
        .map_err(|error| format!("the kit could not build its request: {error}"))
}

/// Sends a request and reads its whole body, as `send` does.
async fn whole<U: Under>(under: &U, method: &str, url: &str) -> Result<(u16, Vec<u8>), String> {
    let response = under
        .send(request(method, url)?)
        .await
        .map_err(|e| describe(&e))?;
    Ok((response.status().as_u16(), response.into_body()))
}

/// Sends a request and reads its body piece by piece, as `send_streaming` does.
async fn streamed<U: Under>(under: &U, url: &str) -> Result<(u16, Vec<u8>), String> {
    let response = under
        .open(request("GET", url)?)
        .await
        .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(piece) = body.next().await? {
        bytes.extend_from_slice(&piece);
    }
    Ok((status, bytes))
}

fn expect_body(got: Result<(u16, Vec<u8>), String>, want: &str, what: &str) -> Result<(), String> {
    let (status, body) = got.map_err(|error| format!("{what}: {error}"))?;
    ensure(status == 200 && body == want.as_bytes(), || {
        format!(
            "{what}: got {status} {:?}, want 200 {want:?}",
            String::from_utf8_lossy(&body)
        )
    })
}

fn connections(server: &Server, want: usize, why: &str) -> Result<(), String> {
    let got = server.counts.connections();
    ensure(got == want, || {
        format!("{got} connections, want {want}: {why}")
    })
}

async fn keep_alive<U: Under>(cx: &Context<'_, U>) -> Checked {
    let server = start(answering(OK.to_vec()))?;
    let under = (cx.make)(&Setup::default());
    expect_body(
        whole(&under, "GET", &server.url("/1")).await,
        "ok",
        "first request",
    )?;
    expect_body(
        streamed(&under, &server.url("/2")).await,
        "ok",
        "second request",
    )?;
    expect_body(
        whole(&under, "GET", &server.url("/3")).await,
        "ok",
        "third request",
    )?;
    connections(&server, 1, "a kept-alive connection is reused")?;
    Ok(Ran::Passed)
}

async fn chunked<U: Under>(cx: &Context<'_, U>) -> Checked {
    let answer = format!(
        "{CHUNKED}4;ext=1\r\nWiki\r\n5;name=\"quoted;value\"\r\npedia\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n"
    );
    let server = start(answering(answer.into_bytes()))?;
    let under = (cx.make)(&Setup::default());
    expect_body(
        streamed(&under, &server.url("/1")).await,
        "Wikipedia",
        "streamed",
    )?;
    expect_body(
        whole(&under, "GET", &server.url("/2")).await,
        "Wikipedia",
        "buffered",
    )?;
    connections(
        &server,
        1,
        "a chunked body read to its trailers frees its connection",
    )?;
    Ok(Ran::Passed)
}

fn gzipped(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

async fn gzip<U: Under>(cx: &Context<'_, U>) -> Checked {
    let text = "a gzip body, ".repeat(1000);
    let body = gzipped(text.as_bytes())?;
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    let server = start(answering(answer))?;
    let under = (cx.make)(&Setup::default());
    expect_body(
        whole(&under, "GET", &server.url("/1")).await,
        &text,
        "buffered",
    )?;
    expect_body(streamed(&under, &server.url("/2")).await, &text, "streamed")?;
    Ok(Ran::Passed)
}

async fn empty_gzip<U: Under>(cx: &Context<'_, U>) -> Checked {
    let server = start(routing(|line| {
        if line.contains(" /204 ") {
            b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n"
        }
    }))?;
    let under = (cx.make)(&Setup::default());
    for path in ["/204", "/200"] {
        let (status, body) = whole(&under, "DELETE", &server.url(path))
            .await
            .map_err(|error| format!("{path}, buffered: {error}"))?;
        ensure(body.is_empty(), || {
            format!("{path}: {status} with {} bytes", body.len())
        })?;
    }
    let (_, body) = streamed(&under, &server.url("/200"))
        .await
        .map_err(|error| format!("streamed: {error}"))?;
    ensure(body.is_empty(), || {
        format!("streamed: {} bytes", body.len())
    })?;
    Ok(Ran::Passed)
}

async fn interim<U: Under>(cx: &Context<'_, U>) -> Checked {
    let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let server = start(answering(answer.to_vec()))?;
    let under = (cx.make)(&Setup::default());
    expect_body(
        whole(&under, "GET", &server.url("/")).await,
        "ok",
        "after two interim answers",
    )?;
    Ok(Ran::Passed)
}

async fn no_body<U: Under>(cx: &Context<'_, U>) -> Checked {
    let server = start(routing(|line| {
        if line.starts_with("HEAD ") {
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
        } else if line.contains(" /204 ") {
            b"HTTP/1.1 204 No Content\r\n\r\n"
        } else if line.contains(" /304 ") {
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"
        } else {
            OK
        }
    }))?;
    let under = (cx.make)(&Setup::default());
    for (method, path, status) in [
        ("HEAD", "/", 200),
        ("GET", "/204", 204),
        ("GET", "/304", 304),
    ] {
        let (got, body) = whole(&under, method, &server.url(path))
            .await
            .map_err(|error| format!("{method} {path}: {error}"))?;
        ensure(got == status && body.is_empty(), || {
            format!(
                "{method} {path}: got {got} with {} bytes, want {status} and no body",
                body.len()
            )
        })?;
    }
    expect_body(
        whole(&under, "GET", &server.url("/")).await,
        "ok",
        "the request after them",
    )?;
    connections(&server, 1, "bodiless answers leave the connection ready")?;
    Ok(Ran::Passed)
}

async fn until_close<U: Under>(cx: &Context<'_, U>, answer: &'static [u8], want: &str) -> Checked {
    let server = start(move |peer| {
        if peer.request().is_some() {
            peer.send(answer);
        }
    })?;
    let under = (cx.make)(&Setup::default());
    expect_body(
        whole(&under, "GET", &server.url("/1")).await,
        want,
        "first request",
    )?;
    expect_body(
        streamed(&under, &server.url("/2")).await,
        want,
        "second request",
    )?;
    connections(&server, 2, "a connection the server closes is not reused")?;
    Ok(Ran::Passed)
}

async fn redirect<U: Under>(cx: &Context<'_, U>) -> Checked {
    let answer = b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n";
    let server = start(answering(answer.to_vec()))?;
    let under = (cx.make)(&Setup::default());
    let (status, _) = whole(&under, "GET", &server.url("/")).await?;
    ensure(status == 302, || {
        format!("got {status}, want the 302 itself")
    })?;
    let requests = server.counts.requests();
    ensure(requests.len() == 1, || {
        format!("the server got {requests:?}: the redirect was followed")
    })?;
    Ok(Ran::Passed)
}

async fn error_status<U: Under>(cx: &Context<'_, U>) -> Checked {
    let server = start(routing(|line| {
        if line.contains(" /404 ") {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 15\r\n\r\n{\"error\":\"no\"}\n"
        } else if line.contains(" /503 ") {
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy"
        } else {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom"
        }
    }))?;
    let under = (cx.make)(&Setup::default());
    for (path, status, body) in [
        ("/404", 404, "{\"error\":\"no\"}\n"),
        ("/500", 500, "boom"),
        ("/503", 503, "busy"),
    ] {
        let (got, bytes) = whole(&under, "DELETE", &server.url(path)).await?;
        ensure(got == status && bytes == body.as_bytes(), || {
            format!("{path}: got {got} {:?}", String::from_utf8_lossy(&bytes))
        })?;
    }
    Ok(Ran::Passed)
}

/// Counts the bytes in use while `work` runs, when the kit counts memory.
async fn bounded<T>(
    cx_memory: Option<(&'static PeakAlloc, usize)>,
    work: impl std::future::Future<Output = T>,
) -> Result<T, String> {
    let Some((allocator, bound)) = cx_memory else {
        return Ok(work.await);
    };
    allocator.reset_peak_usage();
    let before = allocator.current_usage();
    let result = work.await;
    let grown = allocator.peak_usage().saturating_sub(before);
    ensure(grown <= bound, || {
        format!(
            "the bytes in use grew by {grown} while the transport read, more than the bound of {bound}"
        )
    })?;
    Ok(result)
}

async fn endless<U: Under>(cx: &Context<'_, U>, head: String, byte: u8, body: bool) -> Checked {
    let server = start(move |peer| {
        if peer.request().is_some() && peer.send(head.as_bytes()) {
            peer.flood(byte, GIB);
        }
    })?;
    let under = (cx.make)(&Setup::default());
    let url = server.url("/");
    // Refused at the head or in the body: either will do, within the memory bound.
    let outcome: Result<(), String> = bounded(cx.memory, async {
        let response = under
            .open(request("GET", &url)?)
            .await
            .map_err(|e| describe(&e))?;
        if !body {
            return Ok(());
        }
        let mut response = response.into_body();
        while response.next().await?.is_some() {}
        Ok(())
    })
    .await?;
    let sent = server.counts.sent.load(std::sync::atomic::Ordering::SeqCst) as u64;
    match outcome {
        Ok(()) => Err("an endless line was accepted".into()),
        Err(_) if sent >= GIB => Err("the transport read the whole 1 GiB line".into()),
        Err(_) => Ok(Ran::Passed),
    }
}

async fn no_resend<U: Under>(cx: &Context<'_, U>, then: fn(&mut Peer)) -> Checked {
    let server = start(move |peer| {
        while let Some(line) = peer.request() {
            if !line.starts_with("GET ") {
                then(peer);
                return;
            }
            if !peer.send(OK) {
                return;
            }
        }
    })?;
    let setup = Setup {
        read_timeout: Duration::from_millis(800),
        ..Setup::default()
    };
    let under = (cx.make)(&setup);
    expect_body(
        whole(&under, "GET", &server.url("/")).await,
        "ok",
        "the GET that leaves a kept connection",
    )?;
    let deleted = under
        .send(request("DELETE", &server.url("/record/1"))?)
        .await;
    let deletes = server.counts.of("DELETE");
    ensure(deletes == 1, || {
        format!("the server received the DELETE {deletes} times")
    })?;
    match deleted {
        Ok(response) => Err(format!(
            "the DELETE got an answer ({}) the server never gave",
            response.status()
        )),
        Err(error) => {
            ensure(error.may_have_been_sent(), || {
                format!(
                    "the error ({}) says the DELETE was not sent, but the server received it",
                    describe(&error)
                )
            })?;
            Ok(Ran::Passed)
        }
    }
}

async fn dripping_head<U: Under>(cx: &Context<'_, U>) -> Checked {
    const PAUSE: Duration = Duration::from_millis(50);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: {}\r\n\r\nok",
        "a".repeat(200)
    );
    let server = start(move |peer| {
        if peer.request().is_some() {
            peer.drip(head.as_bytes(), PAUSE);
        }
    })?;
    let setup = Setup {
        connect_timeout: Duration::from_millis(500),
        read_timeout: Duration::from_millis(500),
        proxy: None,
    };
    let under = (cx.make)(&setup);
    let result = under.send(request("GET", &server.url("/"))?).await;
    let sent = server.counts.sent.load(std::sync::atomic::Ordering::SeqCst);
    // The connect and read timeouts together let about 20 bytes through; twice that is the
    // most allowed (the head has over 200).
    let waited = sent * 50;
    match result {
        Ok(response) => Err(format!(
            "the dripped head was read whole ({}, about {waited} ms)",
            response.status()
        )),
        Err(_) if sent > 40 => Err(format!(
            "the transport waited for {sent} dripped bytes of a head (about {waited} ms), with connect and read timeouts of 500 ms"
        )),
        Err(_) => Ok(Ran::Passed),
    }
}

async fn silent_tls<U: Under>(cx: &Context<'_, U>) -> Checked {
    let server = start(|peer| peer.until_closed(Duration::from_secs(30)))?;
    let setup = Setup {
        connect_timeout: Duration::from_millis(300),
        read_timeout: Duration::from_secs(10),
        proxy: None,
    };
    let under = (cx.make)(&setup);
    let started = Instant::now();
    let result = under.send(request("GET", &server.https_url("/"))?).await;
    let took = started.elapsed();
    let error = match result {
        Ok(response) => return Err(format!("a silent server answered {}", response.status())),
        Err(error) => error,
    };
    ensure(took < Duration::from_secs(5), || {
        format!(
            "the handshake with a silent server took {took:?}: the connect timeout is 300 ms, the read timeout 10 s"
        )
    })?;
    ensure(
        error.kind() == crate::TransportErrorKind::Timeout && !error.may_have_been_sent(),
        || {
            format!(
                "got {} (may have been sent: {}), want a timeout before anything was sent",
                describe(&error),
                error.may_have_been_sent()
            )
        },
    )?;
    Ok(Ran::Passed)
}

async fn refused<U: Under>(cx: &Context<'_, U>, answer: &str) -> Checked {
    let server = start(answering(answer.as_bytes().to_vec()))?;
    let under = (cx.make)(&Setup::default());
    match whole(&under, "GET", &server.url("/")).await {
        Err(_) => Ok(Ran::Passed),
        Ok((status, body)) => Err(format!(
            "the answer was accepted: {status} {:?}",
            String::from_utf8_lossy(&body)
        )),
    }
}

async fn chunked_then_gzip<U: Under>(cx: &Context<'_, U>) -> Checked {
    let answer =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    // Answered once, then closed: a client that reads such a body until the close ends soon.
    let server = start(move |peer| {
        if peer.request().is_some() {
            peer.send(answer.as_bytes());
        }
    })?;
    let under = (cx.make)(&Setup::default());
    match whole(&under, "GET", &server.url("/")).await {
        Ok((_, body)) if body == b"hello" => {
            Err("a body whose last transfer coding is gzip was decoded as chunked alone".into())
        }
        _ => Ok(Ran::Passed),
    }
}

async fn not_kept<U: Under>(cx: &Context<'_, U>, answer: &str) -> Checked {
    let server = start(answering(answer.as_bytes().to_vec()))?;
    let under = (cx.make)(&Setup::default());
    let _ = whole(&under, "GET", &server.url("/1")).await;
    let _ = whole(&under, "GET", &server.url("/2")).await;
    connections(
        &server,
        2,
        "an answer whose framing cannot be trusted must close its connection",
    )?;
    Ok(Ran::Passed)
}

async fn timeout_mid_body<U: Under>(cx: &Context<'_, U>) -> Checked {
    const TIMEOUT: Duration = Duration::from_millis(400);
    let server = start(|peer| {
        if peer.request().is_some() && peer.send(format!("{CHUNKED}5\r\nhello").as_bytes()) {
            std::thread::sleep(TIMEOUT * 3);
            if peer.send(b"\r\n5\r\nworld\r\n0\r\n\r\n") {
                peer.until_closed(Duration::from_secs(10));
            }
        }
    })?;
    let setup = Setup {
        read_timeout: TIMEOUT,
        ..Setup::default()
    };
    let under = (cx.make)(&setup);
    let response = under
        .open(request("GET", &server.url("/"))?)
        .await
        .map_err(|e| describe(&e))?;
    let mut body: Body = response.into_body();
    let mut data = Vec::new();
    let mut errors = 0;
    // Reads on after errors, as a caller retrying a read might.
    while errors < 4 {
        match body.next().await {
            Ok(Some(piece)) => data.extend_from_slice(&piece),
            Ok(None) => break,
            Err(_) => errors += 1,
        }
    }
    let whole = b"helloworld";
    ensure(data.len() >= 5 && whole.starts_with(&data), || {
        format!(
            "the reader handed out {:?}: bytes lost, or framing given as data",
            String::from_utf8_lossy(&data)
        )
    })?;
    Ok(Ran::Passed)
}

/// One gzip member that decodes to 1 GiB of zeros (about 1 MiB), made once and fast: a
/// deflate segment for 1 MiB of zeros, made from an empty history and ended by a full flush,
/// stands 1024 times in a row (it never refers to bytes before its own start, so each copy
/// decodes alone), then an empty final block, the CRC-32 and the length.
pub(super) fn bomb() -> Result<&'static [u8], String> {
    static BOMB: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let made = BOMB.get_or_init(|| {
        const COPIES: usize = 1024;
        let block = vec![0u8; 1 << 20];
        let mut deflate = flate2::Compress::new(flate2::Compression::default(), false);
        let mut segment = Vec::with_capacity(8 * 1024);
        deflate
            .compress_vec(&block, &mut segment, flate2::FlushCompress::Full)
            .map_err(|e| e.to_string())?;
        if deflate.total_in() != block.len() as u64 {
            return Err("the kit's bomb segment did not take its whole input".into());
        }
        let mut crc = flate2::Crc::new();
        crc.update(&block);
        let mut total = flate2::Crc::new();
        let mut bomb = Vec::with_capacity(segment.len() * COPIES + 32);
        bomb.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        for _ in 0..COPIES {
            bomb.extend_from_slice(&segment);
            total.combine(&crc);
        }
        // An empty final block with the fixed codes.
        bomb.extend_from_slice(&[0x03, 0x00]);
        bomb.extend_from_slice(&total.sum().to_le_bytes());
        bomb.extend_from_slice(&total.amount().to_le_bytes());
        Ok(bomb)
    });
    made.as_deref().map_err(Clone::clone)
}

async fn gzip_bomb<U: Under>(cx: &Context<'_, U>) -> Checked {
    let bomb = bomb()?;
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        bomb.len()
    )
    .into_bytes();
    answer.extend_from_slice(bomb);
    let server = start(answering(answer))?;
    let under = (cx.make)(&Setup::default());
    let url = server.url("/");
    let result = bounded(cx.memory, async {
        whole(&under, "GET", &url).await.map(|(_, body)| body.len())
    })
    .await?;
    match result {
        Ok(length) => Err(format!("a gzip bomb was buffered whole ({length} bytes)")),
        Err(_) => Ok(Ran::Passed),
    }
}

async fn bracketed_host<U: Under>(cx: &Context<'_, U>) -> Checked {
    let Ok(server) = Server::start_on("[::1]:0", answering(OK.to_vec())) else {
        return Ok(Ran::NotHere("this machine has no IPv6 loopback"));
    };
    let url = format!("http://[::1].evil.example:{}/storage/k", server.port());
    let Ok(request) = request("GET", &url) else {
        return Ok(Ran::NotHere(
            "the http crate refuses this URL before any transport sees it",
        ));
    };
    let under = (cx.make)(&Setup::default());
    let result = under.send(request).await;
    let reached = server.counts.connections();
    ensure(result.is_err() && reached == 0, || {
        "a request to [::1].evil.example went to ::1".into()
    })?;
    Ok(Ran::Passed)
}

async fn proxy_absolute<U: Under>(cx: &Context<'_, U>) -> Checked {
    let proxy = start(answering(OK.to_vec()))?;
    let setup = Setup {
        proxy: Some(proxy.url("")),
        ..Setup::default()
    };
    let under = (cx.make)(&setup);
    expect_body(
        whole(&under, "GET", "http://origin.invalid/path?q=1").await,
        "ok",
        "through the proxy",
    )?;
    let lines = proxy.counts.requests();
    ensure(
        lines == ["GET http://origin.invalid/path?q=1 HTTP/1.1"],
        || format!("the proxy received {lines:?}"),
    )?;
    Ok(Ran::Passed)
}

async fn proxy_tunnel<U: Under>(cx: &Context<'_, U>) -> Checked {
    let proxy = start(|peer| {
        if peer.request().is_some() {
            peer.send(b"HTTP/1.1 200 Connection established\r\n\r\n");
        }
    })?;
    let setup = Setup {
        proxy: Some(proxy.url("")),
        ..Setup::default()
    };
    let under = (cx.make)(&setup);
    // The tunnel's far end speaks no TLS, so the request fails after the CONNECT.
    let result = whole(&under, "GET", "https://origin.invalid/x").await;
    let lines = proxy.counts.requests();
    ensure(
        result.is_err()
            && lines
                .first()
                .is_some_and(|line| line.starts_with("CONNECT origin.invalid:443 HTTP/1.")),
        || format!("the proxy received {lines:?}"),
    )?;
    Ok(Ran::Passed)
}

async fn proxy_without_credentials<U: Under>(cx: &Context<'_, U>) -> Checked {
    let proxy = start(answering(OK.to_vec()))?;
    let setup = Setup {
        proxy: Some(proxy.url("")),
        ..Setup::default()
    };
    let under = (cx.make)(&setup);
    // Whether the transport refuses such a URL or sends it, no credential may go out.
    let _ = whole(
        &under,
        "GET",
        "http://kit-user:kit-pass@origin.invalid/path",
    )
    .await;
    let lines = proxy.counts.requests();
    let heads = proxy.counts.heads();
    ensure(
        lines
            .iter()
            .all(|line| !line.contains("kit-user") && !line.contains("kit-pass")),
        || format!("the proxy received {lines:?}"),
    )?;
    // Absolute form to the proxy, or origin form inside a tunnel: the host only.
    ensure(
        lines
            .iter()
            .filter(|line| line.starts_with("GET "))
            .all(|line| {
                line == "GET http://origin.invalid/path HTTP/1.1" || line == "GET /path HTTP/1.1"
            }),
        || format!("the proxy received {lines:?}, want the URL without its credentials"),
    )?;
    ensure(
        heads
            .iter()
            .flatten()
            .all(|line| !line.contains("kit-pass")),
        || format!("a header carried the password: {heads:?}"),
    )?;
    Ok(Ran::Passed)
}

async fn one_framing_header<U: Under>(cx: &Context<'_, U>) -> Checked {
    // One request a connection: a chunked body (one framing header too) is not read as the
    // next request.
    let server = start(|peer| {
        if peer.request().is_some() {
            peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    })?;
    let under = (cx.make)(&Setup::default());
    let request = http::Request::builder()
        .method("POST")
        .uri(server.url("/form"))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::TRANSFER_ENCODING, "chunked")
        .body(b"a=1&b=2".to_vec())
        .map_err(|error| format!("the kit could not build its request: {error}"))?;
    let sent = under.send(request).await.map_err(|e| describe(&e));
    let heads = server.counts.heads();
    let framing: Vec<Vec<&String>> = heads
        .iter()
        .map(|head| {
            head.iter()
                .filter(|line| {
                    line.starts_with("content-length:") || line.starts_with("transfer-encoding:")
                })
                .collect()
        })
        .collect();
    ensure(framing.iter().all(|lines| lines.len() == 1), || {
        format!("the server received the framing headers {framing:?}")
    })?;
    // Refused before it went out is fine too; a length sent must be the body's.
    let lengths_right = framing
        .iter()
        .flatten()
        .all(|line| !line.starts_with("content-length:") || line.as_str() == "content-length: 7");
    ensure(lengths_right, || {
        format!("the framing {framing:?} is not the body's")
    })?;
    if let Ok(response) = sent {
        ensure(response.status().as_u16() == 200, || {
            format!("got {} with the framing {framing:?}", response.status())
        })?;
    }
    Ok(Ran::Passed)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    #[test]
    /// The decoder checks the CRC-32 of the zeros and the length at the end.
    fn the_bomb_decodes_to_a_gibibyte_of_zeros() {
        let bomb = super::bomb().unwrap();
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        let mut decoder = flate2::read::GzDecoder::new(bomb);
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = decoder.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        assert_eq!(total, super::GIB);
    }
}
