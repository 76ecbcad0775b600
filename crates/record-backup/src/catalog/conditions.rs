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
