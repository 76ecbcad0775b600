//! The one home of "kept": what each combination of a record's state columns means, as Rust
//! predicates on [`BackupState`] and, next to each, the same condition as SQL over the
//! catalog's columns. A table test checks that both agree for every combination.

use chrono::{DateTime, Utc};

/// The backup state of one record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BackupState {
    /// The object's name in the target, once stored.
    pub object_key: Option<String>,
    /// The stored object's size in bytes.
    pub size: Option<u64>,
    /// The stored object's SHA-256, lower-case hex.
    pub sha256: Option<String>,
    /// When the object was stored; `None` while the record is not kept (never stored, or
    /// found missing or altered by `verify`).
    pub stored_at: Option<DateTime<Utc>>,
    /// When `verify` last read the object back and found it whole.
    pub verified_at: Option<DateTime<Utc>>,
    /// When `purge` deleted the record from the PBX.
    pub deleted_from_pbx_at: Option<DateTime<Utc>>,
    /// The last failure of this record (download, upload, verification, deletion).
    pub last_error: Option<String>,
    /// How many runs failed to keep it since it was last kept.
    pub failed_attempts: u32,
}

/// Where a record stands, in one word: what `search` prints in its `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Listed, not kept yet, and still on the PBX: the next backup downloads it.
    Pending,
    /// Not kept: the last attempt (or a verification) failed; the next backup tries again.
    Failed,
    /// Stored in the target, not read back since.
    Kept,
    /// Stored, and read back whole by `verify` since: only such records may be purged.
    Verified,
    /// Kept, and deleted from the PBX by `purge`: the archive is its only copy.
    OffPbx,
    /// Deleted from the PBX, and its object was found missing or altered since: lost unless a
    /// copy of the target exists.
    Lost,
}

impl Status {
    /// Every status, in the order a record goes through them.
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Failed,
        Status::Kept,
        Status::Verified,
        Status::OffPbx,
        Status::Lost,
    ];

    /// Its name on a command line: `pending`, `failed`, `kept`, `verified`, `off-pbx`, `lost`.
    pub fn name(self) -> &'static str {
        match self {
            Status::OffPbx => "off-pbx",
            other => other.as_str(),
        }
    }

    /// The word used in tables and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Failed => "failed",
            Status::Kept => "kept",
            Status::Verified => "verified",
            Status::OffPbx => "kept, off PBX",
            Status::Lost => "lost",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;

    /// Reads a [`Status::name`] (or the word of [`Status::as_str`]).
    fn from_str(text: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|status| status.name() == text || status.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
                format!("{text:?} is not a state; one of {}", names.join(", "))
            })
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SQL: the record's object is kept in the target ([`BackupState::is_kept`]).
pub(crate) const KEPT: &str = "stored_at IS NOT NULL";

/// The text of [`VERIFIED`], for the conditions built on it.
macro_rules! verified {
    () => {
        "(stored_at IS NOT NULL AND verified_at IS NOT NULL AND verified_at >= stored_at)"
    };
}

/// SQL: kept and read back since it was stored ([`BackupState::is_verified`]). The times are
/// RFC 3339 in UTC with a fixed number of digits, so text order is time order.
#[cfg_attr(not(test), allow(dead_code))] // Read through `verified!` by PURGEABLE.
pub(crate) const VERIFIED: &str = verified!();

/// SQL: still to be kept — not kept, and still on the PBX ([`BackupState::is_pending`]).
pub(crate) const PENDING: &str = "(stored_at IS NULL AND deleted_from_pbx_at IS NULL)";

/// SQL: may be deleted from the PBX — verified and still on it
/// ([`BackupState::is_purgeable`]); the age is the caller's condition.
pub(crate) const PURGEABLE: &str = concat!("(", verified!(), " AND deleted_from_pbx_at IS NULL)");

/// SQL: the [`Status`] word of a row ([`BackupState::status`]).
pub(crate) const STATUS: &str = "CASE \
     WHEN stored_at IS NULL AND deleted_from_pbx_at IS NOT NULL THEN 'lost' \
     WHEN stored_at IS NULL AND last_error IS NOT NULL THEN 'failed' \
     WHEN stored_at IS NULL THEN 'pending' \
     WHEN deleted_from_pbx_at IS NOT NULL THEN 'kept, off PBX' \
     WHEN verified_at IS NOT NULL AND verified_at >= stored_at THEN 'verified' \
     ELSE 'kept' END";

impl BackupState {
    /// Whether the record's file is kept in the target (stored, and not found missing since).
    pub fn is_kept(&self) -> bool {
        self.stored_at.is_some()
    }

    /// Whether it is kept and `verify` has read it back since it was stored: only such records
    /// may be purged.
    pub fn is_verified(&self) -> bool {
        matches!((self.stored_at, self.verified_at), (Some(stored), Some(verified)) if verified >= stored)
    }

    /// Whether a backup still has to keep it: not kept, and still on the PBX.
    pub fn is_pending(&self) -> bool {
        self.stored_at.is_none() && self.deleted_from_pbx_at.is_none()
    }

    /// Whether `purge` may delete it from the PBX (if old enough): verified, and still there.
    pub fn is_purgeable(&self) -> bool {
        self.is_verified() && self.deleted_from_pbx_at.is_none()
    }

    /// Where the record stands.
    pub fn status(&self) -> Status {
        match (self.is_kept(), self.deleted_from_pbx_at.is_some()) {
            (false, true) => Status::Lost,
            (false, false) if self.last_error.is_some() => Status::Failed,
            (false, false) => Status::Pending,
            (true, true) => Status::OffPbx,
            (true, false) if self.is_verified() => Status::Verified,
            (true, false) => Status::Kept,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::catalog::entry::time_text;
    use rusqlite::Connection;

    /// Every combination of the state columns that decide: stored, verified (before, at and
    /// after storing), deleted from the PBX, last error.
    fn combinations() -> Vec<BackupState> {
        let at = |s: i64| Some(DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap());
        let mut all = Vec::new();
        for stored_at in [None, at(10)] {
            for verified_at in [None, at(5), at(10), at(20)] {
                for deleted_from_pbx_at in [None, at(30)] {
                    for last_error in [None, Some("boom".to_owned())] {
                        all.push(BackupState {
                            object_key: stored_at.map(|_| "k".to_owned()),
                            stored_at,
                            verified_at,
                            deleted_from_pbx_at,
                            last_error,
                            ..BackupState::default()
                        });
                    }
                }
            }
        }
        all
    }

    #[test]
    fn sql_and_rust_agree_on_every_combination_of_the_state_columns() {
        let connection = Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE record (stored_at TEXT, verified_at TEXT, \
                 deleted_from_pbx_at TEXT, last_error TEXT)",
            )
            .unwrap();
        let text = |t: Option<DateTime<Utc>>| t.map(time_text);
        let combinations = combinations();
        assert_eq!(combinations.len(), 32);
        let mut statuses = std::collections::HashSet::new();
        for state in &combinations {
            connection.execute("DELETE FROM record", []).unwrap();
            connection
                .execute(
                    "INSERT INTO record VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![
                        text(state.stored_at),
                        text(state.verified_at),
                        text(state.deleted_from_pbx_at),
                        state.last_error
                    ],
                )
                .unwrap();
            let holds = |condition: &str| -> bool {
                connection
                    .query_row(&format!("SELECT {condition} FROM record"), [], |row| {
                        row.get::<_, bool>(0)
                    })
                    .unwrap()
            };
            assert_eq!(holds(KEPT), state.is_kept(), "kept: {state:?}");
            assert_eq!(holds(VERIFIED), state.is_verified(), "verified: {state:?}");
            assert_eq!(holds(PENDING), state.is_pending(), "pending: {state:?}");
            assert_eq!(
                holds(PURGEABLE),
                state.is_purgeable(),
                "purgeable: {state:?}"
            );
            let status: String = connection
                .query_row(&format!("SELECT {STATUS} FROM record"), [], |row| {
                    row.get(0)
                })
                .unwrap();
            assert_eq!(status, state.status().as_str(), "status: {state:?}");
            statuses.insert(state.status());
        }
        // Every status is reachable from the columns.
        assert_eq!(statuses.len(), 6);
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in Status::ALL {
            assert_eq!(status.name().parse::<Status>(), Ok(status));
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
        }
        let refused = "archived".parse::<Status>().unwrap_err();
        assert!(refused.contains("off-pbx"), "{refused}");
    }

    #[test]
    fn a_verification_older_than_the_storing_does_not_count() {
        let at = |s: i64| Some(DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap());
        let state = BackupState {
            stored_at: at(10),
            verified_at: at(5),
            ..BackupState::default()
        };
        assert!(state.is_kept() && !state.is_verified() && !state.is_purgeable());
        assert_eq!(state.status(), Status::Kept);
    }
}
