//! The operations of both clients, each declared once with its name, arguments and
//! documentation. Those alike in both ([`operations!`]) are a driver future built from the
//! arguments, which the blocking client completes at once and the async client returns; the
//! others ([`shells!`]) give each client's output and body beside the shared declaration. The
//! macros only write methods that delegate: every step of an operation is the driver's.

use record_api::{
    DeleteRecord, Deletion, Error, ListRecords, MonthlyRecordStats, MonthlyStatsEnd,
    RequestArchive, Scope, StorageUrl,
};
use record_model::{
    ArchiveReceipt, ArchiveRequest, ClientId, MonthStats, Order, Period, QueryWindow, Record,
    RecordUuid, StorageLink, WindowStats,
};

use crate::BlockingRecords;
use crate::driver;
use crate::executor_prelude::*;
use crate::io::Io as _;
use crate::list::kept;
use crate::opened::BlockingDownload;
use crate::part_file::PartFile;

/// Writes each operation as a method of `BlockingClient` and of `Client`.
macro_rules! operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $output:ty = |$io:ident| $future:expr;
    )*) => {
        impl<T: record_api::BlockingTransport> crate::BlockingClient<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $ty),*) -> Result<$output, Error> {
                    let $io = self;
                    crate::blocking::run($future)
                }
            )*
        }

        #[cfg(feature = "async-client")]
        impl<T: record_api::AsyncTransport + 'static> crate::Client<T> {
            $(
                $(#[$doc])*
                pub fn $name(
                    &self,
                    $($arg: $ty),*
                ) -> impl std::future::Future<Output = Result<$output, Error>> + Send {
                    let $io = self;
                    $future
                }
            )*
        }
    };
}

operations! {
    /// The records of `scope` in one window, as the API returns them.
    fn list_window(scope: Scope, window: QueryWindow, order: Order) -> Vec<Record> =
        |io| driver::call_owned(io, ListRecords::new(scope, window).order(order));

    /// The count and total size of the record files of `scope` in `period` (any length),
    /// exact: no record at a window overlap or at an excluded end is counted. Requests run one
    /// at a time, as the API allows one statistics request per client.
    fn stats(scope: Scope, period: impl Into<Period>) -> WindowStats =
        |io| driver::stats(io, scope, period.into());

    /// Deletes every record of `scope` in `period` (any length), window by window, and nothing
    /// outside it: the last second of a half-open period is listed and its records deleted one
    /// by one, so the records at the excluded end stay.
    fn delete_range(scope: Scope, period: impl Into<Period>) -> () =
        |io| driver::delete_range(io, scope, period.into());

    /// Deletes one record and its file. [`Deletion::AlreadyGone`] tells that an earlier
    /// attempt's answer was lost and the retry found the record gone.
    fn delete_record(scope: Scope, record_uuid: &RecordUuid) -> Deletion =
        |io| driver::call_owned(io, DeleteRecord::new(scope, record_uuid.clone()));

    /// The permanent storage link of a record.
    fn storage_link(scope: Scope, record_uuid: &RecordUuid) -> StorageLink =
        |io| driver::call_owned(io, StorageUrl::new(scope, record_uuid.clone()));

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail). Any success answer is a receipt.
    fn request_archive(client: ClientId, archive: &ArchiveRequest) -> ArchiveReceipt =
        |io| driver::call_owned(io, RequestArchive::new(client, archive.clone()));

    /// Storage statistics per month, optionally only up to `end`.
    fn monthly_stats(client: ClientId, end: Option<MonthlyStatsEnd>) -> Vec<MonthStats> =
        |io| driver::call_owned(io, MonthlyRecordStats::new(client).until_optional(end));
}

/// Writes each operation whose two methods differ in their output or their work: the name,
/// arguments and documentation both share, then for each client its generic parameters, its
/// own documentation (or other attributes), its output and its body.
macro_rules! shells {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?);
        blocking [$($bgen:tt)*] $(#[$bdoc:meta])* -> $bout:ty = |$bio:ident| $bbody:expr;
        async [$($agen:tt)*] $(#[$adoc:meta])* -> $aout:ty = |$aio:ident| $abody:expr;
    )*) => {
        impl<T: record_api::BlockingTransport> crate::BlockingClient<T> {
            $(
                $(#[$doc])*
                $(#[$bdoc])*
                pub fn $name<$($bgen)*>(&self, $($arg: $ty),*) -> $bout {
                    let $bio = self;
                    $bbody
                }
            )*
        }

        #[cfg(feature = "async-client")]
        impl<T: record_api::AsyncTransport + 'static> crate::Client<T> {
            $(
                $(#[$doc])*
                $(#[$adoc])*
                pub fn $name<$($agen)*>(&self, $($arg: $ty),*) -> $aout {
                    let $aio = self;
                    $abody
                }
            )*
        }
    };
}

shells! {
    /// The records of `scope` in `period` (any length) as they arrive: each window's answer is
    /// decoded record by record while it is read, so memory does not grow with the period or
    /// the window. Records come in `options`' order, each once, only those inside the period.
    ///
    /// An undecodable record is handed out as [`Error::UndecodableRecord`] and the listing
    /// goes on; any other error ends it, and `position()` tells where to resume.
    fn records(scope: Scope, period: impl Into<Period>, options: ListOptions);
    blocking []
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
        -> BlockingRecords<T> =
        |io| BlockingRecords::new(io.clone(), Listing::new(scope, period.into(), &options));
    async []
        ///
        /// A [`Stream`](futures_util::Stream): the next windows are opened ahead (see
        /// [`ListOptions::read_ahead`]) while one is read, and driven whenever the stream is.
        ///
        /// ```no_run
        /// use futures_util::TryStreamExt;
        /// use telphin_records::{ClientBuilder, ClientId, Credentials, ListOptions, Order, Period, Scope};
        ///
        /// # async fn demo() -> Result<(), telphin_records::Error> {
        /// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
        ///     .build_async()?;
        /// let mut records = client.records(Scope::client(ClientId::Me), Period::year(2024)?, ListOptions::new(Order::Asc));
        /// while let Some(record) = records.try_next().await? {
        ///     println!("{} {}", record.init_time_gmt, record.record_uuid);
        /// }
        /// # Ok(()) }
        /// ```
        -> crate::RecordStream<T> = |io| {
            let read_ahead = options.read_ahead.unwrap_or(io.setup().core.concurrency);
            let listing = Listing::new(scope, period.into(), &options);
            crate::RecordStream::new(io.clone(), listing, read_ahead)
        };

    /// [`records`](Self::records) collected: the first error fails the call, except an
    /// undecodable record when `options` skip those.
    fn list_with(scope: Scope, period: impl Into<Period>, options: ListOptions);
    blocking [] -> Result<Vec<Record>, Error> = |io| {
        let skip = options.skip_undecodable;
        let records = io.records(scope, period, options);
        records.filter_map(|item| kept(item, skip).transpose()).collect()
    };
    async [] -> impl Future<Output = Result<Vec<Record>, Error>> + Send + 'static = |io| {
        let skip = options.skip_undecodable;
        let records = io.records(scope, period, options);
        let records = futures_util::StreamExt::filter_map(records, move |item| {
            std::future::ready(kept(item, skip).transpose())
        });
        futures_util::TryStreamExt::try_collect(records)
    };

    /// The records of `scope` in `period` (any length), in `order`, each once.
    ///
    /// A period longer than the API's window is split into windows that overlap by one second,
    /// so no record at a window boundary is lost; duplicates are removed by `record_uuid`, and
    /// records at the excluded end of a half-open period are dropped.
    fn list(scope: Scope, period: impl Into<Period>, order: Order);
    blocking [] -> Result<Vec<Record>, Error> =
        |io| io.list_with(scope, period, ListOptions::new(order));
    async [] -> impl Future<Output = Result<Vec<Record>, Error>> + Send + 'static =
        |io| io.list_with(scope, period, ListOptions::new(order));

    /// Opens a record's file for reading: the status is checked and the sizes compared before
    /// the first byte is handed out. With [`DownloadSource::StorageLinkThenApi`], a storage
    /// link that fails to open falls back to the API.
    fn open_download(scope: Scope, record_uuid: &RecordUuid, options: DownloadOptions);
    blocking [] -> Result<BlockingDownload, Error> = |io| {
        let transfer = io.setup().transfer(scope, record_uuid, options, false);
        let opened = crate::blocking::run(driver::open_download(io, transfer))?;
        Ok(opened.map_body(crate::blocking::ReadBody::into_reader))
    };
    async [] -> impl Future<Output = Result<crate::Download, Error>> + Send = |io| {
        let transfer = io.setup().transfer(scope, record_uuid, options, false);
        async move {
            let opened = driver::open_download(io, transfer).await?;
            Ok(opened.map_body(crate::async_client::Chunks::into_body))
        }
    };

    /// Streams a record's file into `sink` in chunks of at most [`CHUNK_SIZE`](crate::CHUNK_SIZE)
    /// bytes.
    ///
    /// The status is checked before a byte is written, and the byte count is verified against
    /// `Content-Length` and `options.expected_size`. A body that breaks before the first byte
    /// is retried (or, with [`DownloadSource::StorageLinkThenApi`], fetched from the API); once
    /// `sink` holds part of the file, an error is returned and `sink` may hold that part:
    /// [`download_to_path`](Self::download_to_path) retries from zero and never leaves a
    /// partial file.
    fn download(scope: Scope, record_uuid: &RecordUuid, sink: &mut W, options: DownloadOptions);
    blocking [W: std::io::Write] -> Result<DownloadReport, Error> = |io| {
        let transfer = io.setup().transfer(scope, record_uuid, options, false);
        crate::blocking::run(driver::download(io, transfer, &mut crate::blocking::Writer(sink)))
    };
    async [W: tokio::io::AsyncWrite + Unpin + Send]
        #[cfg(feature = "tokio")]
        -> impl Future<Output = Result<DownloadReport, Error>> + Send = |io| {
        let transfer = io.setup().transfer(scope, record_uuid, options, false);
        async move { driver::download(io, transfer, &mut crate::async_client::Writer(sink)).await }
    };

    /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
    fn download_record(scope: Scope, record: &Record, sink: &mut W, source: DownloadSource);
    blocking [W: std::io::Write] -> Result<DownloadReport, Error> = |io| {
        let options = DownloadOptions::for_record(record, source);
        io.download(scope, &record.record_uuid, sink, options)
    };
    async [W: tokio::io::AsyncWrite + Unpin + Send]
        #[cfg(feature = "tokio")]
        -> impl Future<Output = Result<DownloadReport, Error>> + Send = |io| {
        let options = DownloadOptions::for_record(record, source);
        io.download(scope, &record.record_uuid, sink, options)
    };

    /// Downloads a record's file to `path`: into a temporary file next to it, renamed to `path`
    /// only once complete, verified and synced, so nothing partial ever stands at `path`. A body
    /// that breaks is downloaded again from zero under the retry policy; with
    /// [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even midway —
    /// starts over from the API. Stale temporary files of `path` left by killed runs are
    /// removed first.
    fn download_to_path(
        scope: Scope,
        record_uuid: &RecordUuid,
        path: P,
        options: DownloadOptions,
    );
    blocking [P: AsRef<std::path::Path>] -> Result<DownloadReport, Error> = |io| {
        let (path, part) = (path.as_ref(), PartFile::create(path.as_ref())?);
        let sink = crate::blocking::FileSink::new(&part)?;
        let transfer = io.setup().transfer(scope, record_uuid, options, true);
        crate::blocking::run(driver::download_to_path(io, transfer, sink, part, path))
    };
    async [P: AsRef<std::path::Path>]
        ///
        /// If this future is dropped midway, the temporary file is removed: nothing partial
        /// stands at `path` then either.
        #[cfg(feature = "tokio")]
        -> impl Future<Output = Result<DownloadReport, Error>> + Send = |io| {
        let path = path.as_ref().to_path_buf();
        async move {
            let part = PartFile::create(&path)?;
            let sink = crate::async_client::FileSink::new(&part)?;
            let transfer = io.setup().transfer(scope, record_uuid, options, true);
            driver::download_to_path(io, transfer, sink, part, &path).await
        }
    };
}
