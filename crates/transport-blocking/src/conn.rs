//! Connections: TCP with connect and per-read/per-write timeouts, optionally under TLS.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use record_api::{TransportError, TransportErrorKind, http};

/// How TLS connections are made.
#[derive(Clone)]
pub(crate) enum Tls {
    /// rustls with this configuration.
    #[cfg(feature = "rustls")]
    Rustls(std::sync::Arc<rustls::ClientConfig>),
    /// The platform's TLS library.
    #[cfg(feature = "native-tls")]
    Native(native_tls::TlsConnector),
    /// No TLS support compiled in: `https` fails to connect.
    Unavailable,
}

impl Tls {
    /// The default: rustls with the webpki roots when compiled in, else the native library.
    pub(crate) fn default_config() -> Tls {
        #[cfg(feature = "rustls")]
        {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            // The application's process-wide provider when it installed one (aws-lc-rs, say, for
            // post-quantum key exchange), else ring's, which this crate enables.
            let provider = rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| {
                    #[allow(deprecated)] // ring offers no post-quantum key exchange: see above.
                    let ring = rustls::crypto::ring::default_provider();
                    std::sync::Arc::new(ring)
                });
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| builder.with_root_certificates(roots).with_no_client_auth());
            if let Ok(config) = config {
                return Tls::Rustls(std::sync::Arc::new(config));
            }
        }
        #[cfg(feature = "native-tls")]
        {
            if let Ok(connector) = native_tls::TlsConnector::new() {
                return Tls::Native(connector);
            }
        }
        Tls::Unavailable
    }
}

/// An open connection.
pub(crate) enum Conn {
    Plain(TcpStream),
    #[cfg(feature = "rustls")]
    Rustls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    #[cfg(feature = "native-tls")]
    Native(Box<native_tls::TlsStream<TcpStream>>),
}

impl Conn {
    /// Sets how long one read may wait.
    pub(crate) fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.tcp().set_read_timeout(Some(timeout))
    }

    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            Conn::Rustls(stream) => stream.get_ref(),
            #[cfg(feature = "native-tls")]
            Conn::Native(stream) => stream.get_ref(),
        }
    }

    /// Whether an idle connection was closed (or sent something unasked) by the server: it
    /// must not be used again.
    pub(crate) fn is_stale(&self) -> bool {
        let tcp = self.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let stale = !matches!(tcp.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        tcp.set_nonblocking(false).is_err() || stale
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.read(buf),
            #[cfg(feature = "rustls")]
            Conn::Rustls(stream) => stream.read(buf),
            #[cfg(feature = "native-tls")]
            Conn::Native(stream) => stream.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(tcp) => tcp.write(buf),
            #[cfg(feature = "rustls")]
            Conn::Rustls(stream) => stream.write(buf),
            #[cfg(feature = "native-tls")]
            Conn::Native(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(tcp) => tcp.flush(),
            #[cfg(feature = "rustls")]
            Conn::Rustls(stream) => stream.flush(),
            #[cfg(feature = "native-tls")]
            Conn::Native(stream) => stream.flush(),
        }
    }
}

/// Opens a connection to `host:port` (directly, or through `proxy`), under TLS when `secure`;
/// the handshake is complete when this returns, so a failure here means the request never left.
/// Every read and write until then (the proxy's tunnel, the TLS handshake) waits at most the
/// connect timeout; the connection then gets the read timeout.
pub(crate) fn connect(
    host: &str,
    port: u16,
    secure: bool,
    tls: &Tls,
    proxy: Option<&crate::Proxy>,
    (connect_timeout, io_timeout): (Duration, Duration),
) -> Result<Conn, TransportError> {
    let name = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = match proxy {
        None => tcp_connect(name, port, connect_timeout)?,
        Some(proxy) => {
            let tcp = tcp_connect(&proxy.host, proxy.port, connect_timeout)?;
            if secure {
                tunnel(tcp, host, port, proxy)?
            } else {
                tcp
            }
        }
    };
    let conn = if secure {
        handshake(name, tcp, tls)?
    } else {
        Conn::Plain(tcp)
    };
    let tcp = conn.tcp();
    let setup = tcp
        .set_read_timeout(Some(io_timeout))
        .and_then(|()| tcp.set_write_timeout(Some(io_timeout)));
    setup.map_err(|e| TransportError::new(TransportErrorKind::Connect, false).with_source(e))?;
    Ok(conn)
}

/// The error of an I/O failure while a connection is opened: a timeout when it waited too
/// long (`WouldBlock` is how a socket timeout shows on Unix), else a connect error.
fn opening_failed(error: io::Error) -> TransportError {
    let kind = match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Connect,
    };
    TransportError::new(kind, false).with_source(error)
}

/// Asks `proxy` (already connected on `tcp`) for a tunnel to `host:port`.
fn tunnel(
    mut tcp: TcpStream,
    host: &str,
    port: u16,
    proxy: &crate::Proxy,
) -> Result<TcpStream, TransportError> {
    let failed = |source: &'static str| {
        TransportError::new(TransportErrorKind::Connect, false).with_source(source)
    };
    let target = format!("{host}:{port}");
    let request = format!(
        "CONNECT {target} HTTP/1.1\r\nhost: {target}\r\n{}\r\n",
        proxy.authorization_line()
    );
    tcp.write_all(request.as_bytes())
        .map_err(|_| failed("the proxy could not be reached"))?;
    let mut input = io::BufReader::new(&tcp);
    let head = crate::wire::read_head(&mut input, &http::Method::CONNECT, &mut ())
        .map_err(|_| failed("the proxy did not answer the tunnel request"))?;
    if !head.parts.status.is_success() || !input.buffer().is_empty() {
        return Err(failed("the proxy refused the tunnel"));
    }
    drop(input);
    Ok(tcp)
}

/// A TCP connection to the first address of `name` that answers, each read and write waiting
/// at most `timeout`.
fn tcp_connect(name: &str, port: u16, timeout: Duration) -> Result<TcpStream, TransportError> {
    let not_sent = |kind| TransportError::new(kind, false);
    let addresses = (name, port)
        .to_socket_addrs()
        .map_err(|e| not_sent(TransportErrorKind::Connect).with_source(e))?;
    let mut last = None;
    let mut tcp = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(error) => last = Some(error),
        }
    }
    let tcp = tcp.ok_or_else(|| match last {
        Some(error) => opening_failed(error),
        None => not_sent(TransportErrorKind::Connect).with_source("the host has no address"),
    })?;
    let setup = tcp
        .set_read_timeout(Some(timeout))
        .and_then(|()| tcp.set_write_timeout(Some(timeout)))
        .and_then(|()| tcp.set_nodelay(true));
    setup.map_err(|e| not_sent(TransportErrorKind::Connect).with_source(e))?;
    Ok(tcp)
}

fn handshake(name: &str, tcp: TcpStream, tls: &Tls) -> Result<Conn, TransportError> {
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| {
        TransportError::new(TransportErrorKind::Connect, false).with_source(source)
    };
    match tls {
        #[cfg(feature = "rustls")]
        Tls::Rustls(config) => {
            let server = rustls::pki_types::ServerName::try_from(name.to_owned())
                .map_err(|e| failed(Box::new(e)))?;
            let connection = rustls::ClientConnection::new(std::sync::Arc::clone(config), server)
                .map_err(|e| failed(Box::new(e)))?;
            let mut stream = rustls::StreamOwned::new(connection, tcp);
            while stream.conn.is_handshaking() {
                stream
                    .conn
                    .complete_io(&mut stream.sock)
                    .map_err(opening_failed)?;
            }
            Ok(Conn::Rustls(Box::new(stream)))
        }
        #[cfg(feature = "native-tls")]
        Tls::Native(connector) => match connector.connect(name, tcp) {
            Ok(stream) => Ok(Conn::Native(Box::new(stream))),
            Err(native_tls::HandshakeError::WouldBlock(_)) => Err(opening_failed(io::Error::new(
                io::ErrorKind::TimedOut,
                "the TLS handshake timed out",
            ))),
            Err(error) => Err(failed(error.to_string().into())),
        },
        Tls::Unavailable => {
            drop((name, tcp));
            Err(failed(
                "no TLS support is compiled in (features `rustls` or `native-tls`)".into(),
            ))
        }
    }
}
