//! Reads and writes of the catalog: listed records, backup states, pages of work, manifests
//! and search.

use chrono::{DateTime, Utc};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use telphin_records::{ClientId, Period, PeriodEnd, Record, Scope};

use super::entry::{parse_time, time_text};
use super::{BackupState, Catalog, CatalogEntry};
use crate::error::BackupError;
use crate::manifest::ManifestLine;

/// Which records of the catalog a scope covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeFilter {
    /// Every record (`client/@me`: the catalog holds one PBX).
    All,
    Client(u64),
    Group(u64),
    Extension(u64),
    /// A kind of scope this version does not know: no record.
    Unknown,
}

impl ScopeFilter {
    pub(crate) fn of(scope: Scope) -> ScopeFilter {
        match scope {
            Scope::Client(ClientId::Me) => ScopeFilter::All,
            Scope::Client(ClientId::Id(id)) => ScopeFilter::Client(id),
            Scope::ExtensionGroup(group) => ScopeFilter::Group(group.get()),
            Scope::Extension(extension) => ScopeFilter::Extension(extension.get()),
            _ => ScopeFilter::Unknown,
        }
    }
}

/// A `WHERE` clause and its parameters, built condition by condition.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    params: Vec<Sql>,
}

impl Conditions {
    fn push(&mut self, sql: &str, values: impl IntoIterator<Item = Sql>) {
        self.sql.push(sql.to_owned());
        self.params.extend(values);
    }

    fn scope(&mut self, filter: ScopeFilter) {
        let id = |id: u64| Sql::Integer(i64::try_from(id).unwrap_or(i64::MAX));
        match filter {
            ScopeFilter::All => {}
            ScopeFilter::Client(c) => self.push("client_owner_id = ?", [id(c)]),
            ScopeFilter::Group(g) => self.push("extension_group_owner_id = ?", [id(g)]),
            ScopeFilter::Extension(e) => self.push("extension_id = ?", [id(e)]),
            ScopeFilter::Unknown => self.push("0", []),
        }
    }

    fn period(&mut self, period: &Period) {
        let start = Sql::Integer(period.start().timestamp_micros());
        let end = Sql::Integer(period.end().timestamp_micros());
        match period.end_kind() {
            PeriodEnd::Included => self.push("init_time_us BETWEEN ? AND ?", [start, end]),
            // Excluded, or a kind this version does not know: the narrower reading.
            _ => self.push("init_time_us >= ? AND init_time_us < ?", [start, end]),
        }
    }

    /// Rows after `(init_time_us, record_uuid)`, for keyset pages.
    fn after(&mut self, after: &Option<(i64, String)>) {
        if let Some((time, uuid)) = after {
            self.push(
                "(init_time_us, record_uuid) > (?, ?)",
                [Sql::Integer(*time), Sql::Text(uuid.clone())],
            );
        }
    }

    fn clause(&self) -> String {
        if self.sql.is_empty() {
            "1".to_owned()
        } else {
            self.sql.join(" AND ")
        }
    }
}

/// A record still to be kept. No `Debug`: it holds a storage link, a bearer secret.
pub(crate) struct Pending {
    pub(crate) record: Record,
    pub(crate) storage_link: Option<String>,
    pub(crate) init_time_us: i64,
}

/// A kept record, for verify and purge.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub(crate) record_uuid: String,
    pub(crate) init_time_us: i64,
    pub(crate) object_key: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

/// A search of the catalog; every criterion is optional, and all given ones must hold.
///
/// ```
/// use record_backup::SearchQuery;
/// use telphin_records::{Flow, Period};
///
/// let query = SearchQuery::default()
///     .period(Period::month(2024, 3)?)
///     .number("+7 (495) 123-45-67")
///     .flow(Flow::In)
///     .min_duration(60);
/// # Ok::<(), telphin_records::ValidationError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SearchQuery {
    /// Calls that started in this period.
    pub period: Option<Period>,
    /// Calls with this number in any number field (caller, callee, source, destination, DID,
    /// ANI, registered extension number), compared by digits: `+7 (495) 123-45-67` finds
    /// `74951234567`; a number of 4 digits or more also finds numbers ending with it.
    pub number: Option<String>,
    /// Calls of this scope (client, group, extension).
    pub scope: Option<Scope>,
    /// Calls of this direction.
    pub flow: Option<String>,
    /// Calls with this result.
    pub result: Option<String>,
    /// Calls at least this long, in seconds.
    pub min_duration: Option<u64>,
    /// At most this many entries (default: all), oldest first.
    pub limit: Option<usize>,
}

impl SearchQuery {
    /// Calls that started in `period`.
    pub fn period(mut self, period: impl Into<Period>) -> Self {
        self.period = Some(period.into());
        self
    }

    /// Calls with `number` in any number field.
    pub fn number(mut self, number: impl Into<String>) -> Self {
        self.number = Some(number.into());
        self
    }

    /// Calls of `scope` (e.g. one extension).
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Calls of this direction.
    pub fn flow(mut self, flow: impl std::fmt::Display) -> Self {
        self.flow = Some(flow.to_string());
        self
    }

    /// Calls with this result.
    pub fn result(mut self, result: impl std::fmt::Display) -> Self {
        self.result = Some(result.to_string());
        self
    }

    /// Calls of at least `seconds`.
    pub fn min_duration(mut self, seconds: u64) -> Self {
        self.min_duration = Some(seconds);
        self
    }

    /// At most `limit` entries.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// `[start, end)` of a `YYYY-MM` month, in microseconds since 1970 (UTC).
fn month_range(month: &str) -> Option<(i64, i64)> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let micros = |day: chrono::NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_micros())
    };
    Some((micros(first)?, micros(next)?))
}

/// The digits of a phone number.
fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// `number_matches(field, wanted_digits)`: whether the field's digits equal the wanted ones or,
/// with 4 wanted digits or more, end with them.
pub(super) fn register_functions(connection: &mut Connection) -> rusqlite::Result<()> {
    connection.create_scalar_function(
        "number_matches",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            let field: Option<String> = context.get(0)?;
            let wanted: String = context.get(1)?;
            let Some(field) = field else {
                return Ok(false);
            };
            let field = digits(&field);
            Ok(!wanted.is_empty()
                && (field == wanted || (wanted.len() >= 4 && field.ends_with(&wanted))))
        },
    )
}

const NUMBER_FIELDS: [&str; 7] = [
    "from_username",
    "to_username",
    "source_number",
    "dest_number",
    "did_number",
    "ani_number",
    "ext_number_reg",
];

const STATE_COLUMNS: &str = "record_json, object_key, stored_size, sha256, stored_at, verified_at, \
     deleted_from_pbx_at, last_error, failed_attempts";

fn corrupt(what: &str, reason: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(format!(
        "{what}: {reason}"
    ))))
}

fn record_of(json: &str) -> rusqlite::Result<Record> {
    serde_json::from_str(json).map_err(|error| corrupt("a catalog row's record_json", error))
}

fn time_of(row: &Row<'_>, column: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text: Option<String> = row.get(column)?;
    Ok(text.as_deref().and_then(parse_time))
}

fn size_of(value: Option<i64>) -> Option<u64> {
    value.and_then(|v| u64::try_from(v).ok())
}

fn entry_of(row: &Row<'_>) -> rusqlite::Result<CatalogEntry> {
    let json: String = row.get("record_json")?;
    Ok(CatalogEntry {
        record: record_of(&json)?,
        state: BackupState {
            object_key: row.get("object_key")?,
            size: size_of(row.get("stored_size")?),
            sha256: row.get("sha256")?,
            stored_at: time_of(row, "stored_at")?,
            verified_at: time_of(row, "verified_at")?,
            deleted_from_pbx_at: time_of(row, "deleted_from_pbx_at")?,
            last_error: row.get("last_error")?,
            failed_attempts: row.get("failed_attempts")?,
        },
    })
}

fn kept_of(row: &Row<'_>) -> rusqlite::Result<Kept> {
    Ok(Kept {
        record_uuid: row.get(0)?,
        init_time_us: row.get(1)?,
        object_key: row.get(2)?,
        size: size_of(row.get(3)?).unwrap_or(0),
        sha256: row.get(4)?,
    })
}

/// Marks the month of `record_uuid` as needing a new manifest.
const DIRTY: &str = "INSERT OR IGNORE INTO manifest_dirty (month) \
     SELECT strftime('%Y-%m', init_time_us / 1000000, 'unixepoch') FROM record WHERE record_uuid = ?1";

impl Catalog {
    /// Adds or refreshes listed records, in one transaction.
    pub(crate) fn upsert_listed(&self, records: &[Record]) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.with(|connection| {
            let transaction = connection.transaction()?;
            {
                let mut upsert = transaction.prepare_cached(
                    "INSERT INTO record (record_uuid, init_time_us, record_json, first_listed_at, \
                     last_listed_at) VALUES (?1, ?2, ?3, ?4, ?4) \
                     ON CONFLICT (record_uuid) DO UPDATE SET init_time_us = excluded.init_time_us, \
                     record_json = excluded.record_json, last_listed_at = excluded.last_listed_at",
                )?;
                for record in records {
                    let json = serde_json::to_string(record)
                        .map_err(|error| corrupt("a listed record", error))?;
                    upsert.execute(params![
                        record.record_uuid.to_string(),
                        record.init_time_gmt.instant().timestamp_micros(),
                        json,
                        now,
                    ])?;
                }
            }
            transaction.commit()
        })
    }

    /// Up to `limit` records of `scope` in `period` not kept and not deleted from the PBX,
    /// after `after` (and before `before`, microseconds), oldest first.
    pub(crate) fn pending_page(
        &self,
        scope: ScopeFilter,
        period: &Period,
        after: &Option<(i64, String)>,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Pending>, BackupError> {
        let mut conditions = Conditions::default();
        conditions.push("stored_at IS NULL AND deleted_from_pbx_at IS NULL", []);
        conditions.scope(scope);
        conditions.period(period);
        conditions.after(after);
        if let Some(before) = before {
            conditions.push("init_time_us < ?", [Sql::Integer(before)]);
        }
        let sql = format!(
            "SELECT record_json, storage_link, init_time_us FROM record WHERE {} \
             ORDER BY init_time_us, record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows =
                statement.query_map(rusqlite::params_from_iter(&conditions.params), |row| {
                    let json: String = row.get(0)?;
                    Ok(Pending {
                        record: record_of(&json)?,
                        storage_link: row.get(1)?,
                        init_time_us: row.get(2)?,
                    })
                })?;
            rows.collect()
        })
    }

    /// How many records of `scope` in `period` are kept, and their total size.
    pub(crate) fn kept_count(
        &self,
        scope: ScopeFilter,
        period: &Period,
    ) -> Result<(u64, u64), BackupError> {
        self.count(scope, period, "stored_at IS NOT NULL", "stored_size")
    }

    /// How many records of `scope` in `period` are still to be kept, and their size.
    pub(crate) fn pending_count(
        &self,
        scope: ScopeFilter,
        period: &Period,
    ) -> Result<(u64, u64), BackupError> {
        let pending = "stored_at IS NULL AND deleted_from_pbx_at IS NULL";
        self.count(scope, period, pending, "record_file_size")
    }

    /// The count of the records of `scope` in `period` where `which` holds, and the sum of
    /// their `size` column.
    fn count(
        &self,
        scope: ScopeFilter,
        period: &Period,
        which: &str,
        size: &str,
    ) -> Result<(u64, u64), BackupError> {
        let mut conditions = Conditions::default();
        conditions.push(which, []);
        conditions.scope(scope);
        conditions.period(period);
        let sql = format!(
            "SELECT count(*), coalesce(sum({size}), 0) FROM record WHERE {}",
            conditions.clause()
        );
        self.with(|connection| {
            connection.query_row(
                &sql,
                rusqlite::params_from_iter(&conditions.params),
                |row| {
                    let count: i64 = row.get(0)?;
                    let bytes: i64 = row.get(1)?;
                    Ok((
                        u64::try_from(count).unwrap_or(0),
                        u64::try_from(bytes).unwrap_or(0),
                    ))
                },
            )
        })
    }

    /// Up to `limit` kept records of `scope` (in `period`, if given) after `after`; with
    /// `purgeable`, only verified ones older than the cutoff (microseconds) and still on the
    /// PBX.
    pub(crate) fn kept_page(
        &self,
        scope: ScopeFilter,
        period: Option<&Period>,
        purgeable_before: Option<i64>,
        after: &Option<(i64, String)>,
        limit: usize,
    ) -> Result<Vec<Kept>, BackupError> {
        let mut conditions = Conditions::default();
        conditions.push("stored_at IS NOT NULL", []);
        conditions.scope(scope);
        if let Some(period) = period {
            conditions.period(period);
        }
        if let Some(cutoff) = purgeable_before {
            conditions.push(
                "verified_at IS NOT NULL AND verified_at >= stored_at \
                 AND deleted_from_pbx_at IS NULL AND init_time_us < ?",
                [Sql::Integer(cutoff)],
            );
        }
        conditions.after(after);
        let sql = format!(
            "SELECT record_uuid, init_time_us, object_key, stored_size, sha256 FROM record \
             WHERE {} ORDER BY init_time_us, record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows =
                statement.query_map(rusqlite::params_from_iter(&conditions.params), kept_of)?;
            rows.collect()
        })
    }

    /// Changes what the manifests say of `uuid` (`sql` with `params`), and marks its month's
    /// manifest out of date in the same transaction.
    fn change_kept(
        &self,
        uuid: &str,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(), BackupError> {
        self.with(|connection| {
            let transaction = connection.transaction()?;
            transaction.prepare_cached(sql)?.execute(params)?;
            transaction.prepare_cached(DIRTY)?.execute([uuid])?;
            transaction.commit()
        })
    }

    /// Keeps a record's storage link (a bearer secret) for later downloads.
    pub(crate) fn set_storage_link(&self, uuid: &str, link: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("UPDATE record SET storage_link = ?2 WHERE record_uuid = ?1")?
                .execute(params![uuid, link])
                .map(drop)
        })
    }

    /// Records that `uuid` is kept as `key`.
    pub(crate) fn mark_stored(
        &self,
        uuid: &str,
        key: &str,
        size: u64,
        sha256: &str,
    ) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        self.change_kept(
            uuid,
            "UPDATE record SET object_key = ?2, stored_size = ?3, sha256 = ?4, stored_at = ?5, \
             verified_at = NULL, last_error = NULL, failed_attempts = 0 WHERE record_uuid = ?1",
            params![uuid, key, size, sha256, now],
        )
    }

    /// Records a failure to keep `uuid`.
    pub(crate) fn mark_failed(&self, uuid: &str, error: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(
                    "UPDATE record SET last_error = ?2, failed_attempts = failed_attempts + 1 \
                     WHERE record_uuid = ?1",
                )?
                .execute(params![uuid, error])
                .map(drop)
        })
    }

    /// Records that `verify` read `uuid`'s object back whole.
    pub(crate) fn mark_verified(&self, uuid: &str) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.change_kept(
            uuid,
            "UPDATE record SET verified_at = ?2, last_error = NULL WHERE record_uuid = ?1",
            params![uuid, now],
        )
    }

    /// Records that `uuid`'s object is missing or altered: the record is not kept any more, so
    /// it is downloaded again (while still on the PBX) and never purged.
    pub(crate) fn mark_not_kept(&self, uuid: &str, reason: &str) -> Result<(), BackupError> {
        self.change_kept(
            uuid,
            "UPDATE record SET stored_at = NULL, verified_at = NULL, last_error = ?2 \
             WHERE record_uuid = ?1",
            params![uuid, reason],
        )
    }

    /// Records that `uuid` is deleted from the PBX (written before the next deletion starts).
    pub(crate) fn mark_deleted(&self, uuid: &str) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.change_kept(
            uuid,
            "UPDATE record SET deleted_from_pbx_at = ?2, last_error = NULL WHERE record_uuid = ?1",
            params![uuid, now],
        )
    }

    /// The months whose manifest is out of date.
    pub(crate) fn dirty_months(&self) -> Result<Vec<String>, BackupError> {
        self.with(|connection| {
            let mut statement =
                connection.prepare_cached("SELECT month FROM manifest_dirty ORDER BY month")?;
            let months = statement.query_map([], |row| row.get(0))?;
            months.collect()
        })
    }

    /// Up to `limit` manifest lines of `month` (`YYYY-MM`, UTC) after `after`: its kept
    /// records, oldest first.
    pub(crate) fn manifest_page(
        &self,
        month: &str,
        after: &Option<(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, ManifestLine)>, BackupError> {
        let (start, end) = month_range(month).ok_or_else(|| BackupError::Corrupt {
            what: "the catalog's list of manifests to write".to_owned(),
            reason: format!("{month:?} is not a month"),
        })?;
        let mut conditions = Conditions::default();
        conditions.push(
            "stored_at IS NOT NULL AND init_time_us >= ? AND init_time_us < ?",
            [Sql::Integer(start), Sql::Integer(end)],
        );
        conditions.after(after);
        let sql = format!(
            "SELECT init_time_us, {STATE_COLUMNS} FROM record WHERE {} \
             ORDER BY init_time_us, record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.with(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let lines =
                statement.query_map(rusqlite::params_from_iter(&conditions.params), |row| {
                    let entry = entry_of(row)?;
                    let line = ManifestLine::of(&entry)
                        .ok_or_else(|| corrupt("a kept row", "no object key"))?;
                    Ok((row.get(0)?, line))
                })?;
            lines.collect()
        })
    }

    /// Forgets that `month`'s manifest was out of date (called once it is written).
    pub(crate) fn manifest_written(&self, month: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("DELETE FROM manifest_dirty WHERE month = ?1")?
                .execute([month])
                .map(drop)
        })
    }

    /// Restores records and their states from manifest lines, in one transaction.
    pub(crate) fn restore(&self, lines: &[ManifestLine]) -> Result<(), BackupError> {
        let now = time_text(Utc::now());
        self.with(|connection| {
            let transaction = connection.transaction()?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO record (record_uuid, init_time_us, record_json, first_listed_at, \
                     last_listed_at, object_key, stored_size, sha256, stored_at, verified_at, \
                     deleted_from_pbx_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT (record_uuid) DO UPDATE SET init_time_us = excluded.init_time_us, \
                     record_json = excluded.record_json, object_key = excluded.object_key, \
                     stored_size = excluded.stored_size, sha256 = excluded.sha256, \
                     stored_at = excluded.stored_at, verified_at = excluded.verified_at, \
                     deleted_from_pbx_at = excluded.deleted_from_pbx_at",
                )?;
                for line in lines {
                    let json = serde_json::to_string(&line.record)
                        .map_err(|error| corrupt("a manifest's record", error))?;
                    insert.execute(params![
                        line.record_uuid,
                        line.record.init_time_gmt.instant().timestamp_micros(),
                        json,
                        now,
                        line.object_key,
                        i64::try_from(line.size).unwrap_or(i64::MAX),
                        line.sha256,
                        time_text(line.stored_at),
                        line.verified_at.map(time_text),
                        line.deleted_from_pbx_at.map(time_text),
                    ])?;
                }
            }
            transaction.commit()
        })
    }

    /// The entry of one record, if the catalog has it.
    pub fn entry(&self, record_uuid: &str) -> Result<Option<CatalogEntry>, BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {STATE_COLUMNS} FROM record WHERE record_uuid = ?1"
                ))?
                .query_row([record_uuid], entry_of)
                .optional()
        })
    }

    /// The entries matching `query`, oldest first: an index of the recordings that the PBX
    /// itself cannot search (by number, extension, flow, result, duration).
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<CatalogEntry>, BackupError> {
        let mut conditions = Conditions::default();
        if let Some(period) = &query.period {
            conditions.period(period);
        }
        if let Some(scope) = query.scope {
            conditions.scope(ScopeFilter::of(scope));
        }
        if let Some(number) = &query.number {
            let wanted = digits(number);
            if wanted.is_empty() {
                return Err(BackupError::InvalidOption(
                    "a number to search for must contain digits".to_owned(),
                ));
            }
            let any = NUMBER_FIELDS
                .iter()
                .map(|field| format!("number_matches({field}, ?)"))
                .collect::<Vec<_>>()
                .join(" OR ");
            conditions.push(
                &format!("({any})"),
                NUMBER_FIELDS.iter().map(|_| Sql::Text(wanted.clone())),
            );
        }
        if let Some(flow) = &query.flow {
            conditions.push("flow = ?", [Sql::Text(flow.clone())]);
        }
        if let Some(result) = &query.result {
            conditions.push("result = ?", [Sql::Text(result.clone())]);
        }
        if let Some(seconds) = query.min_duration {
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            conditions.push("duration >= ?", [Sql::Integer(seconds)]);
        }
        let limit = query
            .limit
            .map_or(-1, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM record WHERE {} ORDER BY init_time_us, record_uuid \
             LIMIT {limit}",
            conditions.clause()
        );
        self.with(|connection| {
            let mut statement = connection.prepare(&sql)?;
            let rows =
                statement.query_map(rusqlite::params_from_iter(&conditions.params), entry_of)?;
            rows.collect()
        })
    }
}
