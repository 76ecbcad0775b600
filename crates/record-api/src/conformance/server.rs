//! The kit's hostile server: a loopback listener that runs one script on every connection it
//! accepts, each in its own thread, and counts what it sees.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What a server saw.
#[derive(Default)]
pub(crate) struct Counts {
    /// Connections accepted.
    pub(crate) connections: AtomicUsize,
    /// Bytes sent on every connection.
    pub(crate) sent: AtomicUsize,
    /// The request line of every request received, in order.
    lines: Mutex<Vec<String>>,
    /// The header lines of every request received, in order (names in lower case).
    heads: Mutex<Vec<Vec<String>>>,
}

impl Counts {
    /// The request lines received so far.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The header lines of every request received so far.
    pub(crate) fn heads(&self) -> Vec<Vec<String>> {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests of `method` were received.
    pub(crate) fn of(&self, method: &str) -> usize {
        let prefix = format!("{method} ");
        self.requests()
            .iter()
            .filter(|line| line.starts_with(&prefix))
            .count()
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

type Script = dyn Fn(&mut Peer) + Send + Sync;

/// A listener on loopback running a script per connection; stopped when dropped.
pub(crate) struct Server {
    address: SocketAddr,
    pub(crate) counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// A server on `127.0.0.1`.
    pub(crate) fn start(script: impl Fn(&mut Peer) + Send + Sync + 'static) -> io::Result<Server> {
        Server::start_on("127.0.0.1:0", script)
    }

    /// A server on `address` (`[::1]:0` for IPv6 loopback).
    pub(crate) fn start_on(
        address: &str,
        script: impl Fn(&mut Peer) + Send + Sync + 'static,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(address)?;
        let address = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let (seen, stopped) = (Arc::clone(&counts), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                seen.connections.fetch_add(1, Ordering::SeqCst);
                let (script, counts) = (Arc::clone(&script), Arc::clone(&seen));
                std::thread::spawn(move || {
                    if let Ok(mut peer) = Peer::new(stream, counts) {
                        script(&mut peer);
                    }
                });
            }
        });
        Ok(Server {
            address,
            counts,
            stop,
        })
    }

    /// `http://host:port` and `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// `https://host:port` and `path`.
    pub(crate) fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.address)
    }

    pub(crate) fn port(&self) -> u16 {
        self.address.port()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the stop.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
    }
}

/// One accepted connection, as a script drives it.
pub(crate) struct Peer {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    counts: Arc<Counts>,
}

impl Peer {
    fn new(stream: TcpStream, counts: Arc<Counts>) -> io::Result<Peer> {
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.set_nodelay(true)?;
        let writer = stream.try_clone()?;
        Ok(Peer {
            reader: BufReader::new(stream),
            writer,
            counts,
        })
    }

    /// Reads one request (its head and a `Content-Length` body) and returns its request line;
    /// `None` once the client closed the connection.
    pub(crate) fn request(&mut self) -> Option<String> {
        let mut first = String::new();
        let mut length = 0usize;
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if first.is_empty() {
                first = line.trim_end().to_owned();
            } else if let Some((name, value)) = line.split_once(':') {
                head.push(format!(
                    "{}: {}",
                    name.trim().to_ascii_lowercase(),
                    value.trim()
                ));
                if name.trim().eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().ok()?;
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).ok()?;
        self.counts
            .lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(first.clone());
        self.counts
            .heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(head);
        Some(first)
    }

    /// Sends `bytes`; `false` once the client is gone.
    pub(crate) fn send(&mut self, bytes: &[u8]) -> bool {
        let sent = self
            .writer
            .write_all(bytes)
            .and_then(|()| self.writer.flush());
        if sent.is_ok() {
            self.counts.sent.fetch_add(bytes.len(), Ordering::SeqCst);
        }
        sent.is_ok()
    }

    /// Sends `byte` over and over, up to `total` bytes or until the client is gone.
    pub(crate) fn flood(&mut self, byte: u8, total: u64) {
        let block = [byte; 64 * 1024];
        let mut left = total;
        while left > 0 {
            let n = usize::try_from(left.min(block.len() as u64)).unwrap_or(block.len());
            if !self.send(&block[..n]) {
                return;
            }
            left -= n as u64;
        }
    }

    /// Sends `bytes` one at a time, `pause` apart, until all are sent or the client is gone;
    /// returns how many were sent.
    pub(crate) fn drip(&mut self, bytes: &[u8], pause: Duration) -> usize {
        for (n, byte) in bytes.iter().enumerate() {
            if !self.send(&[*byte]) {
                return n;
            }
            std::thread::sleep(pause);
        }
        bytes.len()
    }

    /// Waits until the client closes the connection, at most `limit`.
    pub(crate) fn until_closed(&mut self, limit: Duration) {
        let end = Instant::now() + limit;
        let mut buf = [0u8; 1024];
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if left.is_zero() || self.reader.get_ref().set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.reader.read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}
