//! One PBX kept in step: its archive, its sync loop, its reconcile and its readiness.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike as _, Utc};
use record_backup::{Archive, ArchiveOptions, BackupError, BackupReport, Outcome};
use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::{ClientBuilder, Period, Scope, YearMonth};
use tokio::sync::{Notify, watch};

use crate::config::{PbxConfig, ServiceSettings};
use crate::error::ServiceError;
use crate::metrics::{self, Metrics};
use crate::secret::Secret;

/// What the loop remembers between syncs (read by `/readyz`; never held across an await).
#[derive(Debug, Default, Clone)]
pub(crate) struct Status {
    /// When the last complete sync ended.
    pub(crate) last_success: Option<Instant>,
    /// The last sync's error, if it failed.
    pub(crate) last_error: Option<String>,
    /// Where the last complete sync's listing ended (guarded or not).
    pub(crate) listed_through: Option<DateTime<Utc>>,
    /// The PBX's own statistics of the months last reconciled: `YYYY-MM` → (records, bytes).
    pub(crate) pbx_months: std::collections::BTreeMap<String, (u64, u64)>,
    /// Failed syncs since the last complete one.
    pub(crate) failures: u64,
}

/// A PBX of the service.
pub(crate) struct Pbx {
    pub(crate) name: String,
    pub(crate) scope: Scope,
    pub(crate) archive: Archive<ReqwestTransport>,
    pub(crate) event_secret: Option<Secret>,
    /// An event arrived: sync early.
    pub(crate) wake: Notify,
    pub(crate) status: Mutex<Status>,
    since: Option<DateTime<Utc>>,
    retention: Option<record_backup::RetentionPolicy>,
    /// Whether the archive is kept in step (`sync = true`) or only served.
    pub(crate) syncs: bool,
    settings: ServiceSettings,
    pub(crate) metrics: Arc<Metrics>,
    started: Instant,
    _lock: record_backup::CatalogLock,
    /// The target's readiness probe: one at a time, its answer kept a few seconds.
    probe: crate::probe::Probe,
}

/// How one sync ended.
enum Synced {
    Done(BackupReport),
    Paused(Duration),
}

impl Pbx {
    /// Opens the PBX's archive: its lock, catalog and target, and a client of its API.
    pub(crate) fn open(
        config: &PbxConfig,
        settings: &ServiceSettings,
        signer: Option<&record_backup::AuditSigningKey>,
        metrics: Arc<Metrics>,
    ) -> Result<Pbx, ServiceError> {
        let name = config.name.clone();
        let archive_error = |source: BackupError| ServiceError::Archive {
            pbx: name.clone(),
            source,
        };
        let scope = config.scope;
        let budget = config.budget();
        let naming = config.naming()?;
        let target = config.target()?;
        let mut builder = ClientBuilder::new(config.credentials()?);
        if let Some(base) = &config.base_url {
            builder = builder.base_url(base);
        }
        let client = builder
            .build_async()
            .map_err(|source| ServiceError::Client {
                pbx: name.clone(),
                source,
            })?;
        let options = ArchiveOptions::default()
            .naming(naming)
            .concurrency(config.concurrency)
            .attempts(config.attempts)
            .budget(budget)
            .operator(&settings.operator)
            .verify_after_storing(true)
            // Written by the daily reconcile and at the stop: a month's manifest is whole.
            .manifests_after_each_run(false);
        let (archive, lock) =
            Archive::open(client, target, &config.catalog, signer.cloned(), options)
                .map_err(archive_error)?;
        let since = config
            .since
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|at| at.and_utc());
        Ok(Pbx {
            event_secret: config.event_secret()?,
            name,
            scope,
            archive,
            wake: Notify::new(),
            status: Mutex::new(Status::default()),
            since,
            retention: config.retention.clone(),
            syncs: config.sync,
            settings: settings.clone(),
            metrics,
            started: Instant::now(),
            _lock: lock,
            probe: crate::probe::Probe::default(),
        })
    }

    pub(crate) fn label(&self) -> metrics::Pbx {
        metrics::pbx(&self.name)
    }

    /// Syncs until `stop` turns true; then leaves the target tidy. A sync in flight is
    /// abandoned at once: nothing partial is under a record's name, and the next start lists
    /// its period again. The retention policy's application stops between two records and
    /// finishes its paperwork.
    pub(crate) async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        if !self.syncs {
            tracing::info!(pbx = %self.name, "sync = false: the archive is only served");
            let _ = stop.wait_for(|stop| *stop).await;
            return;
        }
        let mut next_reconcile = Instant::now();
        // When the last guarded sync began: one runs every interval, events or not.
        let mut last_guarded: Option<Instant> = None;
        let mut woken = false;
        loop {
            let reconcile = Instant::now() >= next_reconcile;
            let guarded = !woken
                || last_guarded.is_none_or(|began| began.elapsed() >= self.settings.interval);
            if guarded {
                last_guarded = Some(Instant::now());
            }
            let work = async {
                let synced = self.sync(guarded).await;
                if reconcile && matches!(synced, Ok(Synced::Done(_))) {
                    self.reconcile().await;
                }
                synced
            };
            let synced = tokio::select! {
                synced = work => synced,
                _ = stop.wait_for(|stop| *stop) => break,
            };
            if reconcile && matches!(synced, Ok(Synced::Done(_))) {
                // Not abandoned at a stop: it stops between two records, then writes the
                // manifests, the audit log and the act of what it destroyed.
                let retention = self.apply_retention();
                tokio::pin!(retention);
                let stopped = tokio::select! {
                    () = &mut retention => false,
                    _ = stop.wait_for(|stop| *stop) => true,
                };
                if stopped {
                    self.archive.stop_destroying();
                    retention.await;
                    break;
                }
            }
            if reconcile && matches!(synced, Ok(Synced::Done(_))) {
                next_reconcile = Instant::now() + self.settings.reconcile_every;
            }
            let pause = match synced {
                Ok(Synced::Paused(resume_after)) => resume_after + Duration::from_secs(1),
                _ => last_guarded.map_or(self.settings.interval, |began| {
                    self.settings.interval.saturating_sub(began.elapsed())
                }),
            };
            woken = tokio::select! {
                () = tokio::time::sleep(pause) => false,
                () = self.wake.notified() => true,
                _ = stop.wait_for(|stop| *stop) => break,
            };
            if woken {
                // The events of the next moments wake this one sync.
                tokio::select! {
                    () = tokio::time::sleep(self.settings.debounce) => {}
                    _ = stop.wait_for(|stop| *stop) => break,
                }
            }
        }
        if let Err(error) = self.archive.settle().await {
            tracing::warn!(pbx = %self.name, %error, "the target could not be tidied at shutdown");
        }
        tracing::info!(pbx = %self.name, "stopped");
    }

    /// One sync: lists from the point known complete (minus the margin) to now, keeps every
    /// new record, and moves the point on when the listing was complete.
    async fn sync(&self, guarded: bool) -> Result<Synced, BackupError> {
        let began = Instant::now();
        let result = self.sync_inner(guarded).await;
        let elapsed = began.elapsed();
        self.metrics
            .sync_duration
            .get_or_create(&self.label())
            .observe(elapsed.as_secs_f64());
        let outcome = match &result {
            Ok((Synced::Done(report), _)) => {
                self.metrics
                    .last_success
                    .get_or_create(&self.label())
                    .set(Utc::now().timestamp_millis() as f64 / 1000.0);
                let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
                status.last_success = Some(Instant::now());
                status.last_error = None;
                status.failures = 0;
                if report.failed > 0 {
                    "some_failed"
                } else {
                    "complete"
                }
            }
            Ok((Synced::Paused(_), _)) => "paused",
            Err(error) => {
                self.failed(kind_of(error));
                let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
                status.last_error = Some(error.to_string());
                status.failures += 1;
                "failed"
            }
        };
        self.metrics
            .syncs
            .get_or_create(&metrics::pbx_kind(&self.name, outcome))
            .inc();
        self.observe_rate_limit();
        let pending = self.observe_backlog();
        match result {
            Ok((synced, period)) => {
                let report = match &synced {
                    Synced::Done(report) => report.clone(),
                    Synced::Paused(_) => BackupReport::default(),
                };
                tracing::info!(
                    pbx = %self.name,
                    from = %period.start().format("%Y-%m-%d %H:%M:%S"),
                    listed = report.listed,
                    stored = report.stored,
                    already_kept = report.already_kept,
                    failed = report.failed,
                    bytes = report.bytes,
                    pending,
                    guarded,
                    paused = matches!(synced, Synced::Paused(_)),
                    duration_ms = elapsed.as_millis() as u64,
                    "sync"
                );
                Ok(synced)
            }
            Err(error) => {
                tracing::warn!(pbx = %self.name, %error, duration_ms = elapsed.as_millis() as u64, "sync failed");
                Err(error)
            }
        }
    }

    /// One sync of `[point known complete − margin, now)`. A guarded sync (polling) lists
    /// with the completeness guard and moves the point on; a sync woken by an event lists
    /// without it (one request per window instead of two) and leaves the point where it is,
    /// for the next guarded sync to confirm.
    async fn sync_inner(&self, guarded: bool) -> Result<(Synced, Period), BackupError> {
        let catalog = self.archive.catalog();
        // The API takes whole seconds.
        let now = whole_second(Utc::now());
        let through = match catalog.complete_through(self.scope)? {
            Some(through) => through,
            None => self
                .since
                .unwrap_or_else(|| now - to_chrono(self.settings.interval)),
        };
        let from =
            (through - to_chrono(self.settings.margin)).min(now - chrono::Duration::seconds(1));
        let period = Period::between(whole_second(from), now)?;
        let report = if guarded {
            self.archive.backup(self.scope, period).await?
        } else {
            self.archive.backup_unguarded(self.scope, period).await?
        };
        self.count(&report);
        if let Outcome::Paused { resume_after } = report.outcome {
            return Ok((Synced::Paused(resume_after), period));
        }
        if guarded {
            catalog.set_complete_through(self.scope, now)?;
        }
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .listed_through = Some(now);
        Ok((Synced::Done(report), period))
    }

    fn count(&self, report: &BackupReport) {
        let label = self.label();
        self.metrics
            .records_stored
            .get_or_create(&label)
            .inc_by(report.stored);
        self.metrics
            .bytes_stored
            .get_or_create(&label)
            .inc_by(report.bytes);
        self.metrics
            .records_listed
            .get_or_create(&label)
            .inc_by(report.listed);
        if report.failed > 0 {
            self.metrics
                .failures
                .get_or_create(&metrics::pbx_kind(&self.name, "file"))
                .inc_by(report.failed);
        }
        if matches!(report.outcome, Outcome::Paused { .. }) {
            self.failed("rate_limit");
        }
    }

    fn failed(&self, kind: &str) {
        self.metrics
            .failures
            .get_or_create(&metrics::pbx_kind(&self.name, kind))
            .inc();
    }

    fn observe_rate_limit(&self) {
        if let Some(limit) = self.archive.client().last_rate_limit() {
            let label = self.label();
            if let Some(remaining) = limit.remaining {
                self.metrics
                    .rate_limit_remaining
                    .get_or_create(&label)
                    .set(gauge(remaining));
            }
            if let Some(max) = limit.limit {
                self.metrics
                    .rate_limit
                    .get_or_create(&label)
                    .set(gauge(max));
            }
        }
    }

    /// Sets the pending and lag gauges; gives the pending count.
    fn observe_backlog(&self) -> u64 {
        let catalog = self.archive.catalog();
        let Ok(pending) = catalog.pending_summary(self.scope) else {
            self.failed("catalog");
            return 0;
        };
        let label = self.label();
        self.metrics
            .pending
            .get_or_create(&label)
            .set(gauge(pending.count));
        let now = Utc::now();
        let listed = self
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .listed_through;
        let through = listed.or_else(|| catalog.complete_through(self.scope).ok().flatten());
        let behind = [pending.oldest, through].into_iter().flatten().min();
        let lag = behind.map_or(0.0, |at| {
            (now - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        self.metrics.lag.get_or_create(&label).set(lag);
        pending.count
    }

    /// Holds the catalog's months against the PBX's statistics and lists again each month
    /// that differs; then tries once more the files that failed before.
    async fn reconcile(&self) {
        let months = self.settings.reconcile_months.max(1);
        let now = Utc::now();
        // Only the months the archive covers whole: from `since`, or from its oldest record
        // (a fresh service without `since` keeps calls from its start on, not the months
        // before).
        let origin = match self.since {
            Some(since) => Some(since),
            None => match self.archive.catalog().oldest(self.scope) {
                Ok(oldest) => oldest,
                Err(error) => {
                    self.failed(kind_of(&error));
                    return;
                }
            },
        };
        let mut month = (now.year(), now.month());
        for _ in 0..months {
            let covered = Period::month(month.0, month.1)
                .ok()
                .zip(origin)
                .is_some_and(|(period, origin)| period.start() >= origin);
            if !covered {
                break;
            }
            if let Err(error) = self.reconcile_month(month.0, month.1).await {
                self.failed(kind_of(&error));
                tracing::warn!(pbx = %self.name, %error, "reconcile failed");
                return;
            }
            month = if month.1 == 1 {
                (month.0 - 1, 12)
            } else {
                (month.0, month.1 - 1)
            };
        }
        match self.archive.keep_pending(self.scope, None).await {
            Ok(report) if report.stored + report.failed > 0 => {
                self.count(&report);
                tracing::info!(pbx = %self.name, stored = report.stored, failed = report.failed, "earlier failures tried again");
            }
            Ok(_) => {}
            Err(error) => {
                self.failed(kind_of(&error));
                tracing::warn!(pbx = %self.name, %error, "trying earlier failures again failed");
            }
        }
        if let Err(error) = self.archive.write_manifests().await {
            self.failed(kind_of(&error));
            tracing::warn!(pbx = %self.name, %error, "the manifests could not be written");
        }
        // Hold changes made from the command line while the service holds the catalog.
        if let Err(error) =
            record_backup::write_audit(self.archive.catalog(), self.archive.target()).await
        {
            self.failed(kind_of(&error));
            tracing::warn!(pbx = %self.name, %error, "the audit log could not be copied to the target");
        }
    }

    /// Applies the retention policy, if there is one: purges the PBX of what is past its
    /// period and verified, destroys what the archive keeps no longer, and stores the act of
    /// what it destroyed in the target.
    async fn apply_retention(&self) {
        // Acts left by a run that was killed or could not store them: stored first.
        match self.archive.finish_unfinished_acts().await {
            Ok(acts) => {
                for act in acts {
                    tracing::warn!(pbx = %self.name, act = %act.act_id, destroyed = act.records.len(), "stored the deletion act of an earlier run that did not finish");
                }
            }
            Err(error) => {
                self.failed(kind_of(&error));
                tracing::error!(pbx = %self.name, %error, "a deletion act of an earlier run could not be stored");
            }
        }
        let Some(policy) = &self.retention else {
            return;
        };
        let report = match self
            .archive
            .apply_retention(policy, self.scope, false, Utc::now())
            .await
        {
            Ok(report) => report,
            Err(error) => {
                // A failure after records were destroyed names them and their act, which the
                // archive stored (or the next application stores).
                self.failed(kind_of(&error));
                tracing::error!(pbx = %self.name, %error, "the retention policy could not be applied");
                return;
            }
        };
        let purged: u64 = report
            .passes
            .iter()
            .filter_map(|pass| pass.purge.as_ref())
            .map(|purge| purge.deleted + purge.already_gone)
            .sum();
        let expired: u64 = report.passes.iter().map(|pass| pass.expired).sum();
        let held: u64 = report.passes.iter().map(|pass| pass.held).sum();
        let label = |kind: &str| metrics::PbxKind {
            pbx: self.name.clone(),
            kind: kind.to_owned(),
        };
        self.metrics
            .retention
            .get_or_create(&label("purged"))
            .inc_by(purged);
        self.metrics
            .retention
            .get_or_create(&label("expired"))
            .inc_by(expired);
        self.metrics
            .held
            .get_or_create(&self.label())
            .set(gauge(held));
        tracing::info!(pbx = %self.name, purged, expired, held, "retention policy applied");
    }

    async fn reconcile_month(&self, year: i32, month: u32) -> Result<(), BackupError> {
        let period = Period::month(year, month)?;
        let Some((count, size)) = self.pbx_month(year, month, &period).await? else {
            tracing::debug!(pbx = %self.name, year, month, "the PBX's statistics have no such month");
            return Ok(());
        };
        let figures = self.archive.catalog().month_figures(self.scope, &period)?;
        let label = metrics::PbxMonth {
            pbx: self.name.clone(),
            month: format!("{year:04}-{month:02}"),
        };
        self.metrics
            .pbx_month_records
            .get_or_create(&label)
            .set(gauge(count));
        self.metrics
            .pbx_month_bytes
            .get_or_create(&label)
            .set(gauge(size));
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pbx_months
            .insert(label.month.clone(), (count, size));
        self.show_catalog_month(&label, figures);
        if count == figures.on_pbx {
            return Ok(());
        }
        if count < figures.on_pbx {
            // Listing again cannot help: recordings were deleted from the PBX by someone else
            // (they stay kept in the archive).
            tracing::info!(pbx = %self.name, month = %label.month, pbx_count = count, catalog_count = figures.on_pbx, "the PBX counts fewer recordings than the catalog: some were deleted from the PBX elsewhere");
            return Ok(());
        }
        tracing::info!(pbx = %self.name, month = %label.month, pbx_count = count, catalog_count = figures.on_pbx, "the PBX counts more recordings than the catalog: listing the month again");
        let report = self.archive.backup(self.scope, period).await?;
        self.count(&report);
        let figures = self.archive.catalog().month_figures(self.scope, &period)?;
        self.show_catalog_month(&label, figures);
        Ok(())
    }

    /// The catalog's figures of a month, next to the PBX's in the metrics.
    fn show_catalog_month(&self, label: &metrics::PbxMonth, figures: record_backup::MonthFigures) {
        self.metrics
            .catalog_month_records
            .get_or_create(label)
            .set(gauge(figures.on_pbx));
        self.metrics
            .catalog_month_kept
            .get_or_create(label)
            .set(gauge(figures.kept));
    }

    /// The PBX's count and size of a month: its monthly statistics at the client level (`None`
    /// when they hold no such month), the statistics of the period otherwise.
    async fn pbx_month(
        &self,
        year: i32,
        month: u32,
        period: &Period,
    ) -> Result<Option<(u64, u64)>, BackupError> {
        let client = self.archive.client();
        if let Scope::Client(id) = self.scope {
            let wanted = YearMonth::new(
                u16::try_from(year).unwrap_or_default(),
                u8::try_from(month).unwrap_or_default(),
            )?;
            let months = client.monthly_stats(id, None).await?;
            let found = months.iter().find(|m| m.year_month == wanted);
            return Ok(found.map(|m| (m.call_records_count, m.call_records_size)));
        }
        let stats = client.stats(self.scope, *period).await?;
        Ok(Some((stats.count, stats.size)))
    }

    /// Why the PBX is not ready, if it is not: its catalog must answer, its target take an
    /// object, and its last complete sync be within two intervals.
    pub(crate) async fn unready(&self) -> Option<String> {
        if let Err(error) = self.archive.catalog().complete_through(self.scope) {
            return Some(format!("the catalog does not answer: {error}"));
        }
        if let Err(reason) = self.probe.check(self.archive.target()).await {
            return Some(reason);
        }
        if !self.syncs {
            return None;
        }
        let status = self
            .status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let bound = self.settings.interval * 2;
        let since = status.last_success.unwrap_or(self.started);
        if since.elapsed() > bound {
            return Some(match status.last_error {
                Some(error) => format!(
                    "no complete sync for {} s: {error}",
                    since.elapsed().as_secs()
                ),
                None => format!("no complete sync for {} s", since.elapsed().as_secs()),
            });
        }
        if status.last_success.is_none() {
            return Some("the first sync has not completed yet".to_owned());
        }
        None
    }
}

/// A count as a gauge's value.
fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The kind label of an error.
fn kind_of(error: &BackupError) -> &'static str {
    match error {
        BackupError::Api(error) => match error {
            telphin_records::Error::Unauthorized(_) | telphin_records::Error::Forbidden(_) => {
                "auth"
            }
            telphin_records::Error::RateLimited { .. } => "rate_limit",
            _ => "list",
        },
        BackupError::Target(_) | BackupError::TargetConfig(_) => "target",
        BackupError::Catalog { .. }
        | BackupError::CatalogFile { .. }
        | BackupError::Corrupt { .. } => "catalog",
        _ => "other",
    }
}

fn to_chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}
