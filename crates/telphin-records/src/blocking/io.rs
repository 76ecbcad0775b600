//! The blocking client's I/O: the transport called at once, `thread::sleep`, a `Mutex` and a
//! `Condvar` around the token cache; sinks over `std::io`; the record iterator.

use std::future::Future;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use record_api::{BlockingTransport, TransportError, http};

use super::BlockingClient;
use super::records::ReadBody;
use crate::driver;
use crate::engine::{Ticket, TokenState, TokenStep};
use crate::executor_prelude::*;
use crate::handle::Setup;
use crate::io::{Io, TokenAction};

/// The token cache, and a condition its waiters sleep on while another thread fetches.
pub(crate) struct Tokens {
    state: Mutex<TokenState>,
    changed: Condvar,
}

impl Tokens {
    pub(super) fn new(state: TokenState) -> Self {
        Tokens {
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }
}

/// What a thread does to obtain a token: fetch it, or wait for the fetch of another.
pub(crate) enum TokenWait {
    Fetch(record_api::TokenRequest, Ticket),
    Other(Ticket),
}

/// Completes a driver future in one poll: the blocking I/O never leaves one pending, so a
/// `Pending` here is a bug, reported as an error.
pub(super) fn complete<O>(future: impl Future<Output = O>, pending: impl FnOnce(Error) -> O) -> O {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => pending(Error::Config(
            "a blocking operation was left pending (a bug of telphin-records)".to_owned(),
        )),
    }
}

/// Completes a driver future that returns a result.
pub(crate) fn run<O>(future: impl Future<Output = Result<O, Error>>) -> Result<O, Error> {
    complete(future, Err)
}

impl<T: BlockingTransport> Io for BlockingClient<T> {
    type Body = ReadBody;
    type TokenWait = TokenWait;

    fn setup(&self) -> Setup<'_> {
        self.handle.setup()
    }

    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<Vec<u8>>, TransportError>> + Send {
        let at_server = crate::io::at_server(request.uri());
        std::future::ready(self.handle.transport().send(request).map_err(at_server))
    }

    fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> impl Future<Output = Result<http::Response<ReadBody>, TransportError>> + Send {
        let at_server = crate::io::at_server(request.uri());
        let opened = self
            .handle
            .transport()
            .send_streaming(request)
            .map_err(at_server);
        std::future::ready(opened.map(|answer| answer.map(ReadBody::new)))
    }

    fn next_chunk<'a>(
        &'a self,
        body: &'a mut ReadBody,
    ) -> impl Future<Output = Result<Option<&'a [u8]>, TransportError>> + Send + 'a {
        std::future::ready(body.next_chunk())
    }

    fn sleep(&self, pause: Duration) -> impl Future<Output = ()> + Send {
        std::thread::sleep(pause);
        std::future::ready(())
    }

    fn token_step(&self, need: &AuthNeed) -> Result<TokenAction<TokenWait>, Error> {
        let credentials = &self.handle.core().credentials;
        Ok(match self.lock().next(credentials, need, Instant::now())? {
            TokenStep::Ready(authorized) => TokenAction::Ready(authorized),
            TokenStep::Fetch(request, ticket) => {
                TokenAction::Wait(TokenWait::Fetch(request, ticket))
            }
            TokenStep::Wait(ticket) => TokenAction::Wait(TokenWait::Other(ticket)),
        })
    }

    fn wait_token(&self, wait: TokenWait) -> impl Future<Output = Result<(), Error>> + Send {
        std::future::ready(match wait {
            TokenWait::Fetch(request, ticket) => {
                // Whatever happens to this thread, the waiters are released.
                let fetching = Fetching {
                    client: self,
                    ticket,
                };
                let token = run(driver::call(self, &request));
                let fetched = self.lock().fetched(ticket, token, Instant::now());
                drop(fetching);
                fetched
            }
            TokenWait::Other(ticket) => {
                let mut state = self.lock();
                loop {
                    match state.outcome(ticket) {
                        Some(outcome) => break outcome,
                        None => state = self.wait(state),
                    }
                }
            }
        })
    }
}

/// A fetch under way: when it ends (or its thread unwinds), the waiters are woken.
struct Fetching<'a, T> {
    client: &'a BlockingClient<T>,
    ticket: Ticket,
}

impl<T> Drop for Fetching<'_, T> {
    fn drop(&mut self) {
        self.client.lock().abandoned(self.ticket);
        self.client.handle.tokens().changed.notify_all();
    }
}

impl<T> BlockingClient<T> {
    fn lock(&self) -> MutexGuard<'_, TokenState> {
        let state = &self.handle.tokens().state;
        state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'a>(&'a self, state: MutexGuard<'a, TokenState>) -> MutexGuard<'a, TokenState> {
        let changed = &self.handle.tokens().changed;
        changed
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
