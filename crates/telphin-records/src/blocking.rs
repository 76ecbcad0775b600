//! The blocking client: a shell over the [driver](crate::driver); each operation is one call
//! of it, completed in one poll (see [`io`]). Every decision is the engine's.

use std::io::Write;
use std::path::Path;

use record_api::BlockingTransport;

use crate::driver::{self, ListReader};
use crate::executor_prelude::*;
use crate::opened::BlockingDownload;
use crate::part_file::PartFile;

mod io;

pub use io::BlockingRecords;
use io::{FileSink, ReadBody, Tokens, Writer, run};

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

    /// The records of `scope` in `period` (any length) as they arrive: each window's answer is
    /// decoded record by record while it is read, so memory does not grow with the period or
    /// the window. Records come in `options`' order, each once, only those inside the period.
    ///
    /// An undecodable record is yielded as [`Error::UndecodableRecord`] and the iteration goes
    /// on; any other error ends it, and [`BlockingRecords::position`] tells where to resume.
    ///
    /// ```no_run
    /// use telphin_records::{ClientBuilder, ClientId, Credentials, ListOptions, Order, Period, Scope};
    ///
    /// # fn demo() -> Result<(), telphin_records::Error> {
    /// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
    ///     .build_blocking()?;
    /// let mut bytes = 0;
    /// for record in client.records(Scope::client(ClientId::Me), Period::year(2024)?, ListOptions::new(Order::Asc)) {
    ///     bytes += record?.record_file_size;
    /// }
    /// println!("{bytes} bytes recorded in 2024");
    /// # Ok(()) }
    /// ```
    pub fn records(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> BlockingRecords<T> {
        let listing = Listing::new(scope, period.into(), &options);
        BlockingRecords {
            client: self.clone(),
            reader: ListReader::new(listing),
        }
    }

    /// [`records`](Self::records) collected: the first error fails the call, except an
    /// undecodable record when `options` skip those.
    pub fn list_with(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> Result<Vec<Record>, Error> {
        let skip = options.skip_undecodable;
        let records = self.records(scope, period, options);
        records
            .filter_map(|item| crate::list::kept(item, skip).transpose())
            .collect()
    }

    /// The records of `scope` in `period` (any length), in `order`, each once.
    ///
    /// A period longer than the API's window is split into windows that overlap by one second,
    /// so no record at a window boundary is lost; duplicates are removed by `record_uuid`, and
    /// records at the excluded end of a half-open period are dropped.
    pub fn list(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        self.list_with(scope, period, ListOptions::new(order))
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

    /// Opens a record's file for reading: the status is checked and the sizes compared before
    /// the first byte is handed out. With [`DownloadSource::StorageLinkThenApi`], a storage
    /// link that fails to open falls back to the API.
    pub fn open_download(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        options: DownloadOptions,
    ) -> Result<BlockingDownload, Error> {
        let transfer = self.handle.transfer(scope, record_uuid, options, false);
        let opened = run(driver::open_download(self, transfer))?;
        Ok(opened.map_body(ReadBody::into_reader))
    }

    /// Streams a record's file into `sink` in chunks of at most [`CHUNK_SIZE`](crate::CHUNK_SIZE)
    /// bytes.
    ///
    /// The status is checked before a byte is written, and the byte count is verified against
    /// `Content-Length` and `options.expected_size`. A body that breaks before the first byte
    /// is retried (or, with [`DownloadSource::StorageLinkThenApi`], fetched from the API); once
    /// `sink` holds part of the file, an error is returned and `sink` may hold that part:
    /// [`download_to_path`](Self::download_to_path) retries from zero and never leaves a
    /// partial file.
    pub fn download<W: Write>(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        sink: &mut W,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let transfer = self.handle.transfer(scope, record_uuid, options, false);
        run(driver::download(self, transfer, &mut Writer(sink)))
    }

    /// Downloads a record's file to `path`: into a temporary file next to it, renamed to `path`
    /// only once complete, verified and synced, so nothing partial ever stands at `path`. A body
    /// that breaks is downloaded again from zero under the retry policy; with
    /// [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even midway —
    /// starts over from the API. Stale temporary files of `path` left by killed runs are
    /// removed first.
    pub fn download_to_path(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let (path, part) = (path.as_ref(), PartFile::create(path.as_ref())?);
        let sink = FileSink(part.as_file().try_clone().map_err(Error::Sink)?);
        let transfer = self.handle.transfer(scope, record_uuid, options, true);
        run(driver::download_to_path(self, transfer, sink, part, path))
    }

    /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
    pub fn download_record<W: Write>(
        &self,
        scope: Scope,
        record: &Record,
        sink: &mut W,
        source: DownloadSource,
    ) -> Result<DownloadReport, Error> {
        let options = DownloadOptions::for_record(record, source);
        self.download(scope, &record.record_uuid, sink, options)
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
