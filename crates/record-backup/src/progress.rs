//! Progress of a run, for bars and logs.

use std::sync::Arc;

/// Something that happened during a run, reported to the
/// [`ArchiveOptions::on_progress`](crate::ArchiveOptions::on_progress) callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// This many records were listed so far.
    Listed {
        /// Records listed in this run so far.
        records: u64,
    },
    /// The listing is over; this is the work ahead.
    Planned {
        /// Records to download.
        files: u64,
        /// Their total size.
        bytes: u64,
        /// Records of the period that are kept already.
        already_kept: u64,
    },
    /// Bytes of a file arrived and went to the target.
    Transferred {
        /// How many.
        bytes: u64,
    },
    /// An attempt at a file failed midway; its bytes are discarded and it starts over.
    Restarted {
        /// The record.
        record_uuid: String,
        /// Bytes of the failed attempt, already reported as transferred.
        discarded_bytes: u64,
    },
    /// A file is kept.
    Stored {
        /// The record.
        record_uuid: String,
        /// Its size.
        bytes: u64,
    },
    /// A file could not be kept in this run (the run goes on).
    Failed {
        /// The record.
        record_uuid: String,
        /// Why.
        error: String,
    },
    /// A kept object was read back (verify).
    Verified {
        /// The record.
        record_uuid: String,
        /// Whether it was whole.
        whole: bool,
    },
    /// A record was deleted from the PBX (purge).
    Deleted {
        /// The record.
        record_uuid: String,
    },
    /// Only the rate-limit reserve is left: waiting this long for the reset.
    Waiting {
        /// How long.
        seconds: u64,
    },
}

/// The progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;
