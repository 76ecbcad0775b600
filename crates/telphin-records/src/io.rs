//! What the [driver](crate::driver) needs from a client: send, open, read a body, sleep, obtain
//! a token — and from a download's destination: write, flush, empty, sync.
//!
//! The blocking client does each at once and returns a ready future; the async client awaits
//! its transport and timer. Neither decides anything: that is the engine's.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use record_api::{Error, TransportError, http};
use record_model::QueryWindow;

use crate::engine::{AuthNeed, Authorized, Listing};
use crate::handle::Setup;

/// Names the server of `uri` (`host:port`, never its user info) on a transport error, so
/// that a failure says where it was trying to go, whatever the transport.
pub(crate) fn at_server(uri: &http::Uri) -> impl FnOnce(TransportError) -> TransportError + use<> {
    let host = uri.host().map(|host| {
        let port = uri.port_u16().or_else(|| match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        });
        match port {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    });
    move |error| match host {
        Some(host) if error.host().is_none() => error.with_host(host),
        _ => error,
    }
}

/// A client's I/O.
pub(crate) trait Io: Sync {
    /// A streamed answer's body.
    type Body: Send;
    /// What a caller waits on while another obtains a token.
    type TokenWait: Send;

    /// The configuration and this handle's retry policy.
    fn setup(&self) -> Setup<'_>;

    /// Sends a request and reads its whole answer.
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send;

    /// Sends a request and returns once its head arrived.
    fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Self::Body>, TransportError>> + Send;

    /// The next bytes of `body`, `None` at its end.
    fn next_chunk<'a>(
        &'a self,
        body: &'a mut Self::Body,
    ) -> impl Future<Output = Result<Option<&'a [u8]>, TransportError>> + Send + 'a;

    /// Waits.
    fn sleep(&self, pause: Duration) -> impl Future<Output = ()> + Send;

    /// How to authorize a request with `need` now: a token at hand, or a wait. The token
    /// cache's lock is held only inside this call, never across I/O.
    fn token_step(&self, need: &AuthNeed) -> Result<TokenAction<Self::TokenWait>, Error>;

    /// Waits for (or carries out) the token fetch of `wait`; `Ok` to ask again.
    fn wait_token(&self, wait: Self::TokenWait) -> impl Future<Output = Result<(), Error>> + Send;
}

/// What [`Io::token_step`] found.
pub(crate) enum TokenAction<W> {
    /// Send with this.
    Ready(Authorized),
    /// Wait with [`Io::wait_token`], then ask again.
    Wait(W),
}

/// Where a download's bytes go.
pub(crate) trait Sink {
    /// Writes all of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> impl Future<Output = std::io::Result<()>>;

    /// Flushes what is buffered.
    fn flush(&mut self) -> impl Future<Output = std::io::Result<()>>;

    /// Empties the sink to start over. A caller's writer cannot: only a temporary file
    /// overrides this.
    fn reset(&mut self) -> impl Future<Output = std::io::Result<()>> {
        std::future::ready(Err(std::io::Error::other("a writer cannot be emptied")))
    }

    /// Makes the bytes durable, before a temporary file is renamed into place; for a caller's
    /// writer, a flush.
    fn sync(&mut self) -> impl Future<Output = std::io::Result<()>> {
        self.flush()
    }
}

/// An opening of a list window under way.
pub(crate) type Opening<B> = Pin<Box<dyn Future<Output = Result<B, Error>> + Send>>;

/// The windows a listing opens ahead of the one it reads.
pub(crate) trait ReadAhead<B> {
    /// The opening of `window` started ahead, if any (those before it are dropped).
    fn take(&self, window: QueryWindow) -> Option<Opening<B>>;

    /// Starts opening the windows after the current one.
    fn refill(&self, listing: &Listing);
}

/// No read-ahead: each window is opened when its turn comes.
impl<B> ReadAhead<B> for () {
    fn take(&self, _: QueryWindow) -> Option<Opening<B>> {
        None
    }

    fn refill(&self, _: &Listing) {}
}
