//! Statistics payloads (spec §4.2, §4.3).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// Statistics of one window: how many record files it holds and their total size.
///
/// The API's field names are not documented, so decoding is lenient: `count` and `size` are
/// preferred, otherwise any integer field whose name contains `count` (or `size`) is used.
///
/// ```
/// use record_model::WindowStats;
///
/// let a: WindowStats = serde_json::from_str(r#"{"count": 3, "size": 925040}"#)?;
/// let b: WindowStats = serde_json::from_str(r#"{"records_count": 3, "total_size": 925040}"#)?;
/// assert_eq!(a, b);
/// assert_eq!(a + b, WindowStats { count: 6, size: 1_850_080 });
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct WindowStats {
    /// Number of record files.
    pub count: u64,
    /// Total size of the record files, in bytes.
    pub size: u64,
}

impl std::ops::Add for WindowStats {
    type Output = WindowStats;

    fn add(self, other: WindowStats) -> WindowStats {
        WindowStats {
            count: self.count.saturating_add(other.count),
            size: self.size.saturating_add(other.size),
        }
    }
}

impl std::ops::AddAssign for WindowStats {
    fn add_assign(&mut self, other: WindowStats) {
        *self = *self + other;
    }
}

impl<'de> Deserialize<'de> for WindowStats {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StatsVisitor)
    }
}

struct StatsVisitor;

/// A field found by the lenient rule: exact names win over names that merely contain the word.
#[derive(Default)]
struct Found {
    exact: Option<u64>,
    loose: Option<u64>,
}

impl Found {
    fn offer(&mut self, name: &str, word: &str, value: Option<u64>) {
        let Some(value) = value else { return };
        if name == word {
            self.exact = Some(value);
        } else if name.contains(word) && self.loose.is_none() {
            self.loose = Some(value);
        }
    }

    fn get(&self) -> Option<u64> {
        self.exact.or(self.loose)
    }
}

impl<'de> Visitor<'de> for StatsVisitor {
    type Value = WindowStats;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with an integer count field and an integer size field")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WindowStats, A::Error> {
        let (mut count, mut size) = (Found::default(), Found::default());
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value::<serde_json::Value>()?.as_u64();
            let lower = name.to_ascii_lowercase();
            count.offer(&lower, "count", value);
            size.offer(&lower, "size", value);
        }
        match (count.get(), size.get()) {
            (Some(count), Some(size)) => Ok(WindowStats { count, size }),
            (None, _) => Err(de::Error::custom(
                "statistics without an integer field whose name contains \"count\"",
            )),
            (_, None) => Err(de::Error::custom(
                "statistics without an integer field whose name contains \"size\"",
            )),
        }
    }
}

/// A calendar month in UTC, written `YYYY-MM`.
///
/// ```
/// use record_model::YearMonth;
/// let month: YearMonth = "2024-10".parse()?;
/// assert_eq!((month.year(), month.month()), (2024, 10));
/// assert_eq!(month.to_string(), "2024-10");
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    year: u16,
    month: u8,
}

impl YearMonth {
    /// The month `month` (1–12) of `year` (0–9999).
    pub fn new(year: u16, month: u8) -> Result<Self, ValidationError> {
        if year <= 9999 && (1..=12).contains(&month) {
            Ok(YearMonth { year, month })
        } else {
            Err(ValidationError::YearMonth {
                value: format!("{year:04}-{month:02}"),
            })
        }
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.month
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let fail = || ValidationError::YearMonth {
            value: crate::error::quote_prefix(text),
        };
        let (year, month) = text.split_once('-').ok_or_else(fail)?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return Err(fail());
        }
        let year = year.parse().map_err(|_| fail())?;
        let month = month.parse().map_err(|_| fail())?;
        YearMonth::new(year, month).map_err(|_| fail())
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(de::Error::custom)
    }
}

/// Storage statistics of one month (spec §4.3), an element of the `records_stats` array.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MonthStats {
    /// The month, in UTC.
    pub year_month: YearMonth,
    /// Number of record files of the month.
    pub call_records_count: u64,
    /// Total size of the month's record files, in bytes.
    pub call_records_size: u64,
}

impl MonthStats {
    /// The month's statistics as window statistics.
    pub fn totals(&self) -> WindowStats {
        WindowStats {
            count: self.call_records_count,
            size: self.call_records_size,
        }
    }
}
