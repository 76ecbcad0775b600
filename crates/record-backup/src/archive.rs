//! An archive: a client of the API, a target and a catalog, with the options of their runs.

use std::sync::Arc;
use std::time::Duration;

use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::{Client, DownloadSource};

use crate::budget::{Admission, Gate, Permit, RateBudget};
use crate::catalog::Catalog;
use crate::error::BackupError;
use crate::naming::Naming;
use crate::progress::{Progress, ProgressFn};
use crate::target::Target;

/// The operator the audit log names when none is given.
pub const DEFAULT_OPERATOR: &str = "telphin-records";

/// How runs behave.
#[derive(Clone)]
pub struct ArchiveOptions {
    pub(crate) naming: Naming,
    pub(crate) concurrency: usize,
    pub(crate) attempts: u32,
    pub(crate) source: DownloadSource,
    pub(crate) budget: RateBudget,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) verify_stored: bool,
    pub(crate) manifests_each_run: bool,
    pub(crate) operator: String,
    pub(crate) act_dir: Option<std::path::PathBuf>,
    pub(crate) target_failures_to_stop: u32,
}

impl std::fmt::Debug for ArchiveOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveOptions")
            .field("naming", &self.naming)
            .field("concurrency", &self.concurrency)
            .field("attempts", &self.attempts)
            .field("source", &self.source)
            .field("budget", &self.budget)
            .field("progress", &self.progress.is_some())
            .field("verify_stored", &self.verify_stored)
            .field("manifests_each_run", &self.manifests_each_run)
            .field("operator", &self.operator)
            .field("act_dir", &self.act_dir)
            .field("target_failures_to_stop", &self.target_failures_to_stop)
            .finish()
    }
}

impl Default for ArchiveOptions {
    fn default() -> Self {
        ArchiveOptions {
            naming: Naming::default(),
            concurrency: 8,
            attempts: 4,
            source: DownloadSource::StorageLinkThenApi,
            budget: RateBudget::default(),
            progress: None,
            verify_stored: false,
            manifests_each_run: true,
            operator: DEFAULT_OPERATOR.to_owned(),
            act_dir: None,
            target_failures_to_stop: 3,
        }
    }
}

impl ArchiveOptions {
    /// How objects are named (default: [`DEFAULT_TEMPLATE`](crate::DEFAULT_TEMPLATE), UTC).
    pub fn naming(mut self, naming: Naming) -> Self {
        self.naming = naming;
        self
    }

    /// How many files are transferred (or verified) at once (default 8, at least 1).
    pub fn concurrency(mut self, files: usize) -> Self {
        self.concurrency = files.max(1);
        self
    }

    /// How many times one run tries a file before recording its failure and going on
    /// (default 4, at least 1). Each try runs the client's own retry policy.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// Where files come from (default [`DownloadSource::StorageLinkThenApi`]: the storage
    /// link, kept in the catalog for later runs, then the API if the link fails).
    pub fn source(mut self, source: DownloadSource) -> Self {
        self.source = source;
        self
    }

    /// The share of the API's rate limit runs may use.
    pub fn budget(mut self, budget: RateBudget) -> Self {
        self.budget = budget;
        self
    }

    /// Reads each file back right after storing it, and records it verified when its size
    /// and SHA-256 are the catalog's (default off: `verify` does it for whole periods). A
    /// service keeping recordings as they come turns it on, so that what it keeps is
    /// verified at once.
    pub fn verify_after_storing(mut self, verify: bool) -> Self {
        self.verify_stored = verify;
        self
    }

    /// Whether each backup run ends by writing the manifests of the months it changed
    /// (default on). A service syncing every few minutes turns it off and calls
    /// [`Archive::write_manifests`] now and then: a month's manifest is written whole, and a
    /// call centre's month is hundreds of MiB.
    pub fn manifests_after_each_run(mut self, write: bool) -> Self {
        self.manifests_each_run = write;
        self
    }

    /// Who acts, as the audit log records every purge, expiry and erasure (default
    /// [`DEFAULT_OPERATOR`]).
    pub fn operator(mut self, name: impl Into<String>) -> Self {
        self.operator = name.into();
        self
    }

    /// After how many files in a row the target refused (each after the store's own
    /// retries) a backup stops with [`BackupError::TargetFailing`](crate::BackupError::TargetFailing)
    /// instead of downloading the rest in vain (default 3, at least 1).
    pub fn target_failures_to_stop(mut self, files: u32) -> Self {
        self.target_failures_to_stop = files.max(1);
        self
    }

    /// A directory where every deletion act is written too (JSON and CSV), besides the
    /// target's `_acts/` — a place the operator keeps apart (default none). The acts of
    /// interrupted runs are written there when they are finished.
    pub fn act_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.act_dir = Some(dir.into());
        self
    }

    /// Calls `report` with each [`Progress`] event (from several tasks: keep it quick).
    pub fn on_progress(mut self, report: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(report));
        self
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// All the work was done (failures of single files are counted in the report).
    Complete,
    /// The rate-limit budget stopped the run; run it again after `resume_after`.
    Paused {
        /// When the API's limit resets.
        resume_after: Duration,
    },
}

/// A backup of the recordings of a PBX (or a group, or an extension): a client of the API, a
/// target where files are kept, and the catalog of what is kept.
///
/// ```no_run
/// use record_backup::{Archive, ArchiveOptions, Catalog, Target};
/// use telphin_records::{ClientBuilder, ClientId, Credentials, Period, Scope};
///
/// # async fn demo() -> Result<(), record_backup::BackupError> {
/// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
///     .build_async()?;
/// let archive = Archive::new(
///     client,
///     Target::from_url("s3://call-archive/pbx", [("aws_region", "eu-central-1")])?,
///     Catalog::open("recordings.sqlite")?,
///     ArchiveOptions::default(),
/// );
/// let pbx = Scope::client(ClientId::Me);
/// let report = archive.backup(pbx, Period::month(2024, 3)?).await?;
/// println!("{} stored, {} kept already, {} failed", report.stored, report.already_kept, report.failed);
/// archive.verify(pbx, None).await?;
/// # Ok(()) }
/// ```
pub struct Archive<T> {
    pub(crate) client: Client<T>,
    pub(crate) target: Target,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) options: ArchiveOptions,
    /// Whether a run removed what killed runs left in a local target (once per archive:
    /// it walks the whole directory).
    pub(crate) tidied: std::sync::atomic::AtomicBool,
    /// Set by [`Archive::stop_destroying`].
    pub(crate) stopping: std::sync::atomic::AtomicBool,
}

impl<T> std::fmt::Debug for Archive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("target", &self.target)
            .field("catalog", &self.catalog)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// An archive of `client`'s recordings in `target`, described by `catalog`.
    pub fn new(
        client: Client<T>,
        target: Target,
        catalog: Catalog,
        options: ArchiveOptions,
    ) -> Self {
        Archive {
            client,
            target,
            catalog: Arc::new(catalog),
            options,
            tidied: std::sync::atomic::AtomicBool::new(false),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Opens the archive whose catalog is the file at `catalog` — the one way the commands
    /// and the service open one: the catalog's lock first (a second run on it stops at once,
    /// [`BackupError::CatalogBusy`]), its folder made owner-only when missing, then the
    /// catalog, signing its audit log with `signer` when given. The lock is held as long as
    /// the returned [`CatalogLock`](crate::CatalogLock) lives.
    pub fn open(
        client: Client<T>,
        target: Target,
        catalog: &std::path::Path,
        signer: Option<crate::AuditSigningKey>,
        options: ArchiveOptions,
    ) -> Result<(Self, crate::CatalogLock), BackupError> {
        let lock = crate::CatalogLock::acquire(catalog)?;
        Archive::open_locked(lock, client, target, signer, options)
    }

    /// [`open`](Self::open) under a lock taken before (a command takes it first, so that a
    /// busy catalog stops it before anything else).
    pub fn open_locked(
        lock: crate::CatalogLock,
        client: Client<T>,
        target: Target,
        signer: Option<crate::AuditSigningKey>,
        options: ArchiveOptions,
    ) -> Result<(Self, crate::CatalogLock), BackupError> {
        let mut opened = Catalog::open(lock.catalog())?;
        if let Some(key) = signer {
            opened = opened.signing_audit_with(key);
        }
        Ok((Archive::new(client, target, opened, options), lock))
    }

    /// The catalog (for [`Catalog::search`] and [`Catalog::entry`]).
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The client of the API.
    pub fn client(&self) -> &Client<T> {
        &self.client
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Leaves the target tidy after a run was abandoned (its future dropped at shutdown,
    /// say): removes what unfinished uploads left in a local directory and writes the
    /// manifests of what was kept. Nothing partial is ever under a record's name; this
    /// removes the staged files beside them too.
    pub async fn settle(&self) -> Result<(), BackupError> {
        self.target.remove_stale_uploads()?;
        self.write_manifests().await
    }

    /// Stops purges, erasures and retention runs of this archive for good, between two
    /// records: a run under way then writes its manifests, audit log and act, and returns
    /// (its report says more was left). For a process shutting down without leaving a
    /// destruction unrecorded.
    pub fn stop_destroying(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether [`stop_destroying`](Self::stop_destroying) was called.
    pub(crate) fn stopped(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Removes what killed runs left in a local target, the first time only.
    pub(crate) fn tidy_once(&self) -> Result<(), BackupError> {
        if !self.tidied.swap(true, std::sync::atomic::Ordering::Relaxed) {
            self.target.remove_stale_uploads()?;
        }
        Ok(())
    }

    pub(crate) fn report(&self, event: Progress) {
        if let Some(progress) = &self.options.progress {
            progress(event);
        }
    }

    /// Waits for the budget to admit an API request; `Err` with the reset time when the run
    /// must stop.
    pub(crate) async fn admit(&self, gate: &Gate) -> Result<Permit, Duration> {
        loop {
            match gate.admit(self.client.last_rate_limit()) {
                Admission::Go(permit) => return Ok(permit),
                Admission::Stop(resume_after) => return Err(resume_after),
                Admission::Wait(pause) => {
                    // One second more: the reset header is rounded.
                    let pause = pause + Duration::from_secs(1);
                    tracing::info!(
                        seconds = pause.as_secs(),
                        "rate-limit reserve reached; waiting"
                    );
                    self.report(Progress::Waiting {
                        seconds: pause.as_secs(),
                    });
                    tokio::time::sleep(pause).await;
                    // The headers are from before the reset: let one request refresh them.
                    if let Admission::Go(permit) = gate.admit(None) {
                        return Ok(permit);
                    }
                }
            }
        }
    }
}
