//! The blocking client: a shell over the [driver](crate::driver); each operation is one call
//! of it, completed in one poll (see [`io`]). Every decision is the engine's.

use record_api::BlockingTransport;

use crate::driver;
use crate::executor_prelude::*;

mod io;
mod records;
mod sinks;

use io::Tokens;
pub(crate) use io::run;
pub use records::BlockingRecords;
pub(crate) use records::ReadBody;
pub(crate) use sinks::{FileSink, Writer};

/// A client for blocking code, generic over its transport. Cloning it is cheap: clones share
/// the transport and the token cache.
///
/// ```no_run
/// use telphin_records::{ClientBuilder, Credentials, Order, Period, Scope, ClientId};
///
/// # fn demo() -> Result<(), telphin_records::Error> {
/// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
///     .build_blocking()?;
/// let records = client.list(Scope::client(ClientId::Me), Period::year(2024)?, Order::Asc)?;
/// println!("{} recordings in 2024", records.len());
/// # Ok(()) }
/// ```
pub struct BlockingClient<T> {
    handle: Handle<T, Tokens>,
}

impl<T> Clone for BlockingClient<T> {
    fn clone(&self) -> Self {
        BlockingClient {
            handle: self.handle.clone(),
        }
    }
}

impl<T> std::fmt::Debug for BlockingClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.debug("BlockingClient", f)
    }
}

impl<T: BlockingTransport> BlockingClient<T> {
    /// The transport.
    pub fn transport(&self) -> &T {
        self.handle.transport()
    }

    /// This client with another retry policy for the calls made through the returned handle,
    /// sharing the transport and the tokens; e.g. [`RetryPolicy::never`] for one call.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        let handle = self.handle.with_policy(policy);
        BlockingClient { handle }
    }

    /// The rate-limit headers of the latest answer any clone of this client got. For the
    /// headers of one call's answer, use [`execute`](Self::execute).
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.handle.core().last_rate_limit()
    }

    /// Runs any endpoint of `record-api` to completion (tokens, retries), and gives its output
    /// with the rate-limit headers of its answer.
    pub fn execute<E: Endpoint>(&self, endpoint: &E) -> Result<Answer<E::Output>, Error> {
        run(driver::execute(self, endpoint))
    }
}

/// Builds blocking clients.
impl crate::ClientBuilder {
    /// A blocking client over `transport`.
    pub fn build_blocking_with<T: BlockingTransport>(
        self,
        transport: T,
    ) -> Result<BlockingClient<T>, Error> {
        let handle = Handle::new(self.core()?, transport, Tokens::new);
        Ok(BlockingClient { handle })
    }

    /// A blocking client over the built-in HTTP/1.1 transport, with this configuration's
    /// timeouts.
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    pub fn build_blocking(self) -> Result<crate::BlockingHttpClient, Error> {
        let (connect, read) = self.timeouts_of();
        let transport = transport_blocking::HttpTransport::with_timeouts(connect, read);
        self.build_blocking_with(transport)
    }

    /// A blocking client over ureq 3 (feature `ureq`), with this configuration's timeouts
    /// and the environment's proxy, as ureq reads it. The built-in transport
    /// ([`build_blocking`](Self::build_blocking)) is the default for a reason: it logs
    /// nothing, while ureq logs every byte it sends and receives — tokens and secrets
    /// included — at TRACE level. **Keep the `ureq` and `ureq_proto` targets below TRACE** in
    /// your logger when you use this one.
    ///
    /// ```no_run
    /// use telphin_records::{ClientBuilder, Credentials};
    ///
    /// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
    ///     .build_blocking_ureq()?;
    /// # let _ = client;
    /// # Ok::<(), telphin_records::Error>(())
    /// ```
    #[cfg(feature = "ureq")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
    pub fn build_blocking_ureq(
        self,
    ) -> Result<BlockingClient<transport_blocking::UreqTransport>, Error> {
        let (connect, read) = self.timeouts_of();
        let transport = transport_blocking::UreqTransport::with_timeouts(connect, read);
        self.build_blocking_with(transport)
    }
}
