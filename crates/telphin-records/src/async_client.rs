//! The async client: carries out the engine's steps with `.await`, the injected timer, an async
//! lock, and windows opened ahead for record streams. Every decision is the engine's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::lock::{Mutex, MutexGuard};
use futures_util::{StreamExt, TryStreamExt, stream};
use record_api::{AsyncBody, AsyncTransport, Token, TokenRequest};
use tracing::Instrument as _;

use crate::executor_prelude::*;
use crate::record_stream::RecordStream;
use crate::sleep::{AsyncSleep, DefaultSleep};

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
    handle: Handle<T, Mutex<TokenState>>,
    sleep: Arc<dyn AsyncSleep>,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client {
            handle: self.handle.clone(),
            sleep: Arc::clone(&self.sleep),
        }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.handle.debug("Client", f)
    }
}

/// How far [`Client::advance`] carried a download.
enum Advance {
    Stream(Box<dyn AsyncBody>),
    ResetSink,
    // Read by the downloads into sinks, which need the `tokio` feature.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    Done(DownloadReport),
}

type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Token, Error>> + Send + 'a>>;

impl<T: AsyncTransport> Client<T> {
    pub(crate) fn from_parts(core: Core, transport: T) -> Self {
        Client {
            handle: Handle::new(core, transport, Mutex::new),
            sleep: Arc::new(DefaultSleep),
        }
    }

    /// Uses `sleep` to wait between retries (e.g. your runtime's timer).
    pub fn with_sleep(mut self, sleep: impl AsyncSleep) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// This client with another retry policy for the calls made through the returned handle,
    /// sharing the transport and the tokens; e.g. [`RetryPolicy::never`] for one call.
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
        let handle = self.handle.with_policy(policy);
        let sleep = Arc::clone(&self.sleep);
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
        let mut exchange = self.handle.exchange(endpoint);
        let span = exchange.span();
        async move {
            let mut step = exchange.start(Instant::now());
            loop {
                step = match step {
                    Step::Authorize(need) => exchange.authorized(self.authorize(&need).await),
                    Step::Send(request) => {
                        let answer = self.handle.transport().send(request).await;
                        exchange.received(answer, Instant::now())
                    }
                    Step::Sleep(pause) => {
                        self.sleep.sleep(pause).await;
                        exchange.start(Instant::now())
                    }
                    Step::Done(result) => return result,
                };
            }
        }
        .instrument(span)
        .await
    }

    /// Runs `endpoint`, owned by the returned future.
    pub(crate) async fn call<E>(&self, endpoint: E) -> Result<E::Output, Error>
    where
        E: Endpoint + Send + Sync,
        E::Output: Send,
    {
        Ok(self.execute(&endpoint).await?.output)
    }

    /// The records of `scope` in `period` (any length), in `order`, each once: the
    /// [`records`](Self::records) stream collected.
    ///
    /// A period longer than the API's window is split into windows that overlap by one second,
    /// so no record at a window boundary is lost; duplicates are removed by `record_uuid`, and
    /// records at the excluded end of a half-open period are dropped.
    pub fn list(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        order: Order,
    ) -> impl Future<Output = Result<Vec<Record>, Error>> + Send + 'static
    where
        T: 'static,
    {
        self.list_with(scope, period, ListOptions::new(order))
    }

    /// [`records`](Self::records) collected: the first error fails the call, except an
    /// undecodable record when `options` skip those.
    pub fn list_with(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> impl Future<Output = Result<Vec<Record>, Error>> + Send + 'static
    where
        T: 'static,
    {
        let skip = options.skip_undecodable;
        let mut stream = self.records(scope, period, options);
        async move {
            // Every item, errors included: an undecodable record is skipped when asked.
            let mut records = Vec::new();
            while let Some(item) = stream.next().await {
                records.extend(crate::list::kept(item, skip)?);
            }
            Ok(records)
        }
    }

    /// The records of `scope` in `period` (any length) as a [`Stream`](futures_util::Stream)
    /// that decodes each window's answer record by record while it arrives, so memory does not
    /// grow with the period or the window. Records come in `options`' order, each once, only
    /// those inside the period; the next windows are opened ahead (see
    /// [`ListOptions::read_ahead`]) while one is read.
    ///
    /// An undecodable record is yielded as [`Error::UndecodableRecord`] and the stream goes
    /// on; any other error ends it, and [`RecordStream::position`] tells where to resume.
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
    pub fn records(
        &self,
        scope: Scope,
        period: impl Into<Period>,
        options: ListOptions,
    ) -> RecordStream<T>
    where
        T: 'static,
    {
        let read_ahead = options.read_ahead.unwrap_or(self.handle.core().concurrency);
        let listing = Listing::new(scope, period.into(), &options);
        RecordStream::new(self.clone(), listing, read_ahead)
    }

    /// Runs `endpoint` like [`execute`](Self::execute), with the streaming transport: the
    /// body of its success answer, unread.
    pub(crate) async fn open<E>(&self, endpoint: &E) -> Result<Box<dyn AsyncBody>, Error>
    where
        E: Endpoint + Sync,
        E::Output: Send,
    {
        let mut exchange = self.handle.exchange(endpoint);
        let span = exchange.span();
        async move {
            let mut step = exchange.start(Instant::now());
            loop {
                step = match step {
                    Step::Authorize(need) => exchange.authorized(self.authorize(&need).await),
                    Step::Send(request) => {
                        let mut body = None;
                        let answer = self.handle.transport().send_streaming(request).await;
                        match exchange.opened(keep_body(answer, &mut body), Instant::now()) {
                            Opened::Stream => return body.ok_or_else(not_opened),
                            Opened::ReadErrorBody(parts) => {
                                let prefix = match body {
                                    Some(mut stream) => read_prefix(&mut stream).await,
                                    None => Vec::new(),
                                };
                                exchange.error_body(parts, prefix, Instant::now())
                            }
                            Opened::Next(step) => step,
                        }
                    }
                    Step::Sleep(pause) => {
                        self.sleep.sleep(pause).await;
                        exchange.start(Instant::now())
                    }
                    Step::Done(result) => return Err(result.err().unwrap_or_else(not_opened)),
                };
            }
        }
        .instrument(span)
        .await
    }

    /// The records of `scope` in one window, as the API returns them.
    pub fn list_window(
        &self,
        scope: Scope,
        window: QueryWindow,
        order: Order,
    ) -> impl Future<Output = Result<Vec<Record>, Error>> + Send {
        self.call(ListRecords::new(scope, window).order(order))
    }

    /// The count and total size of the record files of `scope` in `period` (any length),
    /// exact: no record at a window overlap or at an excluded end is counted. Requests run one
    /// at a time, as the API allows one statistics request per client.
    pub fn stats(
        &self,
        scope: Scope,
        period: impl Into<Period>,
    ) -> impl Future<Output = Result<WindowStats, Error>> + Send {
        let parts = stream::iter(plan::stats_plan(&period.into()))
            .then(move |(window, sign)| async move {
                let stats = self.call(RecordStats::new(scope, window)).await?;
                Ok::<_, Error>((sign, stats))
            })
            .try_collect::<Vec<_>>();
        async move { Ok(plan::combine(parts.await?)) }
    }

    /// Deletes every record of `scope` in `period` (any length), window by window, and nothing
    /// outside it: the last second of a half-open period is listed and its records deleted one
    /// by one, so the records at the excluded end stay.
    pub fn delete_range(
        &self,
        scope: Scope,
        period: impl Into<Period>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let plan = plan::delete_plan(&period.into());
        async move {
            for window in plan.windows {
                self.call(DeleteRecords::new(scope, window)).await?;
            }
            let Some(last) = plan.last_second else {
                return Ok(());
            };
            let records = self.list_window(scope, last.window, Order::Asc).await?;
            for record_uuid in last.records_to_delete(&records) {
                plan::deleted(self.delete_record(scope, record_uuid).await)?;
            }
            Ok(())
        }
    }

    /// Deletes one record and its file. [`Deletion::AlreadyGone`] tells that an earlier
    /// attempt's answer was lost and the retry found the record gone.
    pub fn delete_record(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
    ) -> impl Future<Output = Result<Deletion, Error>> + Send {
        self.call(DeleteRecord::new(scope, record_uuid.clone()))
    }

    /// The permanent storage link of a record.
    pub fn storage_link(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
    ) -> impl Future<Output = Result<StorageLink, Error>> + Send {
        self.call(StorageUrl::new(scope, record_uuid.clone()))
    }

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail). Any success answer is a receipt.
    pub fn request_archive(
        &self,
        client: ClientId,
        archive: &ArchiveRequest,
    ) -> impl Future<Output = Result<ArchiveReceipt, Error>> + Send {
        self.call(RequestArchive::new(client, archive.clone()))
    }

    /// Storage statistics per month, optionally only up to `end`.
    pub fn monthly_stats(
        &self,
        client: ClientId,
        end: Option<MonthlyStatsEnd>,
    ) -> impl Future<Output = Result<Vec<MonthStats>, Error>> + Send {
        self.call(MonthlyRecordStats::new(client).until_optional(end))
    }

    /// Opens a record's file for streaming: the status is checked and the sizes compared
    /// before the first chunk is handed out. With [`DownloadSource::StorageLinkThenApi`], a
    /// storage link that fails to open falls back to the API.
    pub fn open_download(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        options: DownloadOptions,
    ) -> impl Future<Output = Result<Download, Error>> + Send {
        let mut transfer = self.handle.transfer(scope, record_uuid, options, false);
        let span = transfer.span();
        async move {
            let first = transfer.start(Instant::now());
            match self.advance(&mut transfer, first).await? {
                Advance::Stream(body) => Ok(Download::new(transfer.into_opened(), body)),
                Advance::ResetSink | Advance::Done(_) => Err(not_opened()),
            }
        }
        .instrument(span)
    }

    /// Carries out a download's steps until its body is to be streamed, its sink emptied, or
    /// it is over.
    async fn advance(
        &self,
        transfer: &mut Transfer<'_>,
        mut step: Fetch,
    ) -> Result<Advance, Error> {
        let mut body: Option<Box<dyn AsyncBody>> = None;
        loop {
            step = match step {
                Fetch::StorageLink => {
                    let link = self.call(transfer.storage_url()).await;
                    transfer.link(link, Instant::now())
                }
                Fetch::Authorize(need) => transfer.authorized(self.authorize(&need).await),
                Fetch::Open(request) => {
                    let answer = self.handle.transport().send_streaming(request).await;
                    transfer.opened(keep_body(answer, &mut body), Instant::now())
                }
                Fetch::ReadErrorBody => {
                    let prefix = match body.take() {
                        Some(mut stream) => read_prefix(&mut stream).await,
                        None => Vec::new(),
                    };
                    transfer.error_body(&prefix, Instant::now())
                }
                Fetch::Sleep(pause) => {
                    self.sleep.sleep(pause).await;
                    transfer.start(Instant::now())
                }
                Fetch::Stream => {
                    return body
                        .take()
                        .map(Advance::Stream)
                        .ok_or_else(|| Error::Config("a download's body went missing".to_owned()));
                }
                Fetch::ResetSink => return Ok(Advance::ResetSink),
                Fetch::Done(result) => return result.map(Advance::Done),
            };
        }
    }

    /// The authorization for a request, fetching a token if needed. The lock is held while
    /// fetching, so concurrent callers wait for one token request.
    async fn authorize(&self, need: &AuthNeed) -> Result<Authorized, Error> {
        let mut tokens: MutexGuard<'_, TokenState> = self.handle.tokens().lock().await;
        loop {
            let credentials = &self.handle.core().credentials;
            match tokens.next(credentials, need, Instant::now())? {
                TokenStep::Ready(authorized) => break Ok(authorized),
                TokenStep::Fetch(request) => {
                    let token = self.fetch_token(&request).await;
                    tokens.fetched(token, Instant::now())?;
                }
            }
        }
    }

    /// Boxed: `execute` calls `authorize`, which calls this.
    fn fetch_token<'a>(&'a self, request: &'a TokenRequest) -> TokenFuture<'a> {
        Box::pin(self.call(request.clone()))
    }
}

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
mod sinks {
    //! Downloads into `AsyncWrite` sinks and files, with tokio's I/O traits.

    use std::path::Path;

    use tokio::io::{AsyncSeekExt as _, AsyncWrite, AsyncWriteExt as _};

    use super::*;
    use crate::part_file::PartFile;

    /// How much of a file download is gathered before one write: each write of a
    /// `tokio::fs::File` is a round trip through tokio's blocking pool, so writing every
    /// transport chunk (16 to 64 KiB) on its own cost 1.45× the CPU of writing in large pieces.
    const FILE_BUFFER: usize = 256 << 10;

    /// Where a download goes: a caller's writer (cannot be emptied again) or a temporary file.
    enum Target<'a, W> {
        Writer(&'a mut W),
        File(&'a mut tokio::io::BufWriter<tokio::fs::File>),
    }

    impl<W: AsyncWrite + Unpin + Send> Target<'_, W> {
        async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            match self {
                Target::Writer(writer) => writer.write_all(bytes).await,
                Target::File(file) => file.write_all(bytes).await,
            }
        }

        async fn flush(&mut self) -> std::io::Result<()> {
            match self {
                Target::Writer(writer) => writer.flush().await,
                Target::File(file) => file.flush().await,
            }
        }

        async fn reset(&mut self) -> std::io::Result<()> {
            match self {
                Target::Writer(_) => Err(std::io::Error::other("a writer cannot be emptied")),
                Target::File(file) => {
                    // Whatever is still buffered goes out first, then the file is emptied.
                    file.flush().await?;
                    let file = file.get_mut();
                    file.set_len(0).await?;
                    file.rewind().await.map(drop)
                }
            }
        }
    }

    impl<T: AsyncTransport> Client<T> {
        /// Streams a record's file into `sink` in chunks of at most [`CHUNK_SIZE`](crate::CHUNK_SIZE) bytes,
        /// verified against `Content-Length` and `options.expected_size`.
        ///
        /// A body that breaks before the first byte is retried (or, with
        /// [`DownloadSource::StorageLinkThenApi`], fetched from the API); once `sink` holds part
        /// of the file, an error is returned and `sink` may hold that part:
        /// [`download_to_path`](Self::download_to_path) retries from zero and never leaves a
        /// partial file.
        pub fn download<W>(
            &self,
            scope: Scope,
            record_uuid: &RecordUuid,
            sink: &mut W,
            options: DownloadOptions,
        ) -> impl Future<Output = Result<DownloadReport, Error>> + Send
        where
            W: AsyncWrite + Unpin + Send,
        {
            let transfer = self.handle.transfer(scope, record_uuid, options, false);
            self.transfer(transfer, Target::Writer(sink))
        }

        /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
        pub fn download_record<W>(
            &self,
            scope: Scope,
            record: &Record,
            sink: &mut W,
            source: DownloadSource,
        ) -> impl Future<Output = Result<DownloadReport, Error>> + Send
        where
            W: AsyncWrite + Unpin + Send,
        {
            let options = DownloadOptions::for_record(record, source);
            self.download(scope, &record.record_uuid, sink, options)
        }

        /// Downloads a record's file to `path`: into a temporary file next to it, renamed to
        /// `path` only once complete, verified and synced, so nothing partial ever stands at
        /// `path` — not even when this future is dropped midway (the temporary file is removed
        /// then). A body that breaks is downloaded again from zero under the retry policy;
        /// with [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even
        /// midway — starts over from the API. Stale temporary files of `path` left by killed
        /// runs are removed first.
        pub async fn download_to_path<P: AsRef<Path>>(
            &self,
            scope: Scope,
            record_uuid: &RecordUuid,
            path: P,
            options: DownloadOptions,
        ) -> Result<DownloadReport, Error> {
            let path = path.as_ref();
            let part = PartFile::create(path)?;
            let file = part.as_file().try_clone().map_err(Error::Sink)?;
            let mut file =
                tokio::io::BufWriter::with_capacity(FILE_BUFFER, tokio::fs::File::from_std(file));
            let transfer = self.handle.transfer(scope, record_uuid, options, true);
            let target: Target<'_, tokio::fs::File> = Target::File(&mut file);
            let report = self.transfer(transfer, target).await?;
            file.flush().await.map_err(Error::Sink)?;
            file.get_mut().sync_all().await.map_err(Error::Sink)?;
            drop(file);
            part.persist(path)?;
            Ok(report)
        }

        /// Carries a download out into `target` (a temporary file when `transfer` was made
        /// resettable).
        async fn transfer<W>(
            &self,
            mut transfer: Transfer<'_>,
            mut target: Target<'_, W>,
        ) -> Result<DownloadReport, Error>
        where
            W: AsyncWrite + Unpin + Send,
        {
            let span = transfer.span();
            async move {
                let mut step = transfer.start(Instant::now());
                loop {
                    step = match self.advance(&mut transfer, step).await? {
                        Advance::Stream(body) => copy(&mut transfer, body, &mut target).await,
                        Advance::ResetSink => {
                            let emptied = target.reset().await;
                            transfer.sink_reset(emptied, Instant::now())
                        }
                        Advance::Done(report) => return Ok(report),
                    };
                }
            }
            .instrument(span)
            .await
        }
    }

    /// Copies an opened body into `target`, offering each chunk to the engine before writing.
    async fn copy<W: AsyncWrite + Unpin + Send>(
        transfer: &mut Transfer<'_>,
        mut body: Box<dyn AsyncBody>,
        target: &mut Target<'_, W>,
    ) -> Fetch {
        loop {
            let chunk = match body.next_chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => {
                    return match target.flush().await {
                        Ok(()) => transfer.body_ended(),
                        Err(error) => transfer.sink_failed(error),
                    };
                }
                Err(error) => return transfer.body_failed(Error::Transport(error)),
            };
            if let Some(next) = transfer.accept(chunk.len()) {
                return next;
            }
            if let Err(error) = target.write_all(&chunk).await {
                return transfer.sink_failed(error);
            }
        }
    }
}

/// The first bytes of an error body, for the error message.
async fn read_prefix(body: &mut Box<dyn AsyncBody>) -> Vec<u8> {
    let mut prefix = Vec::new();
    // An unreadable error body only costs the message its details.
    while prefix.len() < ERROR_BODY_LIMIT {
        match body.next_chunk().await {
            Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
            _ => break,
        }
    }
    prefix.truncate(ERROR_BODY_LIMIT);
    prefix
}

/// Builds async clients.
impl crate::ClientBuilder {
    /// An async client over `transport`.
    pub fn build_async_with<T: AsyncTransport>(self, transport: T) -> Result<Client<T>, Error> {
        Ok(Client::from_parts(self.core()?, transport))
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
