//! A download to completion: choose the source, open it, stream it into a sink, verify it.
//!
//! The rules, all here: fall back from the storage link to the API only while the sink is
//! untouched, or when the sink can be reset; restart a broken body from zero only when the sink
//! can be reset (or was never written to); a sink error is final; the sink counts as touched
//! before the first byte is offered to it.

use std::time::{Duration, Instant};

use record_api::Scope;
use record_api::{
    AuthKind, DownloadRecord, Endpoint, Error, FileInfo, RetryPolicy, TransportError, http,
    storage_link_request,
};
use record_model::{RecordUuid, StorageLink};

use super::attempts::{After, Attempts};
use super::tokens::{AuthNeed, Authorized, TokenState};
use crate::core::Core;
use crate::download::{DownloadCheck, DownloadOptions, DownloadReport, DownloadSource};

/// What the executor does next.
#[derive(Debug)]
pub(crate) enum Fetch {
    /// Get the record's storage link, then call [`Transfer::link`].
    StorageLink,
    /// Obtain an authorization, then call [`Transfer::authorized`].
    Authorize(AuthNeed),
    /// Send this request with the streaming transport, keep the body, and call
    /// [`Transfer::opened`] with the head.
    Open(http::Request<Vec<u8>>),
    /// Read the first bytes (up to [`ERROR_BODY_LIMIT`]) of the kept body, then call
    /// [`Transfer::error_body`].
    ReadErrorBody,
    /// Wait, then call [`Transfer::start`].
    Sleep(Duration),
    /// The head was a success: stream the kept body, offering each chunk to
    /// [`Transfer::accept`] before writing it, then call [`Transfer::body_ended`],
    /// [`Transfer::body_failed`] or [`Transfer::sink_failed`].
    Stream,
    /// Empty the sink (truncate the temporary file), then call [`Transfer::sink_reset`].
    ResetSink,
    /// The download is over.
    Done(Result<DownloadReport, Error>),
}

/// The most bytes of an error answer's body read for its message.
pub(crate) const ERROR_BODY_LIMIT: usize = record_api::SNIPPET_LIMIT * 4;

/// The error of an opened download whose transfer ended without handing its body out: the
/// engine only does so for a sink that was written to, which an opened download has not.
pub(crate) fn not_opened() -> Error {
    Error::Config("the download ended before its body was opened".to_owned())
}

/// What comes once the sink is empty again.
#[derive(Debug)]
enum AfterReset {
    Start,
    Sleep(Duration),
}

/// The state of one download.
pub(crate) struct Transfer<'a> {
    core: &'a Core,
    scope: Scope,
    record_uuid: RecordUuid,
    options: DownloadOptions,
    policy: RetryPolicy,
    resettable: bool,
    source: DownloadSource,
    link: Option<StorageLink>,
    attempts: Attempts,
    head: Option<http::response::Parts>,
    check: Option<DownloadCheck>,
    info: FileInfo,
    touched: bool,
    after_reset: Option<AfterReset>,
}

impl<'a> Transfer<'a> {
    /// A download of `record_uuid` into a sink that can be emptied and written again
    /// (`resettable`: a temporary file) or not (a caller's writer).
    pub(crate) fn new(
        core: &'a Core,
        scope: Scope,
        record_uuid: &RecordUuid,
        options: DownloadOptions,
        policy: RetryPolicy,
        resettable: bool,
    ) -> Self {
        let source = match options.source {
            DownloadSource::Api => DownloadSource::Api,
            _ => DownloadSource::StorageLink,
        };
        let link = options.storage_link.clone();
        Transfer {
            core,
            scope,
            record_uuid: record_uuid.clone(),
            options,
            policy,
            resettable,
            source,
            link,
            attempts: attempts_for(core, source, policy),
            head: None,
            check: None,
            info: FileInfo::default(),
            touched: false,
            after_reset: None,
        }
    }

    /// The request for the record's storage link, for [`Fetch::StorageLink`].
    pub(crate) fn storage_url(&self) -> record_api::StorageUrl {
        record_api::StorageUrl::new(self.scope, self.record_uuid.clone())
    }

    /// The span the executor runs the download in.
    pub(crate) fn span(&self) -> tracing::Span {
        tracing::info_span!(
            "telphin_records.download",
            scope = self.scope.kind(),
            source = tracing::field::Empty,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        )
    }

    /// Where the bytes come from now.
    #[cfg(test)]
    pub(crate) fn source(&self) -> DownloadSource {
        self.source
    }

    /// Begins an attempt to open the current source.
    pub(crate) fn start(&mut self, now: Instant) -> Fetch {
        let span = tracing::Span::current();
        span.record("attempt", self.attempts.attempt());
        span.record("source", source_name(self.source));
        match (&self.source, &self.link) {
            (DownloadSource::StorageLink, None) => Fetch::StorageLink,
            (DownloadSource::StorageLink, Some(link)) => {
                match storage_link_request(
                    link,
                    self.core.user_agent(),
                    self.core.allow_insecure_http(),
                ) {
                    Ok(request) => Fetch::Open(request),
                    Err(error) => self.link_failed(error, now),
                }
            }
            _ => Fetch::Authorize(self.attempts.need(AuthKind::BearerOrBasic, now)),
        }
    }

    /// The storage link is known (or could not be had).
    pub(crate) fn link(&mut self, result: Result<StorageLink, Error>, now: Instant) -> Fetch {
        match result {
            Ok(link) => {
                self.link = Some(link);
                self.start(now)
            }
            Err(error) => self.link_failed(error, now),
        }
    }

    /// The authorization for the API's file route is known (or could not be had).
    pub(crate) fn authorized(&mut self, result: Result<Authorized, Error>) -> Fetch {
        let request = DownloadRecord::new(self.scope, self.record_uuid.clone()).request();
        let core = self.core;
        let rendered = self
            .attempts
            .authorized(result, |authorization| core.render(&request, authorization));
        match rendered {
            Ok(http) => Fetch::Open(http),
            Err(error) => Fetch::Done(Err(self.redact(error))),
        }
    }

    /// The streaming transport answered with a head (the executor keeps the body), or failed.
    pub(crate) fn opened(
        &mut self,
        result: Result<http::response::Parts, TransportError>,
        now: Instant,
    ) -> Fetch {
        match result {
            Err(error) => self.open_failed(Error::from(error), now),
            Ok(parts) => {
                self.core
                    .observe(self.attempts.generation(), parts.status, &parts.headers);
                if !parts.status.is_success() {
                    self.head = Some(parts);
                    return Fetch::ReadErrorBody;
                }
                let info = FileInfo::from_headers(&parts.headers);
                match DownloadCheck::begin(&info, self.options.expected_size, self.core.min_rate) {
                    Ok(check) => {
                        self.info = info;
                        self.check = Some(check);
                        Fetch::Stream
                    }
                    Err(error) => self.open_failed(error, now),
                }
            }
        }
    }

    /// The first bytes of a non-success answer's body.
    pub(crate) fn error_body(&mut self, body: &[u8], now: Instant) -> Fetch {
        let error = match self.head.take() {
            Some(parts) => match DownloadRecord::check_head(&parts, body) {
                Err(error) => error,
                Ok(_) => return Fetch::Stream,
            },
            None => Error::Config("a download's error body arrived without its head".to_owned()),
        };
        self.open_failed(error, now)
    }

    /// Counts a chunk of `n` bytes that arrived at `now` before it is written: `Ok` to write
    /// it (the sink is touched from now on), or the error of a body longer than announced or
    /// slower than the floor, for [`body_failed`](Self::body_failed).
    pub(crate) fn accept(&mut self, n: usize, now: Instant) -> Result<(), Error> {
        if let Some(check) = &mut self.check {
            check.add(n, now)?;
        }
        self.touched = true;
        Ok(())
    }

    /// The body ended (and the sink was flushed): complete, or short.
    pub(crate) fn body_ended(&mut self, now: Instant) -> Fetch {
        let finished = match &self.check {
            Some(check) => check.finish(),
            None => Ok(0),
        };
        match finished {
            Ok(bytes) => Fetch::Done(Ok(DownloadReport {
                bytes,
                source: self.source,
                file_name: self.info.file_name.clone(),
            })),
            Err(error) => self.body_failed(error, now),
        }
    }

    /// The body broke off, or had the wrong length.
    pub(crate) fn body_failed(&mut self, error: Error, now: Instant) -> Fetch {
        let error = self.redact(error);
        let can_restart = !self.touched || self.resettable;
        if self.source == DownloadSource::StorageLink
            && self.options.source == DownloadSource::StorageLinkThenApi
            && can_restart
        {
            tracing::debug!(%error, "the storage link broke; starting over from the API");
            return self.fall_back(now);
        }
        if !can_restart {
            return Fetch::Done(Err(error));
        }
        match self.attempts.after_body() {
            After::Retry(after) => {
                tracing::debug!(%error, wait_ms = after.as_millis() as u64, "restarting the download");
                self.restart(AfterReset::Sleep(after), now)
            }
            _ => Fetch::Done(Err(error)),
        }
    }

    /// Writing to the sink failed: final, never a fallback (the sink's state is unknown).
    pub(crate) fn sink_failed(&mut self, error: std::io::Error) -> Fetch {
        Fetch::Done(Err(Error::Sink(error)))
    }

    /// The sink was emptied (or could not be).
    pub(crate) fn sink_reset(&mut self, result: std::io::Result<()>, now: Instant) -> Fetch {
        if let Err(error) = result {
            return Fetch::Done(Err(Error::Sink(error)));
        }
        self.touched = false;
        match self.after_reset.take() {
            Some(AfterReset::Sleep(after)) => Fetch::Sleep(after),
            _ => self.start(now),
        }
    }

    /// What the headers said, how to check the rest, and the source: for a download handed to
    /// the caller to read.
    pub(crate) fn into_opened(self) -> (FileInfo, DownloadCheck, DownloadSource) {
        let check = self.check.unwrap_or_else(DownloadCheck::unchecked);
        (self.info, check, self.source)
    }

    fn open_failed(&mut self, error: Error, now: Instant) -> Fetch {
        let error = self.redact(error);
        match self.attempts.after(&error, self.core) {
            After::Retry(after) => {
                tracing::debug!(%error, wait_ms = after.as_millis() as u64, "retrying");
                Fetch::Sleep(after)
            }
            After::Reauthorize => {
                tracing::debug!("token refused; fetching a new one");
                self.start(now)
            }
            After::Return => self.link_failed(error, now),
        }
    }

    /// The current source failed for good before a byte was written.
    fn link_failed(&mut self, error: Error, now: Instant) -> Fetch {
        if self.source == DownloadSource::StorageLink
            && self.options.source == DownloadSource::StorageLinkThenApi
        {
            tracing::debug!(%error, "the storage link failed; using the API");
            self.fall_back(now)
        } else {
            Fetch::Done(Err(error))
        }
    }

    fn fall_back(&mut self, now: Instant) -> Fetch {
        self.source = DownloadSource::Api;
        self.attempts = attempts_for(self.core, self.source, self.policy);
        self.restart(AfterReset::Start, now)
    }

    fn restart(&mut self, then: AfterReset, now: Instant) -> Fetch {
        self.check = None;
        self.head = None;
        if self.touched {
            self.after_reset = Some(then);
            return Fetch::ResetSink;
        }
        match then {
            AfterReset::Sleep(after) => Fetch::Sleep(after),
            AfterReset::Start => self.start(now),
        }
    }

    fn redact(&self, error: Error) -> Error {
        let mut secrets = self.core.secrets();
        secrets.extend(self.attempts.secret());
        if let Some(link) = &self.link {
            secrets.extend(link_secrets(link.expose_url()));
        }
        error.redact(&secrets)
    }
}

fn attempts_for(core: &Core, source: DownloadSource, policy: RetryPolicy) -> Attempts {
    // A storage link needs no token: a 401 from it is not cured by a new one.
    let can_refresh = source == DownloadSource::Api && TokenState::can_refresh(&core.credentials);
    Attempts::new(policy, true, can_refresh)
}

fn source_name(source: DownloadSource) -> &'static str {
    match source {
        DownloadSource::StorageLink => "storage_link",
        _ => "api",
    }
}

/// The parts of a storage link that are secret: the whole link, and its path and query (the
/// key), which a server may echo on their own.
fn link_secrets(url: &str) -> Vec<&str> {
    let mut secrets = vec![url];
    if let Some((_, rest)) = url.split_once("://")
        && let Some(slash) = rest.find('/')
    {
        let path = &rest[slash..];
        secrets.push(path);
        secrets.extend(
            path.split(['/', '?', '&', '='])
                .filter(|part| part.len() >= 8),
        );
    }
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::scenario::{core, ok_head, uuid};
    use record_model::ClientId;

    fn link() -> StorageLink {
        serde_json::from_value(
            serde_json::json!({"record_url": "http://127.0.0.1:9/s/k3y-0f-the-link"}),
        )
        .unwrap()
    }

    fn broken() -> Error {
        Error::Transport(crate::engine::scenario::broken())
    }

    fn transfer(core: &Core, source: DownloadSource, resettable: bool) -> Transfer<'_> {
        let options = DownloadOptions::from_source(source).expect_size(10);
        let policy = RetryPolicy::default();
        Transfer::new(
            core,
            Scope::client(ClientId::Me),
            &uuid(),
            options,
            policy,
            resettable,
        )
    }

    /// Drives a transfer through the storage link up to streaming.
    fn open_link(t: &mut Transfer<'_>, now: Instant) {
        assert!(matches!(t.start(now), Fetch::StorageLink));
        let Fetch::Open(request) = t.link(Ok(link()), now) else {
            panic!("open the link")
        };
        assert!(request.headers().get("authorization").is_none());
        assert!(matches!(t.opened(ok_head(10), now), Fetch::Stream));
    }

    #[test]
    fn a_sink_error_never_falls_back() {
        let core = core();
        let mut t = transfer(&core, DownloadSource::StorageLinkThenApi, false);
        let now = Instant::now();
        open_link(&mut t, now);
        // The sink takes part of the first chunk and fails: touched before the first write.
        assert!(t.accept(4, Instant::now()).is_ok());
        let step = t.sink_failed(std::io::Error::other("disk full"));
        assert!(matches!(step, Fetch::Done(Err(Error::Sink(_)))), "{step:?}");
    }

    #[test]
    fn a_link_that_breaks_before_the_first_byte_falls_back_for_any_sink() {
        let core = core();
        for resettable in [false, true] {
            let mut t = transfer(&core, DownloadSource::StorageLinkThenApi, resettable);
            let now = Instant::now();
            open_link(&mut t, now);
            let step = t.body_failed(broken(), now);
            assert!(matches!(step, Fetch::Authorize(_)), "{step:?}");
            assert_eq!(t.source(), DownloadSource::Api);
        }
    }

    #[test]
    fn a_link_that_breaks_midway_starts_over_only_on_a_resettable_sink() {
        let core = core();
        let now = Instant::now();
        let mut writer = transfer(&core, DownloadSource::StorageLinkThenApi, false);
        open_link(&mut writer, now);
        assert!(writer.accept(5, Instant::now()).is_ok());
        assert!(matches!(
            writer.body_failed(broken(), now),
            Fetch::Done(Err(_))
        ));

        let mut file = transfer(&core, DownloadSource::StorageLinkThenApi, true);
        open_link(&mut file, now);
        assert!(file.accept(5, Instant::now()).is_ok());
        assert!(matches!(file.body_failed(broken(), now), Fetch::ResetSink));
        assert!(matches!(file.sink_reset(Ok(()), now), Fetch::Authorize(_)));
        assert_eq!(file.source(), DownloadSource::Api);
    }

    #[test]
    fn a_broken_api_body_restarts_a_resettable_sink_under_the_policy() {
        let core = core();
        let now = Instant::now();
        let mut t = transfer(&core, DownloadSource::Api, true);
        for _ in 0..3 {
            assert!(matches!(t.start(now), Fetch::Authorize(_)));
            assert!(matches!(
                t.authorized(Ok(Authorized::none())),
                Fetch::Open(_)
            ));
            assert!(matches!(t.opened(ok_head(10), now), Fetch::Stream));
            assert!(t.accept(6, Instant::now()).is_ok());
            // A short body is a broken body.
            assert!(matches!(t.body_ended(now), Fetch::ResetSink));
            assert!(matches!(t.sink_reset(Ok(()), now), Fetch::Sleep(_)));
        }
        assert!(matches!(t.start(now), Fetch::Authorize(_)));
        let _ = t.authorized(Ok(Authorized::none()));
        let _ = t.opened(ok_head(10), now);
        assert!(t.accept(6, Instant::now()).is_ok());
        let step = t.body_ended(now);
        assert!(
            matches!(step, Fetch::Done(Err(Error::SizeMismatch { .. }))),
            "{step:?}"
        );
    }

    #[test]
    fn a_longer_body_than_announced_is_caught_before_writing() {
        let core = core();
        let now = Instant::now();
        let mut t = transfer(&core, DownloadSource::Api, false);
        let _ = t.start(now);
        let _ = t.authorized(Ok(Authorized::none()));
        let _ = t.opened(ok_head(10), now);
        assert!(t.accept(10, Instant::now()).is_ok());
        let longer = t.accept(1, Instant::now()).unwrap_err();
        assert!(matches!(
            t.body_failed(longer, now),
            Fetch::Done(Err(Error::SizeMismatch { .. }))
        ));
    }

    #[test]
    fn an_error_answer_reads_its_body_then_retries_or_returns() {
        let core = core();
        let now = Instant::now();
        let mut t = transfer(&core, DownloadSource::Api, false);
        let _ = t.start(now);
        let _ = t.authorized(Ok(Authorized::none()));
        let (head, ()) = http::Response::builder()
            .status(404)
            .body(())
            .unwrap()
            .into_parts();
        assert!(matches!(t.opened(Ok(head), now), Fetch::ReadErrorBody));
        let step = t.error_body(br#"{"message": "Record not found"}"#, now);
        let Fetch::Done(Err(error)) = step else {
            panic!("404 is final")
        };
        assert!(error.is_not_found());
    }

    #[test]
    fn link_keys_are_secrets() {
        let secrets =
            link_secrets("https://storage.example.org/rec/AbCdEf0123456789?sig=zzzzzzzzzz");
        assert!(secrets.contains(&"AbCdEf0123456789"));
        assert!(secrets.contains(&"zzzzzzzzzz"));
        assert!(!secrets.contains(&"rec"));
    }
}
