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
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
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
pub(crate) fn connect(
    host: &str,
    port: u16,
    secure: bool,
    tls: &Tls,
    proxy: Option<&crate::Proxy>,
    timeouts: (Duration, Duration),
) -> Result<Conn, TransportError> {
    let name = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = match proxy {
        None => tcp_connect(name, port, timeouts)?,
        Some(proxy) => {
            let tcp = tcp_connect(&proxy.host, proxy.port, timeouts)?;
            if !secure {
                return Ok(Conn::Plain(tcp));
            }
            tunnel(tcp, host, port, proxy)?
        }
    };
    if !secure {
        return Ok(Conn::Plain(tcp));
    }
    handshake(name, tcp, tls)
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
    let head = crate::wire::read_head(&mut input, &http::Method::CONNECT)
        .map_err(|_| failed("the proxy did not answer the tunnel request"))?
        .ok_or_else(|| failed("the proxy closed the connection"))?;
    if !head.parts.status.is_success() || !input.buffer().is_empty() {
        return Err(failed("the proxy refused the tunnel"));
    }
    drop(input);
    Ok(tcp)
}

/// A TCP connection with the timeouts set, to the first address of `name` that answers.
fn tcp_connect(
    name: &str,
    port: u16,
    (connect_timeout, io_timeout): (Duration, Duration),
) -> Result<TcpStream, TransportError> {
    let not_sent = |kind| TransportError::new(kind, false);
    let addresses = (name, port)
        .to_socket_addrs()
        .map_err(|e| not_sent(TransportErrorKind::Connect).with_source(e))?;
    let mut last = None;
    let mut tcp = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, connect_timeout) {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(error) => last = Some(error),
        }
    }
    let tcp = tcp.ok_or_else(|| match last {
        Some(error) if error.kind() == io::ErrorKind::TimedOut => {
            not_sent(TransportErrorKind::Timeout).with_source(error)
        }
        Some(error) => not_sent(TransportErrorKind::Connect).with_source(error),
        None => not_sent(TransportErrorKind::Connect).with_source("the host has no address"),
    })?;
    let setup = tcp
        .set_read_timeout(Some(io_timeout))
        .and_then(|()| tcp.set_write_timeout(Some(io_timeout)))
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
                    .map_err(|e| failed(Box::new(e)))?;
            }
            Ok(Conn::Rustls(Box::new(stream)))
        }
        #[cfg(feature = "native-tls")]
        Tls::Native(connector) => connector
            .connect(name, tcp)
            .map(|stream| Conn::Native(Box::new(stream)))
            .map_err(|e| failed(e.to_string().into())),
        Tls::Unavailable => {
            drop((name, tcp));
            Err(failed(
                "no TLS support is compiled in (features `rustls` or `native-tls`)".into(),
            ))
        }
    }
}
