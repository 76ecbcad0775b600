//! The async client: a shell over the [driver](crate::driver); each operation is one call of
//! it, awaited with the transport and the injected timer (see [`io`]). Every decision is the
//! engine's.

use std::sync::Arc;

use record_api::AsyncTransport;

use crate::driver;
use crate::executor_prelude::*;
use crate::sleep::{AsyncSleep, DefaultSleep};

mod io;
#[cfg(feature = "tokio")]
mod sinks;

pub(crate) use io::Chunks;
use io::Tokens;
#[cfg(feature = "tokio")]
pub(crate) use sinks::{FileSink, Writer};

/// A client for async code, generic over its transport; `Send + Sync`, every future it returns
/// is `Send`, and cloning it is cheap (clones share the transport and the token cache).
///
/// ```no_run
/// use telphin_records::{ClientBuilder, Credentials, Period, Scope, ClientId};
///
/// # async fn demo() -> Result<(), telphin_records::Error> {
/// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
///     .concurrency(4)
///     .build_async()?;
/// let march = Period::month(2024, 3)?;
/// let stats = client.stats(Scope::client(ClientId::Me), march).await?;
/// println!("{} recordings, {} bytes", stats.count, stats.size);
/// # Ok(()) }
/// ```
pub struct Client<T> {
    handle: Handle<T, Tokens>,
    sleep: Arc<dyn AsyncSleep>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        let (handle, sleep) = (self.handle.clone(), Arc::clone(&self.sleep));
        Client { handle, sleep }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.debug("Client", f)
    }
}

impl<T: AsyncTransport + 'static> Client<T> {
    /// Uses `sleep` to wait between retries (e.g. your runtime's timer).
    pub fn with_sleep(mut self, sleep: impl AsyncSleep) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// This client with another retry policy for the calls made through the returned handle,
    /// sharing the transport and the tokens; e.g. [`RetryPolicy::never`] for one call.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        let (handle, sleep) = (self.handle.with_policy(policy), Arc::clone(&self.sleep));
        Client { handle, sleep }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        self.handle.transport()
    }

    /// The rate-limit headers of the latest answer any clone of this client got. For the
    /// headers of one call's answer, use [`execute`](Self::execute).
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.handle.core().last_rate_limit()
    }

    /// Runs any endpoint of `record-api` to completion (tokens, retries), and gives its output
    /// with the rate-limit headers of its answer.
    pub async fn execute<E>(&self, endpoint: &E) -> Result<Answer<E::Output>, Error>
    where
        E: Endpoint + Sync,
        E::Output: Send,
    {
        driver::execute(self, endpoint).await
    }
}

/// Builds async clients.
impl crate::ClientBuilder {
    /// An async client over `transport`.
    pub fn build_async_with<T: AsyncTransport>(self, transport: T) -> Result<Client<T>, Error> {
        let handle = Handle::new(self.core()?, transport, Tokens::new);
        Ok(Client {
            handle,
            sleep: Arc::new(DefaultSleep),
        })
    }

    /// An async client over reqwest, with this configuration's timeouts.
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub fn build_async(self) -> Result<crate::ReqwestClient, Error> {
        let (connect, read) = self.timeouts_of();
        let transport = transport_async::ReqwestTransport::with_timeouts(connect, read)?;
        self.build_async_with(transport)
    }
}
