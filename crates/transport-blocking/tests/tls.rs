//! `https` through the transport's rustls path against a rustls server on loopback.
#![cfg(feature = "rustls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;

use record_api::{BlockingTransport, TransportErrorKind, http};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use transport_blocking::HttpTransport;

const CA: &[u8] = include_bytes!("tls/ca.pem");
const CERT: &[u8] = include_bytes!("tls/server.pem");
const KEY: &[u8] = include_bytes!("tls/server.key");

/// ring's provider, the one this crate enables (deprecated in rustls 0.23.48 for its lack of
/// post-quantum key exchange, which a loopback test does not need).
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server that answers every request on each connection with a small JSON body.
fn serve() -> u16 {
    let certs = vec![CertificateDer::from_pem_slice(CERT).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(KEY).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            let config = config.clone();
            std::thread::spawn(move || {
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut stream = BufReader::new(rustls::StreamOwned::new(connection, tcp));
                loop {
                    let mut line = String::new();
                    match stream.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            let body = br#"{"ok": true}"#;
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            let out = stream.get_mut();
                            if out
                                .write_all(head.as_bytes())
                                .and_then(|()| out.write_all(body))
                                .and_then(|()| out.flush())
                                .is_err()
                            {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    port
}

fn trusting_the_test_ca() -> HttpTransport {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    HttpTransport::new().with_rustls_config(Arc::new(config))
}

#[test]
fn https_works_and_connections_are_kept() {
    let port = serve();
    let transport = trusting_the_test_ca();
    for _ in 0..3 {
        let request = http::Request::get(format!("https://localhost:{port}/record/"))
            .body(Vec::new())
            .unwrap();
        let response = transport.send(request).unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.body(), br#"{"ok": true}"#);
    }
}

/// A proxy that opens `CONNECT` tunnels to 127.0.0.1 and remembers each request head.
fn tunnel_proxy() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = heads.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let target = head.split_whitespace().nth(1).unwrap().to_owned();
            let upstream_port = target.rsplit(':').next().unwrap();
            seen.lock().unwrap().push(head);
            let upstream =
                std::net::TcpStream::connect(format!("127.0.0.1:{upstream_port}")).unwrap();
            let mut to_client = client.try_clone().unwrap();
            to_client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .unwrap();
            let (mut up_read, mut up_write) = (upstream.try_clone().unwrap(), upstream);
            let mut client_read = client;
            std::thread::spawn(move || std::io::copy(&mut up_read, &mut to_client));
            std::thread::spawn(move || std::io::copy(&mut client_read, &mut up_write));
        }
    });
    (port, heads)
}

#[test]
fn https_goes_through_a_connect_tunnel() {
    let server = serve();
    let (proxy_port, heads) = tunnel_proxy();
    let proxy =
        transport_blocking::Proxy::parse(&format!("http://ops:pw@127.0.0.1:{proxy_port}")).unwrap();
    let transport = trusting_the_test_ca().with_proxy(Some(proxy));
    for _ in 0..2 {
        let request = http::Request::get(format!("https://localhost:{server}/record/"))
            .body(Vec::new())
            .unwrap();
        assert_eq!(transport.send(request).unwrap().body(), br#"{"ok": true}"#);
    }
    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 1, "one tunnel, kept alive");
    assert!(heads[0].starts_with(&format!(
        "CONNECT localhost:{server} HTTP/1.1\r\nhost: localhost:{server}\r\nproxy-authorization: Basic b3BzOnB3\r\n"
    )));
}

#[test]
fn an_untrusted_certificate_fails_before_anything_is_sent() {
    let port = serve();
    // The default roots do not hold the test CA.
    let request = http::Request::get(format!("https://localhost:{port}/"))
        .body(Vec::new())
        .unwrap();
    let error = HttpTransport::new().send(request).unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect);
    assert!(!error.may_have_been_sent());
}
