//! Record order, and merging the lists of several windows into one.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::Record;

/// The order of a record list, by `init_time_gmt`. The API's default is [`Order::Desc`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Oldest first (`asc`).
    Asc,
    /// Newest first (`desc`), the API's default.
    #[default]
    Desc,
}

impl Order {
    /// The `order` query value: `asc` or `desc`.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }

    /// Compares two records in this order: by `init_time_gmt` at full precision, then by
    /// `record_uuid`, so that equal times still sort the same way every time.
    pub fn compare(self, a: &Record, b: &Record) -> Ordering {
        let ascending = record_key_cmp(a, b);
        match self {
            Order::Asc => ascending,
            Order::Desc => ascending.reverse(),
        }
    }
}

fn record_key_cmp(a: &Record, b: &Record) -> Ordering {
    a.init_time_gmt
        .instant()
        .cmp(&b.init_time_gmt.instant())
        .then_with(|| a.record_uuid.cmp(&b.record_uuid))
}

/// Merges record lists (e.g. of overlapping windows) into one list in `order`, keeping one
/// record per `record_uuid`.
///
/// Records that share a `record_uuid` are the same recording seen twice; the first of them in
/// `order` is kept. The result does not depend on the order of the input lists.
///
/// ```
/// # use record_model::{merge_records, Order, Record};
/// # fn demo(january: Vec<Record>, february: Vec<Record>) {
/// let all = merge_records([january, february], Order::Asc);
/// # }
/// ```
pub fn merge_records<I>(lists: I, order: Order) -> Vec<Record>
where
    I: IntoIterator,
    I::Item: IntoIterator<Item = Record>,
{
    let mut all: Vec<Record> = lists.into_iter().flatten().collect();
    all.sort_by(|a, b| order.compare(a, b));
    let mut seen = HashSet::with_capacity(all.len());
    all.retain(|record| seen.insert(record.record_uuid.clone()));
    all
}
