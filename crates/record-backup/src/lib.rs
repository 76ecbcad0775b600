//! Verified, resumable backup of a Telphin PBX's call recordings, a searchable catalog, and a
//! purge that deletes only what is safely kept.
//!
//! A company must keep its call recordings for years; the PBX's storage is limited and paid.
//! An [`Archive`] copies the recordings into a [`Target`] — a local directory or any
//! S3-compatible bucket (through [`object_store`]) — and records in a [`Catalog`] (one SQLite
//! file) every listed record and what became of its file:
//!
//! - [`Archive::backup`] lists a period with the completeness guard, then downloads every
//!   record not kept yet: streamed into the target while its SHA-256 is computed, stored under
//!   its name only when complete, [`ArchiveOptions::concurrency`] files at a time. Failures are
//!   recorded per file and the run goes on; a rerun transfers nothing already kept; a run killed
//!   at any point resumes with no duplicate and no partial object.
//! - [`Archive::verify`] reads kept objects back: a missing or altered object makes its record
//!   not kept again (downloaded again, never purged).
//! - [`Archive::purge`] deletes from the PBX, one record at a time, only verified records
//!   older than a cutoff, writing each deletion to the catalog before the next.
//! - [`Catalog::search`] finds recordings by period, number, extension, flow, result and
//!   duration — which the PBX itself cannot.
//! - The target holds monthly manifests (JSON Lines), so it describes itself:
//!   [`rebuild_catalog`] restores a lost catalog from them.
//! - A [`RateBudget`] leaves part of the API's hourly limit to the company's other
//!   integrations: the run waits for the reset, or stops with [`Outcome::Paused`].
//!
//! ```no_run
//! use record_backup::{Archive, ArchiveOptions, Catalog, NameTemplate, Naming, PurgeOptions, Target};
//! use telphin_records::chrono::{Duration, Utc};
//! use telphin_records::{ClientBuilder, ClientId, Credentials, Period, Scope};
//!
//! # async fn demo() -> Result<(), record_backup::BackupError> {
//! let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
//!     .build_async()?;
//! let naming = Naming::new(NameTemplate::default(), chrono_tz::Europe::Moscow);
//! let archive = Archive::new(
//!     client,
//!     Target::local("/srv/call-archive")?,
//!     Catalog::open("/srv/call-archive.sqlite")?,
//!     ArchiveOptions::default().naming(naming),
//! );
//! let pbx = Scope::client(ClientId::Me);
//! let report = archive.backup(pbx, Period::year(2024)?).await?;
//! assert_eq!(report.failed, 0, "see last_error in the catalog");
//! let checked = archive.verify(pbx, None).await?;
//! if checked.all_whole() {
//!     // Free the PBX of what is older than 90 days and safely kept.
//!     let cutoff = Utc::now() - Duration::days(90);
//!     archive.purge(cutoff, pbx, PurgeOptions::default()).await?;
//! }
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod act;
mod archive;
mod audit;
mod backup;
mod budget;
mod catalog;
mod chain;
mod checkpoint;
mod destroy;
mod digest;
mod erase;
mod error;
mod keep;
mod layout;
mod lock;
mod manifest;
mod naming;
mod progress;
mod purge;
mod retention;
mod signed;
mod target;
mod verify;
mod zone;

pub use act::{ACTS_PREFIX, ActRecord, ActRefusal, DeletionAct, Place};
pub use archive::{Archive, ArchiveOptions, DEFAULT_OPERATOR, Outcome};
pub use audit::{check_target_audit, check_target_audit_signed, target_checkpoints, write_audit};
pub use backup::BackupReport;
pub use budget::{RateBudget, Reserve, WhenReserveReached};
pub use catalog::{
    Access, AccessAction, BackupState, CallHour, Catalog, CatalogEntry, DEFAULT_PAGE_SIZE, Hold,
    HoldOn, MAX_PAGE_SIZE, MonthFigures, MonthStorage, PendingSummary, Search, SearchQuery, Status,
    Tombstone,
};
pub use chain::{AUDIT_PREFIX, AuditAction, AuditBreak, AuditCheck, AuditEntry};
pub use checkpoint::{AuditPublicKey, AuditSigningKey, Checkpoint, Frontier};
pub use erase::{ErasureOptions, ErasureReport};
pub use error::BackupError;
pub use lock::CatalogLock;
pub use manifest::rebuild_catalog;
pub use naming::{DEFAULT_TEMPLATE, NameTemplate, Naming};
pub use progress::Progress;
pub use purge::{PurgeOptions, PurgeReport};
pub use retention::{
    EXPIRE_PER_RUN, PassReport, RetentionPass, RetentionPolicy, RetentionReport, RetentionRule,
};
pub use signed::SignedAuditCheck;
pub use target::{DEFAULT_FILE_MODE, PART_SIZE, PROBE_KEY, Target};
pub use verify::VerifyReport;
pub use zone::time_zone;

pub use chrono_tz;
pub use object_store;

// The README's example is compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
