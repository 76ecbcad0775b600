//! The async client's I/O: the transport and the injected timer awaited; the token cache in a
//! `std::sync::Mutex` held only while it is read or changed, never across an `.await`.
//!
//! A token is fetched by a shared future that every caller needing it polls: whichever caller
//! is polled drives the fetch, so a caller that is dropped or never polled again holds up no
//! one. The cache keeps only a weak handle on it: once every caller is gone, the fetch is
//! dropped, and the next caller starts another.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::{Shared, WeakShared};
use record_api::{AsyncBody, AsyncTransport, TransportError, bytes::Bytes, http};

use super::Client;
use crate::driver;
use crate::engine::{Ticket, TokenState, TokenStep};
use crate::executor_prelude::*;
use crate::handle::Setup;
use crate::io::{Io, TokenAction};

/// A token fetch under way.
type Fetch = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The token cache and the fetch under way.
pub(crate) struct Tokens(Mutex<Cell>);

struct Cell {
    state: TokenState,
    fetch: Option<(Ticket, WeakShared<Fetch>)>,
}

impl Tokens {
    pub(super) fn new(state: TokenState) -> Self {
        Tokens(Mutex::new(Cell { state, fetch: None }))
    }
}

/// The fetch a caller waits for, which it drives while it waits.
pub(crate) struct TokenWait {
    fetch: Shared<Fetch>,
    ticket: Ticket,
}

/// A streamed body and its latest chunk.
pub(crate) struct Chunks {
    body: Box<dyn AsyncBody>,
    chunk: Bytes,
}

impl Chunks {
    pub(crate) fn into_body(self) -> Box<dyn AsyncBody> {
        self.body
    }
}

impl<T: AsyncTransport + 'static> Io for Client<T> {
    type Body = Chunks;
    type TokenWait = TokenWait;

    fn setup(&self) -> Setup<'_> {
        self.handle.setup()
    }

    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let at_server = crate::io::at_server(request.uri());
        self.handle
            .transport()
            .send(request)
            .await
            .map_err(at_server)
    }

    async fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Chunks>, TransportError> {
        let at_server = crate::io::at_server(request.uri());
        let answer = self
            .handle
            .transport()
            .send_streaming(request)
            .await
            .map_err(at_server)?;
        Ok(answer.map(|body| Chunks {
            body,
            chunk: Bytes::new(),
        }))
    }

    async fn next_chunk<'a>(
        &'a self,
        body: &'a mut Chunks,
    ) -> Result<Option<&'a [u8]>, TransportError> {
        match body.body.next_chunk().await? {
            Some(chunk) => {
                body.chunk = chunk;
                Ok(Some(&body.chunk[..]))
            }
            None => Ok(None),
        }
    }

    async fn sleep(&self, pause: Duration) {
        self.sleep.sleep(pause).await;
    }

    fn token_step(&self, need: &AuthNeed) -> Result<TokenAction<TokenWait>, Error> {
        let mut cell = self.cell();
        loop {
            let ticket =
                match cell
                    .state
                    .next(&self.handle.core().credentials, need, Instant::now())?
                {
                    TokenStep::Ready(authorized) => return Ok(TokenAction::Ready(authorized)),
                    TokenStep::Fetch(request, ticket) => {
                        let client = self.clone();
                        let fetch: Fetch = Box::pin(async move {
                            let token = driver::call(&client, &request).await;
                            // Its waiters learn a final failure from the cache.
                            let _ = client.cell().state.fetched(ticket, token, Instant::now());
                        });
                        let fetch = fetch.shared();
                        cell.fetch = fetch.downgrade().map(|weak| (ticket, weak));
                        return Ok(TokenAction::Wait(TokenWait { fetch, ticket }));
                    }
                    TokenStep::Wait(ticket) => ticket,
                };
            let live = match &cell.fetch {
                Some((fetching, weak)) if *fetching == ticket => weak.upgrade(),
                _ => None,
            };
            match live {
                Some(fetch) => return Ok(TokenAction::Wait(TokenWait { fetch, ticket })),
                // Every caller of that fetch was dropped, and the fetch with them.
                None => cell.state.abandoned(ticket),
            }
        }
    }

    async fn wait_token(&self, wait: TokenWait) -> Result<(), Error> {
        wait.fetch.await;
        self.cell().state.outcome(wait.ticket).unwrap_or(Ok(()))
    }
}

impl<T> Client<T> {
    fn cell(&self) -> MutexGuard<'_, Cell> {
        let tokens = &self.handle.tokens().0;
        tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
