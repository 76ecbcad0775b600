//! The async client: a thin driver over the shared sans-IO code.

use std::sync::Arc;
use std::time::Instant;

use futures_util::lock::Mutex;
use futures_util::{StreamExt, TryStreamExt, stream};
use record_api::{
    AsyncBody, AsyncTransport, AuthKind, Authorization, DeleteRecord, DeleteRecords,
    DownloadRecord, Endpoint, Error, FileInfo, ListRecords, MonthlyRecordStats, MonthlyStatsEnd,
    RecordStats, RequestArchive, SNIPPET_LIMIT, Scope, StorageUrl, Token, TokenRequest,
    bytes::Bytes,
};
use record_model::{
    ArchiveReceipt, ArchiveRequest, ClientId, DateRange, MonthStats, Order, QueryWindow, RateLimit,
    Record, RecordUuid, StorageLink, WindowStats, merge_records,
};
use tracing::Instrument as _;

use crate::auth::{Authorize, TokenState};
use crate::call::{Call, Step};
use crate::core::{Core, call_span};
use crate::download::{CHUNK_SIZE, DownloadCheck, DownloadOptions, DownloadReport, DownloadSource};
use crate::plan::{combine, stats_plan};
use crate::sleep::{AsyncSleep, DefaultSleep};

/// A client for async code, generic over its transport; `Send + Sync`, and every future it
/// returns is `Send`.
///
/// ```no_run
/// use telphin_records::{ClientBuilder, Credentials, DateRange, Scope, ClientId};
///
/// # async fn demo() -> Result<(), telphin_records::Error> {
/// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
///     .concurrency(4)
///     .build_async()?;
/// let q1 = DateRange::parse("2024-01-01 00:00:00", "2024-03-31 23:59:59")?;
/// let stats = client.stats(Scope::client(ClientId::Me), q1).await?;
/// println!("{} recordings, {} bytes", stats.count, stats.size);
/// # Ok(()) }
/// ```
pub struct Client<T> {
    core: Arc<Core>,
    transport: T,
    tokens: Mutex<TokenState>,
    sleep: Arc<dyn AsyncSleep>,
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.core)
            .finish_non_exhaustive()
    }
}

/// A download in progress: its headers were a success; read its verified chunks with
/// [`next_chunk`](Self::next_chunk).
pub struct Download {
    info: FileInfo,
    body: Box<dyn AsyncBody>,
    check: DownloadCheck,
    source: DownloadSource,
    pending: Option<Bytes>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("info", &self.info)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// What the headers said: `Content-Length` and the server's file name.
    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Where the bytes come from.
    pub fn source(&self) -> DownloadSource {
        self.source
    }

    /// The next chunk (at most [`CHUNK_SIZE`] bytes), or `None` once the whole file, of the
    /// announced size, has arrived. A short or long body is an error.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if let Some(mut pending) = self.pending.take() {
                if pending.len() > CHUNK_SIZE {
                    let chunk = pending.split_to(CHUNK_SIZE);
                    self.pending = Some(pending);
                    return Ok(Some(chunk));
                }
                if !pending.is_empty() {
                    return Ok(Some(pending));
                }
            }
            match self.body.next_chunk().await? {
                Some(chunk) => {
                    self.check.add(chunk.len())?;
                    self.pending = Some(chunk);
                }
                None => {
                    self.check.finish()?;
                    return Ok(None);
                }
            }
        }
    }

    /// What was received, once [`next_chunk`](Self::next_chunk) returned `None`; an error if
    /// the body is not complete yet.
    pub fn report(&self) -> Result<DownloadReport, Error> {
        Ok(DownloadReport {
            bytes: self.check.finish()?,
            source: self.source,
            file_name: self.info.file_name.clone(),
        })
    }
}

impl<T: AsyncTransport> Client<T> {
    pub(crate) fn from_parts(core: Arc<Core>, transport: T) -> Self {
        let tokens = Mutex::new(TokenState::new(core.token_margin));
        Client {
            core,
            transport,
            tokens,
            sleep: Arc::new(DefaultSleep),
        }
    }

    /// Uses `sleep` to wait between retries (e.g. your runtime's timer).
    pub fn with_sleep(mut self, sleep: impl AsyncSleep) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The rate-limit headers of the latest answer.
    pub fn last_rate_limit(&self) -> Option<RateLimit> {
        self.core.last_rate_limit()
    }

    /// The records of `scope` in `range` (any length), in `order`, each once.
    ///
    /// Windows of a long range are requested with the configured concurrency; they overlap by
    /// one second, so no record at a boundary is lost, and duplicates are removed.
    pub async fn list(
        &self,
        scope: Scope,
        range: impl Into<DateRange>,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        let windows: Vec<QueryWindow> = range.into().windows().collect();
        let lists: Vec<Vec<Record>> = stream::iter(windows)
            .map(|window| self.list_window(scope, window, order))
            .buffer_unordered(self.core.concurrency)
            .try_collect()
            .await?;
        Ok(merge_records(lists, order))
    }

    /// The records of `scope` in one window, as the API returns them.
    pub async fn list_window(
        &self,
        scope: Scope,
        window: QueryWindow,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        self.execute(&ListRecords::new(scope, window).order(order), scope.kind())
            .await
    }

    /// The count and total size of the record files of `scope` in `range` (any length),
    /// exact: no record at a window overlap is counted twice. Requests run one at a time, as
    /// the API allows one statistics request per client.
    pub async fn stats(
        &self,
        scope: Scope,
        range: impl Into<DateRange>,
    ) -> Result<WindowStats, Error> {
        let mut parts = Vec::new();
        for (window, sign) in stats_plan(&range.into()) {
            let stats = self
                .execute(&RecordStats::new(scope, window), scope.kind())
                .await?;
            parts.push((sign, stats));
        }
        Ok(combine(parts))
    }

    /// Deletes every record of `scope` in `range` (any length), window by window.
    pub async fn delete_range(
        &self,
        scope: Scope,
        range: impl Into<DateRange>,
    ) -> Result<(), Error> {
        for window in range.into().windows() {
            self.execute(&DeleteRecords::new(scope, window), scope.kind())
                .await?;
        }
        Ok(())
    }

    /// Deletes one record and its file.
    pub async fn delete_record(&self, scope: Scope, record_uuid: &RecordUuid) -> Result<(), Error> {
        self.execute(&DeleteRecord::new(scope, record_uuid.clone()), scope.kind())
            .await
    }

    /// The permanent storage link of a record.
    pub async fn storage_link(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
    ) -> Result<StorageLink, Error> {
        self.execute(&StorageUrl::new(scope, record_uuid.clone()), scope.kind())
            .await
    }

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail).
    pub async fn request_archive(
        &self,
        client: ClientId,
        archive: &ArchiveRequest,
    ) -> Result<ArchiveReceipt, Error> {
        self.execute(&RequestArchive::new(client, archive.clone()), "client")
            .await
    }

    /// Storage statistics per month, optionally only up to `end`.
    pub async fn monthly_stats(
        &self,
        client: ClientId,
        end: Option<MonthlyStatsEnd>,
    ) -> Result<Vec<MonthStats>, Error> {
        let mut endpoint = MonthlyRecordStats::new(client);
        if let Some(end) = end {
            endpoint = endpoint.until(end);
        }
        self.execute(&endpoint, "client").await
    }

    /// Opens a record's file for streaming: the status is checked and the sizes compared
    /// before the first chunk is handed out. With
    /// [`DownloadSource::StorageLinkThenApi`], a storage link that fails to open falls back
    /// to the API.
    pub async fn open_download(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        options: DownloadOptions,
    ) -> Result<Download, Error> {
        let first = match options.source {
            DownloadSource::Api => DownloadSource::Api,
            _ => DownloadSource::StorageLink,
        };
        let opened = self
            .open(scope, record_uuid, first, options.expected_size)
            .await;
        match opened {
            Err(error) if options.source == DownloadSource::StorageLinkThenApi => {
                tracing::debug!(%error, "storage link failed; using the API");
                self.open(
                    scope,
                    record_uuid,
                    DownloadSource::Api,
                    options.expected_size,
                )
                .await
            }
            other => other,
        }
    }

    /// Streams a record's file into `sink` in chunks of at most [`CHUNK_SIZE`] bytes, verified
    /// against `Content-Length` and `options.expected_size`. On error, `sink` may hold part of
    /// the file; [`download_to_path`](Self::download_to_path) never leaves a partial file.
    #[cfg(feature = "tokio")]
    pub async fn download<W>(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        sink: &mut W,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + Send,
    {
        use tokio::io::AsyncWriteExt as _;
        let mut download = self.open_download(scope, record_uuid, options).await?;
        while let Some(chunk) = download.next_chunk().await? {
            sink.write_all(&chunk).await.map_err(Error::Sink)?;
        }
        sink.flush().await.map_err(Error::Sink)?;
        download.report()
    }

    /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
    #[cfg(feature = "tokio")]
    pub async fn download_record<W>(
        &self,
        scope: Scope,
        record: &Record,
        sink: &mut W,
        source: DownloadSource,
    ) -> Result<DownloadReport, Error>
    where
        W: tokio::io::AsyncWrite + Unpin + Send,
    {
        let options = DownloadOptions::from_source(source).expect_size(record.record_file_size);
        self.download(scope, &record.record_uuid, sink, options)
            .await
    }

    /// Downloads a record's file to `path`: into a temporary file next to it, renamed to `path`
    /// only once complete and verified, so a failure leaves nothing at `path`. With
    /// [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even midway —
    /// starts over from the API.
    #[cfg(feature = "tokio")]
    pub async fn download_to_path(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: impl AsRef<std::path::Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let path = path.as_ref();
        if options.source != DownloadSource::StorageLinkThenApi {
            return self.download_file(scope, record_uuid, path, options).await;
        }
        let link = DownloadOptions {
            source: DownloadSource::StorageLink,
            ..options
        };
        match self.download_file(scope, record_uuid, path, link).await {
            Err(error) => {
                tracing::debug!(%error, "storage link failed; starting over from the API");
                let api = DownloadOptions {
                    source: DownloadSource::Api,
                    ..options
                };
                self.download_file(scope, record_uuid, path, api).await
            }
            done => done,
        }
    }

    #[cfg(feature = "tokio")]
    async fn download_file(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: &std::path::Path,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let temporary = crate::download::temporary_path(path)?;
        let result = async {
            let mut file = tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)
                .await
                .map_err(Error::Sink)?;
            let report = self
                .download(scope, record_uuid, &mut file, options)
                .await?;
            file.sync_all().await.map_err(Error::Sink)?;
            drop(file);
            tokio::fs::rename(&temporary, path)
                .await
                .map_err(Error::Sink)?;
            Ok(report)
        }
        .await;
        if result.is_err() {
            // Nothing partial stays behind; a missing temporary file is fine.
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        result
    }

    async fn open(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        source: DownloadSource,
        expected_size: Option<u64>,
    ) -> Result<Download, Error> {
        let link = match source {
            DownloadSource::StorageLink => Some(self.storage_link(scope, record_uuid).await?),
            _ => None,
        };
        let mut request = DownloadRecord::new(scope, record_uuid.clone()).request();
        if link.is_some() {
            // A storage link is fetched without credentials.
            request.operation = "storage_download";
            request.auth = AuthKind::None;
        }
        let span = call_span(&request, scope.kind());
        async {
            let mut call = Call::new(
                self.core.retry,
                true,
                self.core.can_refresh() && link.is_none(),
            );
            loop {
                tracing::Span::current().record("attempt", call.attempt());
                let (authorization, generation) = self.authorize(request.auth).await?;
                let http = match &link {
                    Some(link) => self.core.storage_request(link)?,
                    None => self.core.render(&request, &authorization)?,
                };
                let outcome = match self.transport.send_streaming(http).await {
                    Ok(response) => {
                        let (parts, mut body) = response.into_parts();
                        self.core.observe(parts.status, &parts.headers);
                        let error_body = if parts.status.is_success() {
                            Vec::new()
                        } else {
                            read_prefix(&mut body).await
                        };
                        DownloadRecord::check_head(&parts, &error_body).and_then(|info| {
                            let check = DownloadCheck::begin(&info, expected_size)?;
                            Ok(Download {
                                info,
                                body,
                                check,
                                source,
                                pending: None,
                            })
                        })
                    }
                    Err(error) => Err(Error::from(error)),
                };
                match outcome {
                    Ok(download) => return Ok(download),
                    Err(error) => self.after_failure(&mut call, error, generation).await?,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Sends an endpoint's request until it succeeds or the retry policy stops.
    async fn execute<E>(&self, endpoint: &E, scope_kind: &'static str) -> Result<E::Output, Error>
    where
        E: Endpoint + Sync,
        E::Output: Send,
    {
        let request = endpoint.request();
        let span = call_span(&request, scope_kind);
        async {
            // A token request answered 401 has bad credentials: no new token can cure that.
            let can_refresh = self.core.can_refresh() && request.auth != AuthKind::None;
            let mut call = Call::new(self.core.retry, request.idempotent, can_refresh);
            loop {
                tracing::Span::current().record("attempt", call.attempt());
                let (authorization, generation) = self.authorize(request.auth).await?;
                let http = self.core.render(&request, &authorization)?;
                let outcome = match self.transport.send(http).await {
                    Ok(response) => {
                        self.core.observe(response.status(), response.headers());
                        endpoint.decode(&response)
                    }
                    Err(error) => Err(Error::from(error)),
                };
                match outcome {
                    Ok(output) => return Ok(output),
                    Err(error) => self.after_failure(&mut call, error, generation).await?,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Carries out what [`Call`] decides after a failure; `Err` ends the call.
    async fn after_failure(
        &self,
        call: &mut Call,
        error: Error,
        generation: u64,
    ) -> Result<(), Error> {
        match call.after(&error) {
            Step::Return => Err(error),
            Step::Retry(after) => {
                tracing::debug!(%error, wait_ms = after.as_millis() as u64, "retrying");
                self.sleep.sleep(after).await;
                Ok(())
            }
            Step::Reauthorize => {
                tracing::debug!("token refused; fetching a new one");
                self.tokens.lock().await.invalidate(generation);
                Ok(())
            }
        }
    }

    /// The authorization for a request of `kind`, fetching a token if needed. The lock is held
    /// while fetching, so concurrent callers wait for one token request.
    async fn authorize(&self, kind: AuthKind) -> Result<(Authorization, u64), Error> {
        if kind == AuthKind::None {
            return Ok((Authorization::None, 0));
        }
        let mut tokens = self.tokens.lock().await;
        loop {
            match tokens.authorize(&self.core.credentials, kind, Instant::now())? {
                Authorize::Ready(authorization, generation) => {
                    return Ok((authorization, generation));
                }
                Authorize::Fetch(request) => match self.fetch_token(&request).await {
                    Ok(token) => return Ok(tokens.store(token, Instant::now())),
                    Err(error) if tokens.fetch_failed(&error) => continue,
                    Err(error) => return Err(error),
                },
            }
        }
    }

    fn fetch_token<'a>(
        &'a self,
        request: &'a TokenRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Token, Error>> + Send + 'a>>
    {
        // Boxed: `execute` calls `authorize`, which calls this.
        Box::pin(self.execute(request, "token"))
    }
}

/// The first bytes of an error body, for the error message.
async fn read_prefix(body: &mut Box<dyn AsyncBody>) -> Vec<u8> {
    let mut prefix = Vec::new();
    // An unreadable error body only costs the message its details.
    while prefix.len() < SNIPPET_LIMIT * 4 {
        match body.next_chunk().await {
            Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
            _ => break,
        }
    }
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
    pub fn build_async(self) -> Result<Client<transport_async::ReqwestTransport>, Error> {
        let (connect, read) = self.timeouts_of();
        let transport = transport_async::ReqwestTransport::with_timeouts(connect, read)?;
        self.build_async_with(transport)
    }
}
