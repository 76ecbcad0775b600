//! Idle connections kept per scheme, host and port, for the next request to the same place.

use std::collections::HashMap;
use std::io::BufReader;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use record_api::{TransportError, TransportErrorKind, http};

use crate::conn::Conn;

/// The most idle connections kept per host.
const IDLE_PER_HOST: usize = 16;
/// How long an idle connection is kept.
const IDLE_FOR: Duration = Duration::from_secs(30);

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) secure: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Key {
    /// The key of a request's URI: `http` or `https`, with a host.
    pub(crate) fn of(uri: &http::Uri) -> Result<Key, TransportError> {
        let refused = |why: &'static str| {
            TransportError::new(TransportErrorKind::Request, false).with_source(why)
        };
        let secure = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(refused("the URI's scheme is neither http nor https")),
        };
        // The same parse as the SDK's checks of a host (loopback, storage links).
        let host =
            record_api::authority_host(uri).ok_or_else(|| refused("the URI has no valid host"))?;
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        Ok(Key {
            secure,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub(crate) fn host_header(&self) -> String {
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

type Idle = HashMap<Key, Vec<(Instant, BufReader<Conn>)>>;

/// The idle connections of a transport.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Arc<Mutex<Idle>>,
}

/// A handle a response body keeps, to give its connection back.
pub(crate) struct Pooled {
    idle: Arc<Mutex<Idle>>,
}

fn lock(idle: &Mutex<Idle>) -> std::sync::MutexGuard<'_, Idle> {
    idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Pool {
    /// An idle connection to `key` that is still open, if any.
    pub(crate) fn take(&self, key: &Key) -> Option<BufReader<Conn>> {
        let mut idle = lock(&self.idle);
        let list = idle.get_mut(key)?;
        while let Some((since, conn)) = list.pop() {
            if since.elapsed() < IDLE_FOR && conn.buffer().is_empty() && !conn.get_ref().is_stale()
            {
                return Some(conn);
            }
        }
        None
    }

    pub(crate) fn handle(&self) -> Pooled {
        Pooled {
            idle: Arc::clone(&self.idle),
        }
    }
}

impl Pooled {
    /// Keeps `conn`, whose last answer was read to its end, for the next request to `key`.
    pub(crate) fn put(&self, key: Key, conn: BufReader<Conn>) {
        let mut idle = lock(&self.idle);
        let list = idle.entry(key).or_default();
        list.retain(|(since, _)| since.elapsed() < IDLE_FOR);
        if list.len() < IDLE_PER_HOST {
            list.push((Instant::now(), conn));
        }
    }
}
