//! `WHERE` clauses built condition by condition, with their parameters: scope, period and the
//! keyset of pages.

use rusqlite::types::Value as Sql;
use telphin_records::{ClientId, Order, Period, PeriodEnd, Scope};

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

/// Where a page of rows ends: the last row's `(init_time_us, record_uuid)`.
pub(crate) type Cursor = Option<(i64, String)>;

/// A `WHERE` clause and its parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions {
    sql: Vec<String>,
    pub(crate) params: Vec<Sql>,
}

/// An id as SQLite's integer (ids beyond `i64` match nothing the API sends).
fn id(id: u64) -> Sql {
    Sql::Integer(i64::try_from(id).unwrap_or(i64::MAX))
}

impl Conditions {
    pub(crate) fn push(&mut self, sql: &str, values: impl IntoIterator<Item = Sql>) {
        self.sql.push(sql.to_owned());
        self.params.extend(values);
    }

    /// Calls that started before `cutoff`.
    pub(crate) fn started_before(&mut self, cutoff: chrono::DateTime<chrono::Utc>) {
        self.push(
            "record.init_time_us < ?",
            [Sql::Integer(cutoff.timestamp_micros())],
        );
    }

    /// Calls of the extension `extension`.
    pub(crate) fn on_extension(&mut self, extension: u64) {
        self.push("record.extension_id = ?", [id(extension)]);
    }

    /// Calls of the extension group `group`.
    pub(crate) fn in_group(&mut self, group: u64) {
        self.push("record.extension_group_owner_id = ?", [id(group)]);
    }

    /// Calls of none of `extensions` (a call without an extension is of none).
    pub(crate) fn not_on_extensions(&mut self, extensions: &[u64]) {
        self.not_in("extension_id", extensions);
    }

    /// Calls of none of `groups`.
    pub(crate) fn not_in_groups(&mut self, groups: &[u64]) {
        self.not_in("extension_group_owner_id", groups);
    }

    fn not_in(&mut self, column: &str, ids: &[u64]) {
        if !ids.is_empty() {
            let marks = vec!["?"; ids.len()].join(", ");
            self.push(
                &format!("coalesce(record.{column}, -1) NOT IN ({marks})"),
                ids.iter().map(|i| id(*i)),
            );
        }
    }

    /// Calls with a number whose reversed digits are in `[from, until)`: a person's number,
    /// whatever way it was written (see [`PersonNumber`](super::PersonNumber)).
    pub(crate) fn with_number_between(&mut self, from: &str, until: &str) {
        self.push(
            "record.record_uuid IN (SELECT n.record_uuid FROM record_number n \
             WHERE n.digits_reversed >= ? AND n.digits_reversed < ?)",
            [Sql::Text(from.to_owned()), Sql::Text(until.to_owned())],
        );
    }

    pub(crate) fn scope(&mut self, filter: ScopeFilter) {
        match filter {
            ScopeFilter::All => {}
            ScopeFilter::Client(c) => self.push("client_owner_id = ?", [id(c)]),
            ScopeFilter::Group(g) => self.push("extension_group_owner_id = ?", [id(g)]),
            ScopeFilter::Extension(e) => self.push("extension_id = ?", [id(e)]),
            ScopeFilter::Unknown => self.push("0", []),
        }
    }

    /// Calls that started in `period`, on `column` (microseconds since 1970, UTC).
    pub(crate) fn period_on(&mut self, column: &str, period: &Period) {
        let start = Sql::Integer(period.start().timestamp_micros());
        let end = Sql::Integer(period.end().timestamp_micros());
        match period.end_kind() {
            PeriodEnd::Included => {
                self.push(&format!("{column} >= ? AND {column} <= ?"), [start, end]);
            }
            // Excluded, or a kind this version does not know: the narrower reading.
            _ => self.push(&format!("{column} >= ? AND {column} < ?"), [start, end]),
        }
    }

    pub(crate) fn period(&mut self, period: &Period) {
        self.period_on("init_time_us", period);
    }

    /// Rows after the cursor in `order`, for keyset pages.
    pub(crate) fn after(&mut self, after: &Cursor, order: Order) {
        if let Some((time, uuid)) = after {
            let sql = match order {
                Order::Desc => "(init_time_us, record_uuid) < (?, ?)",
                _ => "(init_time_us, record_uuid) > (?, ?)",
            };
            self.push(sql, [Sql::Integer(*time), Sql::Text(uuid.clone())]);
        }
    }

    /// Adds every condition of `other`.
    pub(crate) fn extend(&mut self, other: Conditions) {
        self.sql.extend(other.sql);
        self.params.extend(other.params);
    }

    /// Whether there is no condition.
    pub(crate) fn is_empty(&self) -> bool {
        self.sql.is_empty()
    }

    pub(crate) fn clause(&self) -> String {
        if self.sql.is_empty() {
            "1".to_owned()
        } else {
            self.sql.join(" AND ")
        }
    }
}

/// `ORDER BY` of pages in `order`.
pub(crate) fn order_by(order: Order) -> &'static str {
    match order {
        Order::Desc => "ORDER BY init_time_us DESC, record_uuid DESC",
        _ => "ORDER BY init_time_us, record_uuid",
    }
}
