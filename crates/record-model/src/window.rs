//! Date ranges and the API's query windows (spec §2.1).
//!
//! A window `[start, end]` is accepted only if `start <= end` and `end` is no later than the last
//! day of the month after `start`'s month, at `23:59:59`. Bounds are inclusive and compared with
//! the full precision of `init_time_gmt`, so a record at `23:59:59.40` lies outside a window
//! ending at `23:59:59`. [`DateRange::windows`] therefore chains windows with a one-second
//! overlap: each starts where the previous one ended, and callers de-duplicate by `record_uuid`.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::time::check_wire_year;
use crate::{ValidationError, format_query_time};

/// A period `[start, end]` of any length, with whole-second bounds in UTC.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use record_model::DateRange;
///
/// let year = DateRange::new(
///     Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2024, 12, 31, 23, 59, 59).unwrap(),
/// )?;
/// assert_eq!(year.windows().count(), 11);
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RangeWire", into = "RangeWire")]
pub struct DateRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// One request's worth of time: a range that satisfies the window rule of spec §2.1.
///
/// It cannot be built invalid, so list, stats, delete-range and archive requests made from it
/// are never refused for their window.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use record_model::QueryWindow;
///
/// let start = Utc.with_ymd_and_hms(2024, 1, 15, 10, 0, 0).unwrap();
/// assert!(QueryWindow::new(start, Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap()).is_ok());
/// let err = QueryWindow::new(start, Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap()).unwrap_err();
/// assert!(err.to_string().contains("2024-02-29 23:59:59"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RangeWire", into = "RangeWire")]
pub struct QueryWindow {
    range: DateRange,
}

/// The serialised form of ranges and windows: the two bounds in the wire format.
#[derive(Serialize, Deserialize)]
struct RangeWire {
    start_datetime: String,
    end_datetime: String,
}

impl DateRange {
    /// A range from `start` to `end`, both inclusive.
    ///
    /// Fails when `start > end`, when a bound has a fraction of a second (the API takes whole
    /// seconds), or when a year has other than four digits.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ValidationError> {
        check_bound("start", start)?;
        check_bound("end", end)?;
        if start > end {
            return Err(ValidationError::RangeReversed {
                start: format_query_time(start),
                end: format_query_time(end),
            });
        }
        Ok(DateRange { start, end })
    }

    /// Parses two bounds written `YYYY-MM-DD HH:MM:SS`. Both are inclusive, at full precision:
    /// an end of `23:59:59` leaves out the records of `23:59:59.x`; for a day, a month, a year
    /// or `[from, until)`, use a [`crate::Period`].
    ///
    /// ```
    /// let q1 = record_model::DateRange::parse("2024-01-01 00:00:00", "2024-03-31 23:59:59")?;
    /// assert_eq!(q1.windows().count(), 2);
    /// # Ok::<(), record_model::ValidationError>(())
    /// ```
    pub fn parse(start: &str, end: &str) -> Result<Self, ValidationError> {
        let start = crate::WireTime::parse(start)?.instant();
        let end = crate::WireTime::parse(end)?.instant();
        DateRange::new(start, end)
    }

    /// A range whose bounds were already checked (a [`crate::Period`]'s).
    pub(crate) fn from_checked(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        DateRange { start, end }
    }

    /// The first instant of the range.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The last instant of the range (inclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether `instant` lies in `[start, end]`, compared at full precision.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant <= self.end
    }

    /// The range as a single window, if it satisfies the window rule.
    pub fn as_window(&self) -> Result<QueryWindow, ValidationError> {
        QueryWindow::new(self.start, self.end)
    }

    /// The windows that cover this range, as spec §2.1 prescribes.
    ///
    /// The first starts at the range start; each next one starts at the previous one's end (a
    /// one-second overlap, so no record of a last fractional second is lost); each is as long as
    /// the rule allows; the last ends at the range end. Callers de-duplicate by `record_uuid`.
    pub fn windows(&self) -> Windows {
        Windows {
            next_start: Some(self.start),
            end: self.end,
        }
    }
}

impl QueryWindow {
    /// A window from `start` to `end`, both inclusive.
    ///
    /// Fails unless `start <= end` and `end` is no later than [`latest_end`] of `start`; the
    /// error names the latest allowed end.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ValidationError> {
        let range = DateRange::new(start, end)?;
        match latest_end(start) {
            Some(latest) if end > latest => Err(ValidationError::WindowTooLong {
                start: format_query_time(start),
                end: format_query_time(end),
                latest_end: format_query_time(latest),
            }),
            _ => Ok(QueryWindow { range }),
        }
    }

    /// Parses two bounds written `YYYY-MM-DD HH:MM:SS`.
    pub fn parse(start: &str, end: &str) -> Result<Self, ValidationError> {
        DateRange::parse(start, end)?.as_window()
    }

    /// The window that holds exactly one instant, `[at, at]`.
    pub fn at(instant: DateTime<Utc>) -> Result<Self, ValidationError> {
        QueryWindow::new(instant, instant)
    }

    /// The first instant of the window.
    pub fn start(&self) -> DateTime<Utc> {
        self.range.start
    }

    /// The last instant of the window (inclusive).
    pub fn end(&self) -> DateTime<Utc> {
        self.range.end
    }

    /// The window as a plain range.
    pub fn range(&self) -> DateRange {
        self.range
    }

    /// The `start_datetime` query value, `YYYY-MM-DD HH:MM:SS`.
    pub fn start_datetime(&self) -> String {
        format_query_time(self.range.start)
    }

    /// The `end_datetime` query value, `YYYY-MM-DD HH:MM:SS`.
    pub fn end_datetime(&self) -> String {
        format_query_time(self.range.end)
    }
}

impl From<QueryWindow> for DateRange {
    fn from(window: QueryWindow) -> Self {
        window.range
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}, {}]",
            format_query_time(self.start),
            format_query_time(self.end)
        )
    }
}

impl fmt::Display for QueryWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.range.fmt(f)
    }
}

impl TryFrom<RangeWire> for DateRange {
    type Error = ValidationError;

    fn try_from(wire: RangeWire) -> Result<Self, Self::Error> {
        DateRange::parse(&wire.start_datetime, &wire.end_datetime)
    }
}

impl From<DateRange> for RangeWire {
    fn from(range: DateRange) -> Self {
        RangeWire {
            start_datetime: format_query_time(range.start),
            end_datetime: format_query_time(range.end),
        }
    }
}

impl TryFrom<RangeWire> for QueryWindow {
    type Error = ValidationError;

    fn try_from(wire: RangeWire) -> Result<Self, Self::Error> {
        DateRange::try_from(wire)?.as_window()
    }
}

impl From<QueryWindow> for RangeWire {
    fn from(window: QueryWindow) -> Self {
        window.range.into()
    }
}

/// The latest `end` the API accepts for a window starting at `start`: the last day of the month
/// after `start`'s month, at `23:59:59`.
///
/// `None` when that day lies beyond what `chrono` can represent, in which case every
/// representable end is allowed.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let start = Utc.with_ymd_and_hms(2024, 1, 15, 10, 0, 0).unwrap();
/// let latest = record_model::latest_end(start).unwrap();
/// assert_eq!(latest, Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap());
/// ```
pub fn latest_end(start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // The first day of the month two months after `start`'s, minus one day.
    let months = start.year() * 12 + start.month0() as i32 + 2;
    let first_after =
        NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)?;
    let last_day = first_after.pred_opt()?;
    Some(last_day.and_hms_opt(23, 59, 59)?.and_utc())
}

fn check_bound(bound: &'static str, instant: DateTime<Utc>) -> Result<(), ValidationError> {
    check_wire_year(instant)?;
    if instant.nanosecond() != 0 {
        return Err(ValidationError::SubSecondBound {
            bound,
            value: instant.to_rfc3339(),
        });
    }
    Ok(())
}

/// The covering windows of a [`DateRange`]; see [`DateRange::windows`].
#[derive(Debug, Clone)]
pub struct Windows {
    next_start: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
}

impl Iterator for Windows {
    type Item = QueryWindow;

    fn next(&mut self) -> Option<QueryWindow> {
        let start = self.next_start?;
        let end = match latest_end(start) {
            Some(latest) if latest < self.end => latest,
            _ => self.end,
        };
        // Each window ends strictly after it starts until the range end is reached, so the
        // iteration always terminates.
        self.next_start = (end < self.end).then_some(end);
        Some(QueryWindow {
            range: DateRange { start, end },
        })
    }
}

impl std::iter::FusedIterator for Windows {}
