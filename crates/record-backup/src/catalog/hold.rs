//! Legal holds: while a hold is active (not released, its end not reached), no record it
//! covers is purged, expired or erased. The one home of "held", as SQL over a record's row.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension as _, params};

use super::Catalog;
use super::audit::{Draft, append};
use super::conditions::Conditions;
use super::entry::{parse_time, time_text};
use super::numbers::PersonNumber;
use crate::chain::AuditAction;
use crate::error::BackupError;

/// What a hold covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HoldOn {
    /// Every call with this number in a number field, matched as erasure matches it (the
    /// same digits, or the same last 10 digits).
    Number(String),
    /// Every call of this extension.
    Extension(u64),
    /// One recording.
    Recording(String),
    /// Every call that started in `[from, until)`.
    Period {
        /// The first instant covered.
        from: DateTime<Utc>,
        /// The first instant no longer covered.
        until: DateTime<Utc>,
    },
}

/// A legal hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hold {
    /// Its number, for `hold release`.
    pub id: i64,
    /// `number`, `extension`, `recording` or `period`.
    pub kind: String,
    /// What it is on, as given.
    pub subject: String,
    /// Why (a case, a dispute).
    pub reason: String,
    /// When it ends by itself, if it does.
    pub ends_at: Option<DateTime<Utc>>,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// Who placed it.
    pub created_by: String,
    /// When it was released.
    pub released_at: Option<DateTime<Utc>>,
    /// Who released it.
    pub released_by: Option<String>,
}

impl Hold {
    /// Whether it holds at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.released_at.is_none() && self.ends_at.is_none_or(|end| end > now)
    }
}

/// SQL over `hold h` and a `record` row: whether the hold covers the record.
const COVERS: &str = "((h.kind = 'recording' AND h.record_uuid = record.record_uuid) \
     OR (h.kind = 'extension' AND h.extension_id = record.extension_id) \
     OR (h.kind = 'period' AND record.init_time_us >= h.from_us AND record.init_time_us < h.until_us) \
     OR (h.kind = 'number' AND EXISTS (SELECT 1 FROM record_number n \
         WHERE n.digits_reversed >= h.number_from AND n.digits_reversed < h.number_until \
         AND n.init_time_us = record.init_time_us AND n.record_uuid = record.record_uuid)))";

/// SQL over `hold h`: active at the instant of the one parameter (microseconds).
const ACTIVE: &str = "h.released_at IS NULL AND (h.ends_us IS NULL OR h.ends_us > ?)";

/// The columns [`hold_of`] reads.
const HOLD_COLUMNS: &str = "h.hold_id, h.kind, h.subject, h.reason, h.ends_us, h.created_at, \
     h.created_by, h.released_at, h.released_by";

/// Adds "no active hold covers the record" at `now`.
pub(crate) fn not_held(conditions: &mut Conditions, now: DateTime<Utc>) {
    conditions.push(
        &format!("NOT EXISTS (SELECT 1 FROM hold h WHERE {ACTIVE} AND {COVERS})"),
        [Sql::Integer(now.timestamp_micros())],
    );
}

/// Adds "an active hold covers the record" at `now`.
pub(crate) fn held(conditions: &mut Conditions, now: DateTime<Utc>) {
    conditions.push(
        &format!("EXISTS (SELECT 1 FROM hold h WHERE {ACTIVE} AND {COVERS})"),
        [Sql::Integer(now.timestamp_micros())],
    );
}

fn hold_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Hold> {
    let time = |index: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(row
            .get::<_, Option<String>>(index)?
            .as_deref()
            .and_then(parse_time))
    };
    Ok(Hold {
        id: row.get(0)?,
        kind: row.get(1)?,
        subject: row.get(2)?,
        reason: row.get(3)?,
        ends_at: row
            .get::<_, Option<i64>>(4)?
            .and_then(DateTime::from_timestamp_micros),
        created_at: time(5)?.unwrap_or_default(),
        created_by: row.get(6)?,
        released_at: time(7)?,
        released_by: row.get(8)?,
    })
}

impl Catalog {
    /// Places a legal hold, written to the audit log in the same transaction. A number must
    /// name a person (7 digits or more); a period must not be empty; the reason must be
    /// given.
    pub fn add_hold(
        &self,
        on: &HoldOn,
        reason: &str,
        ends_at: Option<DateTime<Utc>>,
        operator: &str,
    ) -> Result<Hold, BackupError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(BackupError::InvalidOption(
                "a hold needs a reason (the case or dispute it is for)".to_owned(),
            ));
        }
        let mut number = (None, None);
        let (kind, subject, extension, recording, from, until) = match on {
            HoldOn::Number(text) => {
                let person = PersonNumber::parse(text).map_err(BackupError::InvalidOption)?;
                number = (Some(person.from), Some(person.until));
                ("number", text.clone(), None, None, None, None)
            }
            HoldOn::Extension(id) => (
                "extension",
                id.to_string(),
                Some(i64::try_from(*id).unwrap_or(i64::MAX)),
                None,
                None,
                None,
            ),
            HoldOn::Recording(uuid) => ("recording", uuid.clone(), None, Some(uuid), None, None),
            HoldOn::Period { from, until } => {
                if until <= from {
                    return Err(BackupError::InvalidOption(format!(
                        "a held period must end after it starts ({from} .. {until})"
                    )));
                }
                (
                    "period",
                    format!("{} .. {}", time_text(*from), time_text(*until)),
                    None,
                    None,
                    Some(from.timestamp_micros()),
                    Some(until.timestamp_micros()),
                )
            }
        };
        let now = Utc::now();
        self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            transaction
                .prepare_cached(
                    "INSERT INTO hold (kind, number_from, number_until, extension_id, \
                     record_uuid, from_us, until_us, subject, reason, ends_us, created_at, \
                     created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?
                .execute(params![
                    kind,
                    number.0,
                    number.1,
                    extension,
                    recording,
                    from,
                    until,
                    subject,
                    reason,
                    ends_at.map(|end| end.timestamp_micros()),
                    time_text(now),
                    operator
                ])?;
            let id = transaction.last_insert_rowid();
            let mut draft = Draft::new(operator, AuditAction::HoldAdd);
            draft.hold_id = Some(id);
            // The subject of a number hold is personal data: the log names the hold only.
            draft.reason = Some(match on {
                HoldOn::Number(_) => format!("{reason} (on a number)"),
                _ => format!("{reason} (on {kind} {subject})"),
            });
            append(&transaction, draft, self.signer.as_ref())?;
            let hold = select(&transaction, id)?;
            transaction.commit()?;
            hold.ok_or(rusqlite::Error::QueryReturnedNoRows)
        })
    }

    /// Releases hold `id`, written to the audit log in the same transaction.
    pub fn release_hold(&self, id: i64, operator: &str) -> Result<Hold, BackupError> {
        let now = time_text(Utc::now());
        let hold = self.with(|connection| {
            let transaction =
                connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let Some(hold) = select(&transaction, id)? else {
                return Ok(None);
            };
            if hold.released_at.is_some() {
                return Ok(Some(hold));
            }
            transaction
                .prepare_cached(
                    "UPDATE hold SET released_at = ?2, released_by = ?3 WHERE hold_id = ?1",
                )?
                .execute(params![id, now, operator])?;
            let mut draft = Draft::new(operator, AuditAction::HoldRelease);
            draft.hold_id = Some(id);
            append(&transaction, draft, self.signer.as_ref())?;
            let hold = select(&transaction, id)?;
            transaction.commit()?;
            Ok(hold)
        })?;
        hold.ok_or_else(|| BackupError::InvalidOption(format!("there is no hold {id}")))
    }

    /// Scrubs the number from the released holds placed on `person`: once their calls are
    /// erased, a released hold keeps its reason and dates, not the number.
    pub(crate) fn scrub_number_holds(&self, person: &PersonNumber) -> Result<u64, BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(
                    "UPDATE hold SET subject = 'a number (erased)', number_from = NULL, \
                     number_until = NULL WHERE kind = 'number' AND released_at IS NOT NULL \
                     AND number_from = ?1 AND number_until = ?2",
                )?
                .execute(params![person.from, person.until])
                .map(|n| n as u64)
        })
    }

    /// Writes the log's pages into the catalog file and empties the log (`-wal`), so that
    /// the old pages of what was just deleted are not left in it.
    pub(crate) fn checkpoint(&self) -> Result<(), BackupError> {
        self.with(|connection| {
            connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        })
    }

    /// The holds, oldest first: the active ones, or all of them.
    pub fn holds(&self, with_released: bool) -> Result<Vec<Hold>, BackupError> {
        let now = Utc::now();
        let holds = self.with(|connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {HOLD_COLUMNS} FROM hold h ORDER BY hold_id"
            ))?;
            let rows = statement.query_map([], hold_of)?;
            rows.collect::<rusqlite::Result<Vec<Hold>>>()
        })?;
        Ok(holds
            .into_iter()
            .filter(|hold| with_released || hold.is_active(now))
            .collect())
    }

    /// The active holds that cover `record_uuid` at `now`.
    pub fn holds_on(
        &self,
        record_uuid: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Hold>, BackupError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT {HOLD_COLUMNS} FROM record, hold h WHERE record.record_uuid = ?1 \
                 AND {ACTIVE} AND {COVERS} ORDER BY h.hold_id"
            ))?;
            let rows =
                statement.query_map(params![record_uuid, now.timestamp_micros()], hold_of)?;
            rows.collect()
        })
    }
}

fn select(transaction: &rusqlite::Transaction<'_>, id: i64) -> rusqlite::Result<Option<Hold>> {
    transaction
        .prepare_cached(&format!(
            "SELECT {HOLD_COLUMNS} FROM hold h WHERE hold_id = ?1"
        ))?
        .query_row([id], hold_of)
        .optional()
}
