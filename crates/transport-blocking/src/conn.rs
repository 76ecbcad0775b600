//! Connections: TCP with connect and per-read/per-write timeouts, optionally under TLS.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use record_api::{TransportError, TransportErrorKind};

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

/// Opens a connection to `host:port`, under TLS when `secure`; the handshake is complete when
/// this returns, so a failure here means the request never left.
pub(crate) fn connect(
    host: &str,
    port: u16,
    secure: bool,
    tls: &Tls,
    connect_timeout: Duration,
    io_timeout: Duration,
) -> Result<Conn, TransportError> {
    let not_sent = |kind| TransportError::new(kind, false);
    // `[::1]` in a URI is `::1` for the resolver.
    let name = host.trim_start_matches('[').trim_end_matches(']');
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
    if !secure {
        return Ok(Conn::Plain(tcp));
    }
    handshake(name, tcp, tls)
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
