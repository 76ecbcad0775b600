//! The blocking client: a thin driver over the shared sans-IO code.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use record_api::{
    AuthKind, Authorization, BlockingBody, BlockingTransport, DeleteRecord, DeleteRecords,
    DownloadRecord, Endpoint, Error, FileInfo, ListRecords, MonthlyRecordStats, MonthlyStatsEnd,
    RecordStats, RequestArchive, SNIPPET_LIMIT, Scope, StorageUrl, Token, TokenRequest,
    TransportError,
};
use record_model::{
    ArchiveReceipt, ArchiveRequest, ClientId, DateRange, MonthStats, Order, QueryWindow, RateLimit,
    Record, RecordUuid, StorageLink, WindowStats, merge_records,
};

use crate::auth::{Authorize, TokenState};
use crate::call::{Call, Step};
use crate::core::{Core, call_span};
use crate::download::{
    CHUNK_SIZE, DownloadCheck, DownloadOptions, DownloadReport, DownloadSource, temporary_path,
};
use crate::plan::{combine, stats_plan};

/// A client for blocking code, generic over its transport.
///
/// ```no_run
/// use telphin_records::{ClientBuilder, Credentials, DateRange, Order, Scope, ClientId};
///
/// # fn demo() -> Result<(), telphin_records::Error> {
/// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
///     .build_blocking()?;
/// let year = DateRange::parse("2024-01-01 00:00:00", "2024-12-31 23:59:59")?;
/// let records = client.list(Scope::client(ClientId::Me), year, Order::Asc)?;
/// println!("{} recordings in 2024", records.len());
/// # Ok(()) }
/// ```
pub struct BlockingClient<T> {
    core: Arc<Core>,
    transport: T,
    tokens: Mutex<TokenState>,
}

impl<T> std::fmt::Debug for BlockingClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("config", &self.core)
            .finish_non_exhaustive()
    }
}

/// An opened download: what the headers said, and the body still to read.
struct Opened {
    info: FileInfo,
    body: BlockingBody,
    source: DownloadSource,
}

impl<T: BlockingTransport> BlockingClient<T> {
    pub(crate) fn from_parts(core: Arc<Core>, transport: T) -> Self {
        let tokens = Mutex::new(TokenState::new(core.token_margin));
        BlockingClient {
            core,
            transport,
            tokens,
        }
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
    /// A range longer than the API's window is split into windows that overlap by one second,
    /// so no record at a window boundary is lost; duplicates are removed by `record_uuid`.
    pub fn list(
        &self,
        scope: Scope,
        range: impl Into<DateRange>,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        let range = range.into();
        let lists = range
            .windows()
            .map(|window| self.list_window(scope, window, order))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(merge_records(lists, order))
    }

    /// The records of `scope` in one window, as the API returns them.
    pub fn list_window(
        &self,
        scope: Scope,
        window: QueryWindow,
        order: Order,
    ) -> Result<Vec<Record>, Error> {
        self.execute(&ListRecords::new(scope, window).order(order), scope.kind())
    }

    /// The count and total size of the record files of `scope` in `range` (any length),
    /// exact: no record at a window overlap is counted twice.
    pub fn stats(&self, scope: Scope, range: impl Into<DateRange>) -> Result<WindowStats, Error> {
        let range = range.into();
        // One statistics request per client at a time: the plan runs in order.
        let parts = stats_plan(&range)
            .into_iter()
            .map(|(window, sign)| {
                self.execute(&RecordStats::new(scope, window), scope.kind())
                    .map(|stats| (sign, stats))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(combine(parts))
    }

    /// Deletes every record of `scope` in `range` (any length), window by window.
    pub fn delete_range(&self, scope: Scope, range: impl Into<DateRange>) -> Result<(), Error> {
        for window in range.into().windows() {
            self.execute(&DeleteRecords::new(scope, window), scope.kind())?;
        }
        Ok(())
    }

    /// Deletes one record and its file.
    pub fn delete_record(&self, scope: Scope, record_uuid: &RecordUuid) -> Result<(), Error> {
        self.execute(&DeleteRecord::new(scope, record_uuid.clone()), scope.kind())
    }

    /// The permanent storage link of a record.
    pub fn storage_link(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
    ) -> Result<StorageLink, Error> {
        self.execute(&StorageUrl::new(scope, record_uuid.clone()), scope.kind())
    }

    /// Requests an e-mailed archive of a window's files (not retried once it may have been
    /// sent: each accepted request sends an e-mail).
    pub fn request_archive(
        &self,
        client: ClientId,
        archive: &ArchiveRequest,
    ) -> Result<ArchiveReceipt, Error> {
        self.execute(&RequestArchive::new(client, archive.clone()), "client")
    }

    /// Storage statistics per month, optionally only up to `end`.
    pub fn monthly_stats(
        &self,
        client: ClientId,
        end: Option<MonthlyStatsEnd>,
    ) -> Result<Vec<MonthStats>, Error> {
        let mut endpoint = MonthlyRecordStats::new(client);
        if let Some(end) = end {
            endpoint = endpoint.until(end);
        }
        self.execute(&endpoint, "client")
    }

    /// Streams a record's file into `sink` in chunks of [`CHUNK_SIZE`] bytes.
    ///
    /// The status is checked before a byte is written, and the byte count is verified against
    /// `Content-Length` and `options.expected_size`. On error, `sink` may hold part of the
    /// file; [`download_to_path`](Self::download_to_path) never leaves a partial file.
    pub fn download<W: Write>(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        sink: &mut W,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let span = tracing::info_span!("telphin_records.download", scope = scope.kind());
        let _entered = span.enter();
        let mut written = 0;
        let first = match options.source {
            DownloadSource::StorageLink | DownloadSource::StorageLinkThenApi => {
                DownloadSource::StorageLink
            }
            _ => DownloadSource::Api,
        };
        let result = self
            .open(scope, record_uuid, first)
            .and_then(|opened| copy(opened, sink, options.expected_size, &mut written));
        match result {
            // Falling back is safe only while the sink is untouched.
            Err(error) if options.source == DownloadSource::StorageLinkThenApi && written == 0 => {
                tracing::debug!(%error, "storage link failed; using the API");
                let opened = self.open(scope, record_uuid, DownloadSource::Api)?;
                copy(opened, sink, options.expected_size, &mut written)
            }
            other => other,
        }
    }

    /// Streams `record`'s file into `sink`, verified against its `record_file_size`.
    pub fn download_record<W: Write>(
        &self,
        scope: Scope,
        record: &Record,
        sink: &mut W,
        source: DownloadSource,
    ) -> Result<DownloadReport, Error> {
        let options = DownloadOptions::from_source(source).expect_size(record.record_file_size);
        self.download(scope, &record.record_uuid, sink, options)
    }

    /// Downloads a record's file to `path`: into a temporary file next to it, renamed to `path`
    /// only once complete and verified, so a failure leaves nothing at `path`. With
    /// [`DownloadSource::StorageLinkThenApi`], any failure of the storage link — even midway —
    /// starts over from the API.
    pub fn download_to_path(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let path = path.as_ref();
        if options.source != DownloadSource::StorageLinkThenApi {
            return self.download_file(scope, record_uuid, path, options);
        }
        let link = DownloadOptions {
            source: DownloadSource::StorageLink,
            ..options
        };
        self.download_file(scope, record_uuid, path, link)
            .or_else(|error| {
                tracing::debug!(%error, "storage link failed; starting over from the API");
                let api = DownloadOptions {
                    source: DownloadSource::Api,
                    ..options
                };
                self.download_file(scope, record_uuid, path, api)
            })
    }

    fn download_file(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        path: &Path,
        options: DownloadOptions,
    ) -> Result<DownloadReport, Error> {
        let temporary = temporary_path(path)?;
        let result = std::fs::File::create_new(&temporary)
            .map_err(Error::Sink)
            .and_then(|mut file| {
                let report = self.download(scope, record_uuid, &mut file, options)?;
                file.sync_all().map_err(Error::Sink)?;
                Ok(report)
            })
            .and_then(|report| {
                std::fs::rename(&temporary, path).map_err(Error::Sink)?;
                Ok(report)
            });
        if result.is_err() {
            // Nothing partial stays behind; a missing temporary file is fine.
            let _ = std::fs::remove_file(&temporary);
        }
        result
    }

    /// Opens a download from `source` (`Api` or `StorageLink`), retrying until the head is
    /// a success.
    fn open(
        &self,
        scope: Scope,
        record_uuid: &RecordUuid,
        source: DownloadSource,
    ) -> Result<Opened, Error> {
        let link = match source {
            DownloadSource::StorageLink => Some(self.storage_link(scope, record_uuid)?),
            _ => None,
        };
        let mut request = DownloadRecord::new(scope, record_uuid.clone()).request();
        if link.is_some() {
            // A storage link is fetched without credentials.
            request.operation = "storage_download";
            request.auth = AuthKind::None;
        }
        let span = call_span(&request, scope.kind());
        let _entered = span.enter();
        let mut call = Call::new(
            self.core.retry,
            true,
            self.core.can_refresh() && link.is_none(),
        );
        loop {
            span.record("attempt", call.attempt());
            let (authorization, generation) = self.authorize(request.auth)?;
            let http = match &link {
                Some(link) => self.core.storage_request(link)?,
                None => self.core.render(&request, &authorization)?,
            };
            let outcome = self
                .transport
                .send_streaming(http)
                .map_err(Error::from)
                .and_then(|response| {
                    let (parts, mut body) = response.into_parts();
                    self.core.observe(parts.status, &parts.headers);
                    let error_body = if parts.status.is_success() {
                        Vec::new()
                    } else {
                        read_prefix(&mut body)
                    };
                    let info = DownloadRecord::check_head(&parts, &error_body)?;
                    Ok(Opened { info, body, source })
                });
            match outcome {
                Ok(opened) => return Ok(opened),
                Err(error) => self.after_failure(&mut call, error, generation)?,
            }
        }
    }

    /// Sends an endpoint's request until it succeeds or the retry policy stops.
    fn execute<E: Endpoint>(
        &self,
        endpoint: &E,
        scope_kind: &'static str,
    ) -> Result<E::Output, Error> {
        let request = endpoint.request();
        let span = call_span(&request, scope_kind);
        let _entered = span.enter();
        // A token request answered 401 has bad credentials: no new token can cure that.
        let can_refresh = self.core.can_refresh() && request.auth != AuthKind::None;
        let mut call = Call::new(self.core.retry, request.idempotent, can_refresh);
        loop {
            span.record("attempt", call.attempt());
            let (authorization, generation) = self.authorize(request.auth)?;
            let http = self.core.render(&request, &authorization)?;
            let outcome = self
                .transport
                .send(http)
                .map_err(Error::from)
                .and_then(|response| {
                    self.core.observe(response.status(), response.headers());
                    endpoint.decode(&response)
                });
            match outcome {
                Ok(output) => return Ok(output),
                Err(error) => self.after_failure(&mut call, error, generation)?,
            }
        }
    }

    /// Carries out what [`Call`] decides after a failure; `Err` ends the call.
    fn after_failure(&self, call: &mut Call, error: Error, generation: u64) -> Result<(), Error> {
        match call.after(&error) {
            Step::Return => Err(error),
            Step::Retry(after) => {
                tracing::debug!(%error, wait_ms = after.as_millis() as u64, "retrying");
                std::thread::sleep(after);
                Ok(())
            }
            Step::Reauthorize => {
                tracing::debug!("token refused; fetching a new one");
                self.lock_tokens().invalidate(generation);
                Ok(())
            }
        }
    }

    /// The authorization for a request of `kind`, fetching a token if needed. The lock is held
    /// while fetching, so concurrent callers wait for one token request.
    fn authorize(&self, kind: AuthKind) -> Result<(Authorization, u64), Error> {
        if kind == AuthKind::None {
            return Ok((Authorization::None, 0));
        }
        let mut tokens = self.lock_tokens();
        loop {
            match tokens.authorize(&self.core.credentials, kind, Instant::now())? {
                Authorize::Ready(authorization, generation) => {
                    return Ok((authorization, generation));
                }
                Authorize::Fetch(request) => match self.fetch_token(&request) {
                    Ok(token) => return Ok(tokens.store(token, Instant::now())),
                    Err(error) if tokens.fetch_failed(&error) => continue,
                    Err(error) => return Err(error),
                },
            }
        }
    }

    fn fetch_token(&self, request: &TokenRequest) -> Result<Token, Error> {
        self.execute(request, "token")
    }

    fn lock_tokens(&self) -> MutexGuard<'_, TokenState> {
        self.tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The first bytes of an error body, for the error message.
fn read_prefix(body: &mut BlockingBody) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(SNIPPET_LIMIT);
    // An unreadable error body only costs the message its details.
    let _ = body.take(SNIPPET_LIMIT as u64 * 4).read_to_end(&mut prefix);
    prefix
}

/// Copies an opened body into `sink`, verifying its size; `written` counts what reached the
/// sink, even when the copy fails.
fn copy<W: Write>(
    mut opened: Opened,
    sink: &mut W,
    expected_size: Option<u64>,
    written: &mut u64,
) -> Result<DownloadReport, Error> {
    let mut check = DownloadCheck::begin(&opened.info, expected_size)?;
    let mut buf = vec![0u8; CHUNK_SIZE];
    loop {
        let n = match opened.body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(Error::Transport(TransportError::body_read(error))),
        };
        check.add(n)?;
        sink.write_all(&buf[..n]).map_err(Error::Sink)?;
        *written += n as u64;
    }
    sink.flush().map_err(Error::Sink)?;
    Ok(DownloadReport {
        bytes: check.finish()?,
        source: opened.source,
        file_name: opened.info.file_name,
    })
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

    /// A blocking client over ureq, with this configuration's timeouts.
    #[cfg(feature = "blocking")]
    pub fn build_blocking(
        self,
    ) -> Result<BlockingClient<transport_blocking::UreqTransport>, Error> {
        let (connect, read) = self.timeouts_of();
        let transport = transport_blocking::UreqTransport::with_timeouts(connect, read);
        self.build_blocking_with(transport)
    }
}
