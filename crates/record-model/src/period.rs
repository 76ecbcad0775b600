//! Periods as people say them: a day, a month, a year, `[from, until)`.
//!
//! The API's bounds are inclusive whole seconds compared against `init_time_gmt` at full
//! precision, so the inclusive idiom `2024-12-31 23:59:59` as an end misses every record of
//! `23:59:59.x`. A [`Period`] ending *before* `until` is asked for up to `until` inclusive, and
//! the records at `until` itself (which belong to the next period) are dropped from lists and
//! subtracted from statistics.

use std::fmt;

use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc};

use crate::{DateRange, ValidationError, format_query_time};

/// Whether a period's end instant belongs to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PeriodEnd {
    /// `[start, end]`: the end instant is included (a [`DateRange`]).
    Included,
    /// `[start, end)`: the end instant is the first one of the next period.
    Excluded,
}

/// A period of any length: a day, a month, a year, `[from, until)`, or an inclusive
/// [`DateRange`].
///
/// ```
/// use record_model::Period;
///
/// let march = Period::month(2024, 3)?;
/// assert_eq!(march.to_string(), "[2024-03-01 00:00:00, 2024-04-01 00:00:00)");
/// // Every record of 2024-03-31 23:59:59.x belongs to March; none of April 1st does.
/// let last = "2024-03-31 23:59:59.999".parse::<record_model::WireTime>()?;
/// let next = "2024-04-01 00:00:00".parse::<record_model::WireTime>()?;
/// assert!(march.contains(last.instant()));
/// assert!(!march.contains(next.instant()));
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    end_kind: PeriodEnd,
}

impl Period {
    /// `[from, until)`: from `from` up to, not including, `until` (whole seconds, UTC).
    pub fn between(from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Self, ValidationError> {
        let range = DateRange::new(from, until)?;
        if from == until {
            return Err(ValidationError::EmptyPeriod {
                at: format_query_time(from),
            });
        }
        Ok(Period {
            start: range.start(),
            end: range.end(),
            end_kind: PeriodEnd::Excluded,
        })
    }

    /// `[from, until)` from two times written `YYYY-MM-DD HH:MM:SS`.
    pub fn parse(from: &str, until: &str) -> Result<Self, ValidationError> {
        let from = crate::WireTime::parse(from)?.instant();
        let until = crate::WireTime::parse(until)?.instant();
        Period::between(from, until)
    }

    /// One UTC day.
    pub fn day(date: NaiveDate) -> Result<Self, ValidationError> {
        let start = midnight(date);
        let next = date.succ_opt().ok_or_else(|| out_of_range(date))?;
        Period::between(start, midnight(next))
    }

    /// One UTC calendar month, e.g. `Period::month(2024, 3)`.
    pub fn month(year: i32, month: u32) -> Result<Self, ValidationError> {
        Period::months_from(year, month, 1)
    }

    /// One UTC calendar year.
    pub fn year(year: i32) -> Result<Self, ValidationError> {
        Period::months_from(year, 1, 12)
    }

    /// `count` calendar months from the first of `year-month`.
    fn months_from(year: i32, month: u32, count: u32) -> Result<Self, ValidationError> {
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or(ValidationError::YearMonth {
            value: format!("{year:04}-{month:02}"),
        })?;
        let next = first
            .checked_add_months(Months::new(count))
            .ok_or_else(|| out_of_range(first))?;
        Period::between(midnight(first), midnight(next))
    }

    /// The first instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end bound; see [`end_kind`](Self::end_kind) for whether it is included.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether the end instant belongs to the period.
    pub fn end_kind(&self) -> PeriodEnd {
        self.end_kind
    }

    /// Whether `instant` lies in the period, compared at full precision.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant
            && match self.end_kind {
                PeriodEnd::Included => instant <= self.end,
                PeriodEnd::Excluded => instant < self.end,
            }
    }

    /// What to ask the API for: `[start, end]`, inclusive. For a period whose end is excluded,
    /// the answers also hold the records at exactly `end`, which
    /// [`excluded_end`](Self::excluded_end) tells to drop or subtract.
    pub fn query_range(&self) -> DateRange {
        // Both bounds were checked when the period was built.
        DateRange::from_checked(self.start, self.end)
    }

    /// The instant asked for but not part of the period, if any.
    pub fn excluded_end(&self) -> Option<DateTime<Utc>> {
        match self.end_kind {
            PeriodEnd::Included => None,
            PeriodEnd::Excluded => Some(self.end),
        }
    }
}

impl From<DateRange> for Period {
    fn from(range: DateRange) -> Self {
        Period {
            start: range.start(),
            end: range.end(),
            end_kind: PeriodEnd::Included,
        }
    }
}

impl From<crate::QueryWindow> for Period {
    fn from(window: crate::QueryWindow) -> Self {
        Period::from(DateRange::from(window))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let close = match self.end_kind {
            PeriodEnd::Included => ']',
            PeriodEnd::Excluded => ')',
        };
        write!(
            f,
            "[{}, {}{close}",
            format_query_time(self.start),
            format_query_time(self.end)
        )
    }
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn out_of_range(date: NaiveDate) -> ValidationError {
    ValidationError::WireTime {
        value: date.to_string(),
        reason: "the date is out of range",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        crate::WireTime::parse(text).unwrap().instant()
    }

    #[test]
    fn a_year_holds_its_last_fraction_and_nothing_of_the_next() {
        let year = Period::year(2024).unwrap();
        assert!(year.contains(at("2024-12-31 23:59:59.999999")));
        assert!(!year.contains(at("2025-01-01 00:00:00")));
        assert!(year.contains(at("2024-01-01 00:00:00")));
        assert_eq!(year.query_range().end(), at("2025-01-01 00:00:00"));
        assert_eq!(year.excluded_end(), Some(at("2025-01-01 00:00:00")));
    }

    #[test]
    fn months_and_days_end_at_the_next_first_second() {
        let feb = Period::month(2024, 2).unwrap();
        assert_eq!(feb.end(), at("2024-03-01 00:00:00"));
        let dec = Period::month(2024, 12).unwrap();
        assert_eq!(dec.end(), at("2025-01-01 00:00:00"));
        let day = Period::day(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()).unwrap();
        assert_eq!(
            day.to_string(),
            "[2024-02-29 00:00:00, 2024-03-01 00:00:00)"
        );
    }

    #[test]
    fn bad_periods_are_refused() {
        assert!(Period::month(2024, 13).is_err());
        assert!(Period::parse("2024-03-02 00:00:00", "2024-03-01 00:00:00").is_err());
        let empty = Period::parse("2024-03-01 00:00:00", "2024-03-01 00:00:00").unwrap_err();
        assert!(empty.to_string().contains("empty"), "{empty}");
    }

    #[test]
    fn an_inclusive_range_keeps_its_end() {
        let range = DateRange::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").unwrap();
        let period = Period::from(range);
        assert!(period.contains(at("2024-01-31 23:59:59")));
        assert!(!period.contains(at("2024-01-31 23:59:59.5")));
        assert_eq!(period.excluded_end(), None);
    }
}
