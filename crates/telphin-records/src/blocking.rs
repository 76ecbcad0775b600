//! The blocking client: carries out the engine's steps with the transport, `thread::sleep` and
//! a `Mutex`. Every decision is the engine's.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use record_api::{BlockingBody, BlockingTransport, TransportError};

use crate::download::CHUNK_SIZE;
use crate::executor_prelude::*;
use crate::opened::BlockingDownload;
use crate::part_file::PartFile;

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
    handle: Handle<T, Mutex<TokenState>>,
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

/// Where a download goes: a caller's writer (cannot be emptied again) or a temporary file.
enum Target<'a, W> {
    Writer(&'a mut W),
    File(&'a std::fs::File),
}

impl<W: Write> Target<'_, W> {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Target::Writer(writer) => writer.write_all(bytes),
            Target::File(file) => copy_of(file).write_all(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Target::Writer(writer) => writer.flush(),
            Target::File(file) => copy_of(file).flush(),
        }
    }

    fn reset(&mut self) -> std::io::Result<()> {
        match self {
            Target::Writer(_) => Err(std::io::Error::other("a writer cannot be emptied")),
            Target::File(file) => {
                file.set_len(0)?;
                copy_of(file).rewind()
            }
        }
    }
}

/// A `&File` of its own, for the `Write` and `Seek` impls of `&File`.
fn copy_of<'a>(file: &&'a std::fs::File) -> &'a std::fs::File {
    file
}

/// How far [`BlockingClient::advance`] carried a download.
enum Advance {
    Stream(BlockingBody),
    ResetSink,
    Done(DownloadReport),
}

impl<T: BlockingTransport> BlockingClient<T> {
    pub(crate) fn from_parts(core: Core, transport: T) -> Self {
        BlockingClient {
            handle: Handle::new(core, transport, Mutex::new),
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        self.handle.transport()
    }

    /// This client with another retry policy for the calls made through the returned handle,
    /// sharing the transport and the tokens; e.g. [`RetryPolicy::never`] for one call.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        BlockingClient {
            handle: self.handle.with_policy(policy),
        }
    }

    /// The rate-limit headers of the latest answer any clone of this client got. For the
    /// headers of one call's answer, use [`execute`](Self::execute).
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.handle.core().last_rate_limit()
    }

    /// Runs any endpoint of `record-api` to completion (tokens, retries), and gives its output
    /// with the rate-limit headers of its answer.
    pub fn execute<E: Endpoint>(&self, endpoint: &E) -> Result<Answer<E::Output>, Error> {
        let mut exchange = self.handle.exchange(endpoint);
        let span = exchange.span();
        let _entered = span.enter();
        let mut step = exchange.start(Instant::now());
        loop {
            step = match step {
                Step::Authorize(need) => exchange.authorized(self.authorize(&need)),
                Step::Send(request) => {
                    let answer = self.handle.transport().send(request);
                    exchange.received(answer, Instant::now())
                }
                Step::Sleep(pause) => {
                    std::thread::sleep(pause);
                    exchange.start(Instant::now())
                }
                Step::Done(result) => return result,
            };
        }
    }

    fn call<E: Endpoint>(&self, endpoint: &E) -> Result<E::Output, Error> {
        self.execute(endpoint).map(|answer| answer.output)
    }

    /// Runs `endpoint` like [`execute`](Self::execute), with the streaming transport: the
    /// body of its success answer, unread.
    fn open<E: Endpoint>(&self, endpoint: &E) -> Result<BlockingBody, Error> {
        let mut exchange = self.handle.exchange(endpoint);
        let span = exchange.span();
        let _entered = span.enter();
        let mut step = exchange.start(Instant::now());
        loop {
            step = match step {
                Step::Authorize(need) => exchange.authorized(self.authorize(&need)),
                Step::Send(request) => {
                    let mut body = None;
                    let answer = self.handle.transport().send_streaming(request);
                    match exchange.opened(keep_body(answer, &mut body), Instant::now()) {
                        Opened::Stream => return body.ok_or_else(not_opened),
                        Opened::ReadErrorBody(parts) => {
                            let prefix = body.map(read_error_body).unwrap_or_default();
                            exchange.error_body(parts, prefix, Instant::now())
                        }
                        Opened::Next(step) => step,
                    }
                }
                Step::Sleep(pause) => {
                    std::thread::sleep(pause);
                    exchange.start(Instant::now())
                }
                Step::Done(result) => return Err(result.err().unwrap_or_else(not_opened)),
            };
        }
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
        BlockingRecords {
            client: self.clone(),
            listing: Listing::new(scope, period.into(), &options),
            body: None,
            buf: Vec::new(),
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
        let mut records = Vec::new();
        for item in self.records(scope, period, options) {
            records.extend(crate::list::kept(item, skip)?);
        }
        Ok(records)
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
        self.call(&ListRecords::new(scope, window).order(order))
    }

    /// The count and total size of the record files of `scope` in `period` (any length),
    /// exact: no record at a window overlap or at an excluded end is counted. Requests run one
    /// at a time, as the API allows one statistics request per client.
    pub fn stats(&self, scope: Scope, period: impl Into<Period>) -> Result<WindowStats, Error> {
        let parts = plan::stats_plan(&period.into())
            .into_iter()
            .map(|(window, sign)| Ok((sign, self.call(&RecordStats::new(scope, window))?)))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(plan::combine(parts))
    }

    /// Deletes every record of `scope` in `period` (any length), window by window, and nothing
    /// outside it: the last second of a half-open period is listed and its records deleted one
    /// by one, so the records at the excluded end stay.
    pub fn delete_range(&self, scope: Scope, period: impl Into<Period>) -> Result<(), Error> {
        let plan = plan::delete_plan(&period.into());
        for window in plan.windows {
            self.call(&DeleteRecords::new(scope, window))?;
        }
        let Some(last) = plan.last_second else {
            return Ok(());
        };
        let records = self.list_window(scope, last.window, Order::Asc)?;
        last.records_to_delete(&records)
            .try_for_each(|record_uuid| plan::deleted(self.delete_record(scope, record_uuid)))
    }

    /// Deletes one record and its file. [`Deletion::AlreadyGone`] tells that an earlier
    /// attempt's answer was lost and the retry found the record gone.
    pub fn delete_record(&self, scope: Scope, record_uuid: &RecordUuid) -> Result<Deletion, Error> {
        self.call(&DeleteRecord::new(scope, record_uuid.clone()))
    }

    /// The permanent storage link of a record.
    pub fn storage_link(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
    ) -> Result<StorageLink, Error> {
        self.call(&StorageUrl::new(scope, record_uuid.clone()))
    }

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail). Any success answer is a receipt.
    pub fn request_archive(
        &self,
        client: ClientId,
        archive: &ArchiveRequest,
    ) -> Result<ArchiveReceipt, Error> {
        self.call(&RequestArchive::new(client, archive.clone()))
    }

    /// Storage statistics per month, optionally only up to `end`.
    pub fn monthly_stats(
        &self,
        client: ClientId,
        end: Option<MonthlyStatsEnd>,
    ) -> Result<Vec<MonthStats>, Error> {
        self.call(&MonthlyRecordStats::new(client).until_optional(end))
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
        let mut transfer = self.handle.transfer(scope, record_uuid, options, false);
        let span = transfer.span();
        let _entered = span.enter();
        let first = transfer.start(Instant::now());
        match self.advance(&mut transfer, first)? {
            Advance::Stream(body) => Ok(Download::new(transfer.into_opened(), body)),
            Advance::ResetSink | Advance::Done(_) => Err(not_opened()),
        }
    }

    /// Streams a record's file into `sink` in chunks of at most [`CHUNK_SIZE`] bytes.
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
        self.transfer(transfer, Target::Writer(sink))
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
        let path = path.as_ref();
        let part = PartFile::create(path)?;
        let target: Target<'_, std::fs::File> = Target::File(part.as_file());
        let transfer = self.handle.transfer(scope, record_uuid, options, true);
        let report = self.transfer(transfer, target)?;
        part.commit(path)?;
        Ok(report)
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

    /// Carries a download out into `target` (a temporary file when `transfer` was made
    /// resettable).
    fn transfer<W: Write>(
        &self,
        mut transfer: Transfer<'_>,
        mut target: Target<'_, W>,
    ) -> Result<DownloadReport, Error> {
        let span = transfer.span();
        let _entered = span.enter();
        let mut step = transfer.start(Instant::now());
        loop {
            step = match self.advance(&mut transfer, step)? {
                Advance::Stream(body) => copy(&mut transfer, body, &mut target),
                Advance::ResetSink => transfer.sink_reset(target.reset(), Instant::now()),
                Advance::Done(report) => return Ok(report),
            };
        }
    }

    /// Carries out a download's steps until its body is to be streamed, its sink emptied, or
    /// it is over.
    fn advance(&self, transfer: &mut Transfer<'_>, mut step: Fetch) -> Result<Advance, Error> {
        let mut body: Option<BlockingBody> = None;
        loop {
            step = match step {
                Fetch::StorageLink => {
                    let link = self.call(&transfer.storage_url());
                    transfer.link(link, Instant::now())
                }
                Fetch::Authorize(need) => transfer.authorized(self.authorize(&need)),
                Fetch::Open(request) => {
                    let answer = self.handle.transport().send_streaming(request);
                    transfer.opened(keep_body(answer, &mut body), Instant::now())
                }
                Fetch::ReadErrorBody => {
                    let prefix = body.take().map(read_error_body).unwrap_or_default();
                    transfer.error_body(&prefix, Instant::now())
                }
                Fetch::Sleep(pause) => {
                    std::thread::sleep(pause);
                    transfer.start(Instant::now())
                }
                Fetch::Stream => {
                    let stream = body.take().ok_or_else(|| {
                        Error::Config("a download's body went missing".to_owned())
                    })?;
                    return Ok(Advance::Stream(stream));
                }
                Fetch::ResetSink => return Ok(Advance::ResetSink),
                Fetch::Done(result) => return result.map(Advance::Done),
            };
        }
    }

    /// The authorization for a request, fetching a token if needed. The lock is held while
    /// fetching, so concurrent callers wait for one token request.
    fn authorize(&self, need: &AuthNeed) -> Result<Authorized, Error> {
        let mut tokens = self.lock_tokens();
        loop {
            match tokens.next(&self.handle.core().credentials, need, Instant::now())? {
                TokenStep::Ready(authorized) => return Ok(authorized),
                TokenStep::Fetch(request) => {
                    let token = self.call(&request);
                    tokens.fetched(token, Instant::now())?;
                }
            }
        }
    }

    fn lock_tokens(&self) -> MutexGuard<'_, TokenState> {
        self.handle
            .tokens()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The records of a period as they arrive; see [`BlockingClient::records`].
pub struct BlockingRecords<T> {
    client: BlockingClient<T>,
    listing: Listing,
    body: Option<BlockingBody>,
    buf: Vec<u8>,
}

impl<T> BlockingRecords<T> {
    /// Where the listing is: after an error, give it to [`ListOptions::resume`] to go on.
    /// `None` once every record was handed out.
    pub fn position(&self) -> Option<ListPosition> {
        self.listing.position()
    }
}

impl<T> std::fmt::Debug for BlockingRecords<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingRecords")
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl<T: BlockingTransport> Iterator for BlockingRecords<T> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.listing.next() {
                ListStep::Open(endpoint) => {
                    let opened = self.client.open(&endpoint);
                    self.listing
                        .opened(opened.map(|body| self.body = Some(body)));
                }
                ListStep::Read => self.read(),
                ListStep::Stats(endpoint) => self.listing.counted(self.client.call(&endpoint)),
                ListStep::Yield(item) => return Some(item),
                ListStep::Done => {
                    self.body = None;
                    return None;
                }
            }
        }
    }
}

impl<T> BlockingRecords<T> {
    /// Reads the next chunk of the open body into the listing.
    fn read(&mut self) {
        let Some(body) = self.body.as_mut() else {
            return self.listing.failed(not_opened());
        };
        self.buf.resize(CHUNK_SIZE, 0);
        loop {
            match body.read(&mut self.buf) {
                Ok(0) => {
                    self.body = None;
                    return self.listing.ended();
                }
                Ok(n) => return self.listing.chunk(&self.buf[..n]),
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.body = None;
                    let error = Error::Transport(TransportError::body_read(error));
                    return self.listing.failed(error);
                }
            }
        }
    }
}

/// The first bytes of an error answer's body; an unreadable one only costs the message its
/// details.
fn read_error_body(body: BlockingBody) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(ERROR_BODY_LIMIT);
    let _ = body.take(ERROR_BODY_LIMIT as u64).read_to_end(&mut prefix);
    prefix
}

/// Copies an opened body into `target`, offering each chunk to the engine before writing it.
fn copy<W: Write>(
    transfer: &mut Transfer<'_>,
    mut body: BlockingBody,
    target: &mut Target<'_, W>,
) -> Fetch {
    let mut buf = vec![0u8; CHUNK_SIZE];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => {
                return match target.flush() {
                    Ok(()) => transfer.body_ended(),
                    Err(error) => transfer.sink_failed(error),
                };
            }
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return transfer.body_failed(Error::Transport(TransportError::body_read(error)));
            }
        };
        if let Some(next) = transfer.accept(n) {
            return next;
        }
        if let Err(error) = target.write_all(&buf[..n]) {
            return transfer.sink_failed(error);
        }
    }
}

/// Builds blocking clients.
impl crate::ClientBuilder {
    /// A blocking client over `transport`.
    pub fn build_blocking_with<T: BlockingTransport>(
        self,
        transport: T,
    ) -> Result<BlockingClient<T>, Error> {
        Ok(BlockingClient::from_parts(self.core()?, transport))
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
