//! The simulator's own reading and writing of the API's time format.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// Parses a query bound, `YYYY-MM-DD HH:MM:SS` exactly.
pub(crate) fn parse_bound(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let layout_ok = bytes.len() == 19
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if !layout_ok {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()
}

/// Writes whole seconds: `YYYY-MM-DD HH:MM:SS`.
pub(crate) fn seconds(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Writes hundredths, as the API writes `init_time_gmt`: `YYYY-MM-DD HH:MM:SS.cc`.
pub(crate) fn centis(time: NaiveDateTime) -> String {
    format!("{}.{:02}", seconds(time), time.nanosecond() / 10_000_000)
}

/// The last instant a window starting at `start` may end at: the last day of the next month,
/// 23:59:59.
pub(crate) fn window_limit(start: NaiveDateTime) -> NaiveDateTime {
    // Month numbers counted from year 0; +2 is the month after next, whose first day minus one
    // day is the last day of the next month.
    let month_after_next = start.year() * 12 + start.month() as i32 - 1 + 2;
    let first =
        NaiveDate::from_ymd_opt(month_after_next / 12, (month_after_next % 12) as u32 + 1, 1);
    first
        .and_then(|d| d.pred_opt())
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .unwrap_or(NaiveDateTime::MAX)
}

/// Parses the `end_datetime` of the monthly statistics: `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD` or
/// `YYYY-MM`, as the last instant it covers.
pub(crate) fn parse_month_end(text: &str) -> Option<NaiveDateTime> {
    if let Some(time) = parse_bound(text) {
        return Some(time);
    }
    if text.len() == 10 {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return day.and_hms_nano_opt(23, 59, 59, 999_999_999);
    }
    if text.len() == 7 {
        let first = NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()?;
        let next = first.checked_add_months(chrono::Months::new(1))?;
        return next.pred_opt()?.and_hms_nano_opt(23, 59, 59, 999_999_999);
    }
    None
}
