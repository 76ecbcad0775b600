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
