//! The transport against small HTTP/1.1 servers on loopback: connection reuse, a kept
//! connection the server closed, chunked and gzip bodies, status codes as responses, sizes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use record_api::{BlockingTransport, TransportErrorKind, http};
use transport_blocking::HttpTransport;

/// A server that answers each request on a connection with `answer(n)` (n counts requests),
/// and closes the connection after `per_connection` answers.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    /// Connections the server has closed (counted once its socket is dropped).
    closed: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(per_connection: usize, answer: fn(usize) -> Vec<u8>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (count, ended, seen) = (connections.clone(), closed.clone(), heads.clone());
        std::thread::spawn(move || {
            let requests = AtomicUsize::new(0);
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                count.fetch_add(1, Ordering::SeqCst);
                serve(stream, per_connection, answer, &requests, &seen);
                ended.fetch_add(1, Ordering::SeqCst);
            }
        });
        Server {
            port,
            connections,
            closed,
            heads,
        }
    }

    /// Waits (bounded) until the server has closed `count` connections.
    fn wait_closed(&self, count: usize) {
        let started = std::time::Instant::now();
        while self.closed.load(Ordering::SeqCst) < count {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the server closed {} connections, not {count}",
                self.closed.load(Ordering::SeqCst)
            );
            std::thread::yield_now();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn serve(
    stream: TcpStream,
    per_connection: usize,
    answer: fn(usize) -> Vec<u8>,
    requests: &AtomicUsize,
    seen: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    for _ in 0..per_connection {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        seen.lock().unwrap().push(head);
        let n = requests.fetch_add(1, Ordering::SeqCst);
        if writer.write_all(&answer(n)).is_err() {
            return;
        }
    }
}

fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).unwrap()
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn kept_alive_connections_are_reused() {
    let server = Server::start(100, |n| ok(&format!("answer {n}")));
    let transport = HttpTransport::new();
    for n in 0..5 {
        let response = transport.send(get(&server.url("/a"))).unwrap();
        assert_eq!(response.body(), format!("answer {n}").as_bytes());
    }
    // A streamed body read to its end frees its connection too.
    let mut body = String::new();
    let response = transport.send_streaming(get(&server.url("/b"))).unwrap();
    response.into_body().read_to_string(&mut body).unwrap();
    assert_eq!(body, "answer 5");
    transport.send(get(&server.url("/c"))).unwrap();
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    let heads = server.heads.lock().unwrap();
    assert!(
        heads[0].starts_with("GET /a HTTP/1.1\r\nhost: 127.0.0.1:"),
        "{}",
        heads[0]
    );
}

#[test]
fn a_kept_connection_the_server_closed_is_replaced() {
    // One answer per connection, without saying `connection: close`.
    let server = Server::start(1, |n| ok(&format!("answer {n}")));
    let transport = HttpTransport::new();
    for n in 0..4 {
        // The server numbers every request: GET 0, DELETE 1, GET 2, ...
        let response = transport.send(get(&server.url("/"))).unwrap();
        assert_eq!(response.body(), format!("answer {}", 2 * n).as_bytes());
        // The server has hung up on the connection the transport keeps (a request sent
        // before its FIN arrives is the race every HTTP/1.1 client lives with; not this test's).
        server.wait_closed(2 * n + 1);
        let delete = http::Request::delete(server.url("/x"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(transport.send(delete).unwrap().status(), 200);
        server.wait_closed(2 * n + 2);
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 8);
}

#[test]
fn chunked_gzip_bodies_are_decoded() {
    let server = Server::start(10, |_| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(br#"[{"record_uuid": "1-AB"}]"#).unwrap();
        let compressed = gz.finish().unwrap();
        let (first, second) = compressed.split_at(7);
        let mut out =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-encoding: gzip\r\n\r\n"
                .to_vec();
        for part in [first, second] {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        out
    });
    let transport = HttpTransport::new();
    for _ in 0..3 {
        let response = transport.send(get(&server.url("/list"))).unwrap();
        assert_eq!(response.body(), br#"[{"record_uuid": "1-AB"}]"#);
        assert!(response.headers().get("content-encoding").is_none());
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn error_statuses_are_responses_and_bodies_sized() {
    let server = Server::start(10, |n| match n {
        0 => b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}".to_vec(),
        _ => b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
    });
    let transport = HttpTransport::new();
    assert_eq!(transport.send(get(&server.url("/"))).unwrap().status(), 404);
    let delete = http::Request::delete(server.url("/r"))
        .body(Vec::new())
        .unwrap();
    assert_eq!(transport.send(delete).unwrap().status(), 204);
    // A body shorter than its length, then the server hangs up.
    let short = Server::start(1, |_| {
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort".to_vec()
    });
    let error = transport.send(get(&short.url("/"))).unwrap_err();
    assert!(error.may_have_been_sent());
    assert_eq!(error.kind(), TransportErrorKind::Protocol);
    let refused = HttpTransport::new()
        .send(get("http://127.0.0.1:1/"))
        .unwrap_err();
    assert_eq!(refused.kind(), TransportErrorKind::Connect);
    assert!(!refused.may_have_been_sent());
}

#[test]
fn plain_http_goes_to_a_proxy_in_absolute_form_with_its_credentials() {
    let proxy = Server::start(10, |_| ok("via proxy"));
    let transport = HttpTransport::new().with_proxy(Some(
        transport_blocking::Proxy::parse(&format!("http://ops:s3cret@127.0.0.1:{}", proxy.port))
            .unwrap(),
    ));
    let response = transport
        .send(get(
            "http://api.example.org/api/ver1.0/client/@me/record/?a=1",
        ))
        .unwrap();
    assert_eq!(response.body(), b"via proxy");
    let heads = proxy.heads.lock().unwrap();
    assert!(
        heads[0].starts_with(
            "GET http://api.example.org/api/ver1.0/client/@me/record/?a=1 HTTP/1.1\r\nhost: api.example.org\r\nproxy-authorization: Basic b3BzOnMzY3JldA==\r\n"
        ),
        "{}",
        heads[0]
    );
}
