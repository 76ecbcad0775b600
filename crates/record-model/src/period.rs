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

    /// The local days from `first` up to, not including, `until`, in the time zone `tz`: from
    /// the start of `first` to the start of `until`, each as [`Period::local_day_start`] says.
    /// A day the clocks skipped whole is empty, so a period of only such a day is an error.
    ///
    /// ```
    /// use chrono::{FixedOffset, NaiveDate};
    /// use record_model::Period;
    ///
    /// let moscow = FixedOffset::east_opt(3 * 3600).unwrap();
    /// let day = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
    /// let period = Period::local_days(day, day.succ_opt().unwrap(), &moscow)?;
    /// assert_eq!(period.to_string(), "[2024-03-04 21:00:00, 2024-03-05 21:00:00)");
    /// # Ok::<(), record_model::ValidationError>(())
    /// ```
    pub fn local_days<Z: TimeZone>(
        first: NaiveDate,
        until: NaiveDate,
        tz: &Z,
    ) -> Result<Self, ValidationError> {
        let start = Period::local_day_start(first, tz).ok_or_else(|| out_of_range(first))?;
        let end = Period::local_day_start(until, tz).ok_or_else(|| out_of_range(until))?;
        Period::between(start, end)
    }

    /// The first instant of `date` in the time zone `tz` — the one rule for local days
    /// everywhere (periods of the commands, the page's days, retention's cut-offs):
    /// - its midnight, when the clocks show it once;
    /// - the first of its two readings, when a clock change repeats midnight;
    /// - when a clock change skips midnight, the instant the clocks jumped past it (the first
    ///   instant whose local date is `date` or later), so that days follow each other with no
    ///   gap and no overlap.
    ///
    /// `None` only for a date outside chrono's range.
    pub fn local_day_start<Z: TimeZone>(date: NaiveDate, tz: &Z) -> Option<DateTime<Utc>> {
        let midnight = date.and_hms_opt(0, 0, 0)?;
        if let Some(at) = tz.from_local_datetime(&midnight).earliest() {
            return Some(at.with_timezone(&Utc));
        }
        // No offset exceeds a day: 36 hours either side brackets the jump.
        let shown = |second: i64| {
            DateTime::from_timestamp(second, 0)
                .is_some_and(|at| at.with_timezone(tz).date_naive() >= date)
        };
        let around = midnight.and_utc().timestamp();
        let (mut before, mut after) = (around - 36 * 3600, around + 36 * 3600);
        if shown(before) || !shown(after) {
            return None;
        }
        while after - before > 1 {
            let middle = before + (after - before) / 2;
            if shown(middle) {
                after = middle;
            } else {
                before = middle;
            }
        }
        DateTime::from_timestamp(after, 0)
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

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_when_the_clocks_jump() {
        // Havana, 2024-03-10: at 00:00 (UTC−5) the clocks go to 01:00 (UTC−4).
        let havana = chrono_tz::America::Havana;
        let start = Period::local_day_start(date("2024-03-10"), &havana).unwrap();
        assert_eq!(start, at("2024-03-10 05:00:00"));
        let before = Period::local_days(date("2024-03-09"), date("2024-03-10"), &havana).unwrap();
        let day = Period::local_days(date("2024-03-10"), date("2024-03-11"), &havana).unwrap();
        assert_eq!(before.end(), day.start(), "no gap, no overlap");
        assert_eq!((before.end() - before.start()).num_hours(), 24);
        assert_eq!((day.end() - day.start()).num_hours(), 23);
    }

    #[test]
    fn a_repeated_midnight_starts_the_day_at_its_first_reading() {
        // Havana, 2023-11-05: at 01:00 (UTC−4) the clocks go back to 00:00 (UTC−5).
        let havana = chrono_tz::America::Havana;
        let start = Period::local_day_start(date("2023-11-05"), &havana).unwrap();
        assert_eq!(start, at("2023-11-05 04:00:00"));
        let day = Period::local_days(date("2023-11-05"), date("2023-11-06"), &havana).unwrap();
        assert_eq!((day.end() - day.start()).num_hours(), 25);
    }

    #[test]
    fn a_day_the_clocks_skipped_whole_is_empty() {
        // Apia skipped 2011-12-30 when it crossed the date line.
        let apia = chrono_tz::Pacific::Apia;
        let skipped = Period::local_day_start(date("2011-12-30"), &apia);
        assert_eq!(skipped, Period::local_day_start(date("2011-12-31"), &apia));
        assert!(matches!(
            Period::local_days(date("2011-12-30"), date("2011-12-31"), &apia),
            Err(ValidationError::EmptyPeriod { .. })
        ));
        let around = Period::local_days(date("2011-12-29"), date("2012-01-01"), &apia).unwrap();
        assert_eq!((around.end() - around.start()).num_hours(), 48);
    }

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
