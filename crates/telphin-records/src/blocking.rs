//! The blocking client: a shell over the [driver](crate::driver); each operation is one call
//! of it, completed in one poll (see [`io`]). Every decision is the engine's.

use record_api::BlockingTransport;

use crate::driver;
use crate::executor_prelude::*;

mod downloads;
mod io;
mod records;

use io::{Tokens, run};
pub use records::BlockingRecords;

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

    /// The records of `scope` in one window, as the API returns them.
    pub fn list_window(
        &self,
        scope: Scope,
        window: QueryWindow,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        run(driver::call(
            self,
            &ListRecords::new(scope, window).order(order),
        ))
    }

    /// The count and total size of the record files of `scope` in `period` (any length),
    /// exact: no record at a window overlap or at an excluded end is counted. Requests run one
    /// at a time, as the API allows one statistics request per client.
    pub fn stats(&self, scope: Scope, period: impl Into<Period>) -> Result<WindowStats, Error> {
        run(driver::stats(self, scope, period.into()))
    }

    /// Deletes every record of `scope` in `period` (any length), window by window, and nothing
    /// outside it: the last second of a half-open period is listed and its records deleted one
    /// by one, so the records at the excluded end stay.
    pub fn delete_range(&self, scope: Scope, period: impl Into<Period>) -> Result<(), Error> {
        run(driver::delete_range(self, scope, period.into()))
    }

    /// Deletes one record and its file. [`Deletion::AlreadyGone`] tells that an earlier
    /// attempt's answer was lost and the retry found the record gone.
    pub fn delete_record(&self, scope: Scope, record_uuid: &RecordUuid) -> Result<Deletion, Error> {
        run(driver::call(
            self,
            &DeleteRecord::new(scope, record_uuid.clone()),
        ))
    }

    /// The permanent storage link of a record.
    pub fn storage_link(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
    ) -> Result<StorageLink, Error> {
        run(driver::call(
            self,
            &StorageUrl::new(scope, record_uuid.clone()),
        ))
    }

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail). Any success answer is a receipt.
    pub fn request_archive(
        &self,
        client: ClientId,
        archive: &ArchiveRequest,
    ) -> Result<ArchiveReceipt, Error> {
        run(driver::call(
            self,
            &RequestArchive::new(client, archive.clone()),
        ))
    }

    /// Storage statistics per month, optionally only up to `end`.
    pub fn monthly_stats(
        &self,
        client: ClientId,
        end: Option<MonthlyStatsEnd>,
    ) -> Result<Vec<MonthStats>, Error> {
        run(driver::call(
            self,
            &MonthlyRecordStats::new(client).until_optional(end),
        ))
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
}
