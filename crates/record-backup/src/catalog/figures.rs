//! The catalog's figures for pages: calls per hour and storage per month (tables kept by
//! triggers, schema 6), and the access log of the recordings listened to and downloaded.

use chrono::{DateTime, TimeZone as _, Utc};
use rusqlite::Transaction;

use super::Catalog;
use super::conditions::Conditions;
use crate::error::BackupError;

const HOUR_US: i64 = 3_600_000_000;

/// The calls of one UTC hour with one direction and one result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallHour {
    /// The hour's start.
    pub hour: DateTime<Utc>,
    /// The calls' direction (`in`, `out`, …; empty when the PBX gave none).
    pub flow: String,
    /// The calls' result (`answered`, `busy`, …; empty when the PBX gave none).
    pub result: String,
    /// How many calls.
    pub calls: u64,
    /// Their total duration in seconds.
    pub seconds: u64,
}

/// One UTC month of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonthStorage {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Records listed.
    pub records: u64,
    /// Of those, the records still on the PBX.
    pub on_pbx: u64,
    /// Their size on the PBX, in bytes (as listed).
    pub on_pbx_bytes: u64,
    /// Records kept in the archive.
    pub kept: u64,
    /// Their size in the archive, in bytes.
    pub kept_bytes: u64,
}

/// What was done with a recording through the web page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessAction {
    /// Listened to in the page's player.
    Play,
    /// Downloaded.
    Download,
}

impl AccessAction {
    /// Its word in the log: `play` or `download`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessAction::Play => "play",
            AccessAction::Download => "download",
        }
    }

    fn parse(text: &str) -> rusqlite::Result<AccessAction> {
        match text {
            "play" => Ok(AccessAction::Play),
            "download" => Ok(AccessAction::Download),
            other => Err(super::corrupt(
                "an access log row",
                format!("action {other:?}"),
            )),
        }
    }
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Access {
    /// The recording.
    pub record_uuid: String,
    /// When (the first request of a playback or download; see [`Catalog::log_access`]).
    pub at: DateTime<Utc>,
    /// Who (the web account's name).
    pub user: String,
    /// From which address.
    pub address: String,
    /// Played or downloaded.
    pub action: AccessAction,
}

impl Access {
    /// A line of `action` on `record_uuid` by `user` from `address`, now.
    pub fn now(
        record_uuid: impl Into<String>,
        user: impl Into<String>,
        address: impl Into<String>,
        action: AccessAction,
    ) -> Access {
        Access {
            record_uuid: record_uuid.into(),
            at: Utc::now(),
            user: user.into(),
            address: address.into(),
            action,
        }
    }
}

/// Requests of the same user, address, recording and action within this many microseconds
/// of a logged one are that one's playback (the player's ranged requests, a seek).
const SAME_ACCESS_US: i64 = 30 * 60 * 1_000_000;

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn at_of(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

impl Catalog {
    /// The calls that started in `[from, until)`, per UTC hour, direction and result (hours
    /// without calls left out), oldest first. Read from a table kept as records are
    /// catalogued: a period of 90 days reads at most 2,160 hours' rows, whatever the number of
    /// calls.
    pub fn calls_by_hour(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<CallHour>, BackupError> {
        let first = from.timestamp_micros().div_euclid(HOUR_US);
        // The hour holding `until` counts only if `until` is past its start.
        let end = until.timestamp_micros().div_euclid(HOUR_US)
            + i64::from(until.timestamp_micros().rem_euclid(HOUR_US) != 0);
        let mut conditions = Conditions::default();
        conditions.push("hour >= ? AND hour < ?", [first.into(), end.into()]);
        self.rows(
            &format!(
                "SELECT hour, flow, result, calls, seconds FROM call_hour \
                 WHERE {} AND calls > 0 ORDER BY hour, flow, result",
                conditions.clause()
            ),
            &conditions,
            |row| {
                Ok(CallHour {
                    hour: at_of(row.get::<_, i64>(0)?.saturating_mul(HOUR_US)),
                    flow: row.get(1)?,
                    result: row.get(2)?,
                    calls: count(row.get(3)?),
                    seconds: count(row.get(4)?),
                })
            },
        )
    }

    /// The last `months` months that hold records, newest first.
    pub fn storage_by_month(&self, months: usize) -> Result<Vec<MonthStorage>, BackupError> {
        let limit = i64::try_from(months).unwrap_or(i64::MAX);
        let mut conditions = Conditions::default();
        conditions.push("records > 0", []);
        self.rows(
            &format!(
                "SELECT month, records, on_pbx, on_pbx_bytes, kept, kept_bytes FROM storage_month \
                 WHERE {} ORDER BY month DESC LIMIT {limit}",
                conditions.clause()
            ),
            &conditions,
            |row| {
                Ok(MonthStorage {
                    month: row.get(0)?,
                    records: count(row.get(1)?),
                    on_pbx: count(row.get(2)?),
                    on_pbx_bytes: count(row.get(3)?),
                    kept: count(row.get(4)?),
                    kept_bytes: count(row.get(5)?),
                })
            },
        )
    }

    /// Writes `access` to the access log, unless the same user, from the same address, did
    /// the same to the same recording within the 30 minutes before (a player's ranged
    /// requests and seeks are one playback). Whether a line was written.
    pub fn log_access(&self, access: &Access) -> Result<bool, BackupError> {
        let at = access.at.timestamp_micros();
        self.with(|connection| {
            let written = connection
                .prepare_cached(
                    "INSERT INTO access (record_uuid, at_us, user, address, action) \
                     SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM access \
                     WHERE record_uuid = ?1 AND at_us > ?6 AND user = ?3 AND address = ?4 \
                     AND action = ?5)",
                )?
                .execute(rusqlite::params![
                    access.record_uuid,
                    at,
                    access.user,
                    access.address,
                    access.action.as_str(),
                    at - SAME_ACCESS_US,
                ])?;
            Ok(written > 0)
        })
    }

    /// The access log of one recording, newest first, at most `limit` lines.
    pub fn accesses_of(&self, record_uuid: &str, limit: usize) -> Result<Vec<Access>, BackupError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut conditions = Conditions::default();
        conditions.push("record_uuid = ?", [record_uuid.to_owned().into()]);
        self.rows(
            &format!(
                "SELECT record_uuid, at_us, user, address, action FROM access WHERE {} \
                 ORDER BY at_us DESC, access_id DESC LIMIT {limit}",
                conditions.clause()
            ),
            &conditions,
            access_of,
        )
    }

    /// The access log of `[from, until)`, oldest first, given to `line` page by page (memory
    /// holds one page, whatever the period).
    pub fn export_access(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        mut line: impl FnMut(Access) -> Result<(), BackupError>,
    ) -> Result<u64, BackupError> {
        const PAGE: i64 = 1_000;
        let mut after = (from.timestamp_micros() - 1, i64::MAX);
        let until = until.timestamp_micros();
        let mut written = 0;
        loop {
            let mut conditions = Conditions::default();
            conditions.push(
                "(at_us, access_id) > (?, ?) AND at_us < ?",
                [after.0.into(), after.1.into(), until.into()],
            );
            let page: Vec<(i64, Access)> = self.rows(
                &format!(
                    "SELECT record_uuid, at_us, user, address, action, access_id FROM access \
                     WHERE {} ORDER BY at_us, access_id LIMIT {PAGE}",
                    conditions.clause()
                ),
                &conditions,
                |row| Ok((row.get(5)?, access_of(row)?)),
            )?;
            let full = page.len() as i64 == PAGE;
            for (id, access) in page {
                after = (access.at.timestamp_micros(), id);
                line(access)?;
                written += 1;
            }
            if !full {
                return Ok(written);
            }
        }
    }
}

fn access_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Access> {
    Ok(Access {
        record_uuid: row.get(0)?,
        at: at_of(row.get(1)?),
        user: row.get(2)?,
        address: row.get(3)?,
        action: AccessAction::parse(&row.get::<_, String>(4)?)?,
    })
}

/// Fills the figures of schema 6 from the records already catalogued (once, at the
/// migration: one pass over the catalog).
pub(super) fn fill(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    transaction.execute_batch(
        "INSERT INTO call_hour (hour, flow, result, calls, seconds) \
         SELECT init_time_us / 3600000000, coalesce(flow, ''), coalesce(result, ''), count(*), \
                coalesce(sum(duration), 0) \
         FROM record GROUP BY 1, 2, 3; \
         INSERT INTO storage_month (month, records, on_pbx, on_pbx_bytes, kept, kept_bytes) \
         SELECT strftime('%Y-%m', init_time_us / 1000000, 'unixepoch'), count(*), \
                coalesce(sum(deleted_from_pbx_at IS NULL), 0), \
                coalesce(sum(CASE WHEN deleted_from_pbx_at IS NULL \
                    THEN coalesce(record_file_size, 0) ELSE 0 END), 0), \
                coalesce(sum(stored_at IS NOT NULL), 0), \
                coalesce(sum(CASE WHEN stored_at IS NOT NULL \
                    THEN coalesce(stored_size, 0) ELSE 0 END), 0) \
         FROM record GROUP BY 1;",
    )
}
