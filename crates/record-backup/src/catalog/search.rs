//! Search: the catalog's entries by period, number, scope, flow, result, duration and state,
//! in pages read by index (never the whole catalog, never every match at once).

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension as _;
use rusqlite::types::Value as Sql;
use telphin_records::{Order, Period, Scope};

use super::conditions::{Conditions, Cursor, ScopeFilter, order_by};
use super::entry::{ENTRY_COLUMNS, entry_of};
use super::numbers::Wanted;
use super::state::{STATUS, Status};
use super::{Catalog, CatalogEntry};
use crate::error::BackupError;

/// Entries per page unless [`SearchQuery::page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The most entries one page may hold.
pub const MAX_PAGE_SIZE: usize = 10_000;

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
    /// Calls that started before this instant.
    pub before: Option<DateTime<Utc>>,
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
    /// Records in this backup state.
    pub status: Option<Status>,
    /// Only records no active legal hold covers.
    pub not_held: bool,
    /// Newest first (default: oldest first).
    pub newest_first: bool,
    /// At most this many entries in all (default: every match).
    pub limit: Option<usize>,
    /// Entries per page (default [`DEFAULT_PAGE_SIZE`], at most [`MAX_PAGE_SIZE`]).
    pub page_size: Option<usize>,
    /// Start after this entry (its call's time and record id, as [`Search::cursor`] gives
    /// them): the pages of a web page, one request each.
    pub after: Option<(DateTime<Utc>, String)>,
}

impl SearchQuery {
    /// Calls that started in `period`.
    pub fn period(mut self, period: impl Into<Period>) -> Self {
        self.period = Some(period.into());
        self
    }

    /// Calls that started before `instant`.
    pub fn before(mut self, instant: DateTime<Utc>) -> Self {
        self.before = Some(instant);
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

    /// Records in `status` ([`Status::Verified`] before a cutoff: what `purge` would delete).
    pub fn status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// What [`Archive::purge`](crate::Archive::purge) would delete with this cutoff: the
    /// verified records still on the PBX that started before `older_than` (add a scope and a
    /// limit as the purge has them). What a dry run prints.
    pub fn purgeable(older_than: DateTime<Utc>) -> Self {
        let mut query = SearchQuery::default()
            .status(Status::Verified)
            .before(older_than);
        query.not_held = true;
        query
    }

    /// Newest first.
    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }

    /// At most `limit` entries in all.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// `size` entries per page.
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Start after the entry of `cursor` (what [`Search::cursor`] gave after a page).
    pub fn resume_after(mut self, cursor: (DateTime<Utc>, String)) -> Self {
        self.after = Some(cursor);
        self
    }

    fn order(&self) -> Order {
        if self.newest_first {
            Order::Desc
        } else {
            Order::Asc
        }
    }

    /// The conditions on the call's time (period, before), which number rows carry too.
    fn time_conditions(&self) -> Conditions {
        let mut conditions = Conditions::default();
        if let Some(period) = &self.period {
            conditions.period(period);
        }
        if let Some(before) = self.before {
            conditions.push("init_time_us < ?", [micros(before)]);
        }
        conditions
    }

    /// The conditions only a record's row can check (scope, flow, result, duration, state).
    fn record_conditions(&self) -> Conditions {
        let mut conditions = Conditions::default();
        if let Some(scope) = self.scope {
            conditions.scope(ScopeFilter::of(scope));
        }
        if let Some(flow) = &self.flow {
            conditions.push("flow = ?", [Sql::Text(flow.clone())]);
        }
        if let Some(result) = &self.result {
            conditions.push("result = ?", [Sql::Text(result.clone())]);
        }
        if let Some(seconds) = self.min_duration {
            let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
            conditions.push("duration >= ?", [Sql::Integer(seconds)]);
        }
        if let Some(status) = self.status {
            conditions.push(
                &format!("({STATUS}) = ?"),
                [Sql::Text(status.as_str().to_owned())],
            );
        }
        if self.not_held {
            super::hold::not_held(&mut conditions, Utc::now());
        }
        conditions
    }
}

fn micros(at: DateTime<Utc>) -> Sql {
    Sql::Integer(at.timestamp_micros())
}

/// The pages of a search, read one at a time as they are asked for: each page is one indexed
/// query that starts after the previous page's last entry, so memory holds one page whatever
/// the number of matches. An iterator of pages (`Result<Vec<CatalogEntry>, _>`).
#[derive(Debug)]
pub struct Search<'a> {
    catalog: &'a Catalog,
    plan: Plan,
    order: Order,
    page_size: usize,
    remaining: Option<usize>,
    after: Cursor,
    done: bool,
}

impl Catalog {
    /// The entries matching `query`, page by page, oldest first (or newest first): an index
    /// of the recordings that the PBX itself cannot search (by number, extension, flow,
    /// result, duration, state). A query that cannot match (a number without a digit, a page
    /// size of 0) is refused here, before any read.
    ///
    /// ```no_run
    /// use record_backup::{Catalog, SearchQuery};
    ///
    /// # fn demo() -> Result<(), record_backup::BackupError> {
    /// let catalog = Catalog::open("recordings.sqlite")?;
    /// let mut search = catalog.search(&SearchQuery::default().number("4567"))?;
    /// println!("{} calls", search.total()?);
    /// for page in search {
    ///     for entry in page? {
    ///         println!("{} {}", entry.record.init_time_gmt, entry.record.record_uuid);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn search(&self, query: &SearchQuery) -> Result<Search<'_>, BackupError> {
        let page_size = query.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(BackupError::InvalidOption(format!(
                "a search page holds 1 to {MAX_PAGE_SIZE} entries, not {page_size}"
            )));
        }
        Ok(Search {
            plan: Plan::of(self, query)?,
            catalog: self,
            order: query.order(),
            page_size,
            remaining: query.limit,
            after: query
                .after
                .as_ref()
                .map(|(at, uuid)| (at.timestamp_micros(), uuid.clone())),
            done: query.limit == Some(0),
        })
    }

    /// The entry of one record, if the catalog has it.
    pub fn entry(&self, record_uuid: &str) -> Result<Option<CatalogEntry>, BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM record WHERE record_uuid = ?1"
                ))?
                .query_row([record_uuid], entry_of)
                .optional()
        })
    }
}

impl Search<'_> {
    /// How many entries match in all (a count over the same indexes; `limit` aside).
    pub fn total(&self) -> Result<u64, BackupError> {
        let (sql, conditions) = match &self.plan {
            Plan::Number { rows, .. } => (
                format!(
                    "SELECT count(DISTINCT record_uuid) FROM record_number WHERE {}",
                    rows.clause()
                ),
                rows.clone(),
            ),
            Plan::Records(conditions) | Plan::ByDuration(conditions) => (
                format!("SELECT count(*) FROM record WHERE {}", conditions.clause()),
                conditions.clone(),
            ),
            Plan::Walk { indexed, .. } => (
                format!("SELECT count(*) FROM record WHERE {}", indexed.clause()),
                indexed.clone(),
            ),
        };
        self.catalog.count_of(&sql, &conditions)
    }

    /// How many entries match, counting no further than `cap`: what a page shows as "more
    /// than …" without counting every call of a busy number or of ten years.
    pub fn count_up_to(&self, cap: u64) -> Result<u64, BackupError> {
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        let (sql, conditions) = match &self.plan {
            Plan::Number { rows, .. } => (
                format!(
                    "SELECT count(*) FROM (SELECT DISTINCT record_uuid FROM record_number \
                     WHERE {} LIMIT {cap})",
                    rows.clause()
                ),
                rows.clone(),
            ),
            Plan::Records(conditions) | Plan::ByDuration(conditions) => (
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM record WHERE {} LIMIT {cap})",
                    conditions.clause()
                ),
                conditions.clone(),
            ),
            Plan::Walk { indexed, .. } => (
                format!(
                    "SELECT count(*) FROM (SELECT 1 FROM record WHERE {} LIMIT {cap})",
                    indexed.clause()
                ),
                indexed.clone(),
            ),
        };
        self.catalog.count_of(&sql, &conditions)
    }

    /// The SQL of the next page and its parameters.
    fn page_query(&self, size: usize) -> (String, Conditions) {
        let columns = format!("init_time_us, record_uuid, {ENTRY_COLUMNS}");
        let order = order_by(self.order);
        match &self.plan {
            Plan::Number { rows } => {
                // The page's calls from the number's rows alone (they carry the call's time),
                // then their records.
                let mut inner = rows.clone();
                inner.after(&self.after, self.order);
                let mut outer = Conditions::default();
                outer.push(
                    &format!(
                        "record_uuid IN (SELECT record_uuid FROM (SELECT DISTINCT \
                         init_time_us, record_uuid FROM record_number WHERE {} {order} \
                         LIMIT {size}))",
                        inner.clause()
                    ),
                    inner.params,
                );
                let sql = format!(
                    "SELECT {columns} FROM record WHERE {} {order} LIMIT {size}",
                    outer.clause()
                );
                (sql, outer)
            }
            Plan::Records(conditions)
            | Plan::ByDuration(conditions)
            | Plan::Walk {
                walked: conditions, ..
            } => {
                let from = match &self.plan {
                    Plan::ByDuration(_) => "record INDEXED BY record_by_duration",
                    _ => "record",
                };
                let mut conditions = conditions.clone();
                conditions.after(&self.after, self.order);
                let sql = format!(
                    "SELECT {columns} FROM {from} WHERE {} {order} LIMIT {size}",
                    conditions.clause()
                );
                (sql, conditions)
            }
        }
    }

    /// The next page; `None` after the last one.
    pub fn next_page(&mut self) -> Result<Option<Vec<CatalogEntry>>, BackupError> {
        if self.done {
            return Ok(None);
        }
        let size = self
            .remaining
            .map_or(self.page_size, |left| left.min(self.page_size));
        let (sql, conditions) = self.page_query(size);
        let rows: Vec<(i64, String, CatalogEntry)> =
            self.catalog.rows(&sql, &conditions, |row| {
                Ok((row.get(0)?, row.get(1)?, entry_of(row)?))
            })?;
        if let Some(left) = &mut self.remaining {
            *left -= rows.len().min(*left);
            self.done |= *left == 0;
        }
        self.done |= rows.len() < size;
        let Some((time, uuid, _)) = rows.last() else {
            return Ok(None);
        };
        self.after = Some((*time, uuid.clone()));
        Ok(Some(rows.into_iter().map(|(_, _, entry)| entry).collect()))
    }

    /// Where the last page read ended (its last entry's call time and record id), to resume
    /// there with [`SearchQuery::resume_after`]; `None` before the first page.
    pub fn cursor(&self) -> Option<(DateTime<Utc>, String)> {
        let (micros, uuid) = self.after.as_ref()?;
        let at = DateTime::<Utc>::from_timestamp_micros(*micros)?;
        Some((at, uuid.clone()))
    }

    /// The plan SQLite picks for the next page (`EXPLAIN QUERY PLAN`), one step per line: to
    /// check that a search is served by an index.
    pub fn query_plan(&self) -> Result<String, BackupError> {
        let (sql, conditions) = self.page_query(self.page_size);
        let steps =
            self.catalog
                .rows(&format!("EXPLAIN QUERY PLAN {sql}"), &conditions, |row| {
                    row.get::<_, String>(3)
                })?;
        Ok(steps.join("\n"))
    }
}

/// How a search reads the catalog, decided when it starts.
#[derive(Debug)]
enum Plan {
    /// Without a number: the records' indexes (time, extension, outcome).
    Records(Conditions),
    /// Flow, result and a minimum duration few calls have: those calls through
    /// `record_by_duration`, sorted by time.
    ByDuration(Conditions),
    /// A number, and at most the call's time besides: pages of the number's index rows in
    /// time order, then their records.
    Number {
        /// The conditions on `record_number`.
        rows: Conditions,
    },
    /// A number found in so many calls that the calls are read in time order and tested one
    /// by one: a page fills after a few rows.
    Walk {
        /// The conditions of the pages.
        walked: Conditions,
        /// The same with the number by its index (for the total).
        indexed: Conditions,
    },
}

/// Matches counted in the number's index before a search decides how to read: up to this
/// many, they are sorted by time (a few milliseconds); more, and the calls are walked.
const DENSE_ROWS: usize = if cfg!(test) { 6 } else { 50_000 };

/// The same with filters that only records can check: every match is then a record read.
const DENSE_JOINED: usize = if cfg!(test) { 3 } else { 5_000 };

impl Plan {
    /// The conditions of a search of flow, result and minimum duration over the whole catalog
    /// when it matches fewer than [`DENSE_JOINED`] calls (counted through the partial index
    /// `record_by_duration`, which `duration > 0` lets the query use): walking every call of
    /// that flow and result in time order would then read them all for a page, or for none.
    fn few_by_duration(
        catalog: &Catalog,
        query: &SearchQuery,
        conditions: &Conditions,
    ) -> Result<Option<Conditions>, BackupError> {
        let only_these = query.flow.is_some()
            && query.result.is_some()
            && query.min_duration.is_some_and(|seconds| seconds > 0)
            && query.scope.is_none()
            && query.status.is_none()
            && query.period.is_none()
            && query.before.is_none();
        if !only_these {
            return Ok(None);
        }
        let mut few = conditions.clone();
        few.push("duration > 0", []);
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM record INDEXED BY record_by_duration WHERE {} \
             LIMIT {DENSE_JOINED})",
            few.clause()
        );
        let matches = catalog.count_of(&sql, &few)?;
        Ok((matches < DENSE_JOINED as u64).then_some(few))
    }

    fn of(catalog: &Catalog, query: &SearchQuery) -> Result<Plan, BackupError> {
        let time = query.time_conditions();
        let mut record = query.record_conditions();
        let Some(number) = &query.number else {
            record.extend(time);
            if let Some(few) = Plan::few_by_duration(catalog, query, &record)? {
                return Ok(Plan::ByDuration(few));
            }
            return Ok(Plan::Records(record));
        };
        let wanted = Wanted::parse(number).map_err(BackupError::InvalidOption)?;
        let mut rows = time.clone();
        wanted.on_rows(&mut rows);
        let only_time = record.is_empty();
        let dense = if only_time { DENSE_ROWS } else { DENSE_JOINED };
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM record_number WHERE {} LIMIT {dense})",
            rows.clause()
        );
        let matches = catalog.count_of(&sql, &rows)?;
        let mut indexed = record.clone();
        indexed.extend(time.clone());
        indexed.push(
            &format!(
                "record_uuid IN (SELECT record_uuid FROM record_number WHERE {})",
                rows.clause()
            ),
            rows.params.clone(),
        );
        if matches >= dense as u64 {
            let mut walked = record;
            walked.extend(time);
            wanted.on_record(&mut walked);
            return Ok(Plan::Walk { walked, indexed });
        }
        if only_time {
            return Ok(Plan::Number { rows });
        }
        Ok(Plan::Records(indexed))
    }
}

impl Iterator for Search<'_> {
    type Item = Result<Vec<CatalogEntry>, BackupError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_page() {
            Ok(page) => page.map(Ok),
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}
