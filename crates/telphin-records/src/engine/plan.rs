//! Operations of many requests as plans: which windows to ask, and how to combine the answers.

use chrono::{DateTime, TimeDelta, Utc};
use record_model::{DateRange, Period, QueryWindow, Record, WindowStats};

/// Whether a window's statistics are added or subtracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    Add,
    Subtract,
}

/// The windows that cover `period`, each starting where the previous one ended.
pub(crate) fn list_windows(period: &Period) -> Vec<QueryWindow> {
    period.query_range().windows().collect()
}

/// The statistics requests that give exact totals for `period`: every covering window, minus
/// each one-second overlap point `[end, end]` that two consecutive windows both counted, minus
/// the excluded end point of a half-open period.
pub(crate) fn stats_plan(period: &Period) -> Vec<(QueryWindow, Sign)> {
    let windows = list_windows(period);
    let mut plan = Vec::with_capacity(windows.len() * 2 + 1);
    for (i, window) in windows.iter().enumerate() {
        plan.push((*window, Sign::Add));
        let last = i + 1 == windows.len();
        if !last || period.excluded_end().is_some() {
            // `end` is a whole second, so `[end, end]` always satisfies the window rule.
            if let Ok(point) = QueryWindow::at(window.end()) {
                plan.push((point, Sign::Subtract));
            }
        }
    }
    plan
}

/// Adds up the answers of a [`stats_plan`].
pub(crate) fn combine(parts: impl IntoIterator<Item = (Sign, WindowStats)>) -> WindowStats {
    let (mut count, mut size) = (0i128, 0i128);
    for (sign, stats) in parts {
        let factor = match sign {
            Sign::Add => 1,
            Sign::Subtract => -1,
        };
        count += factor * i128::from(stats.count);
        size += factor * i128::from(stats.size);
    }
    // Totals cannot be negative unless records vanished between requests; clamp then.
    let clamp = |v: i128| u64::try_from(v.max(0)).unwrap_or(u64::MAX);
    WindowStats {
        count: clamp(count),
        size: clamp(size),
    }
}

/// How to delete every record of a period and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeletePlan {
    /// Windows deleted whole.
    pub(crate) windows: Vec<QueryWindow>,
    /// For a half-open period: the last second, listed so that its records before the excluded
    /// end are deleted one by one (a range delete would also take the records at the end).
    pub(crate) last_second: Option<LastSecond>,
}

/// The records of `window` strictly after `after` and strictly before `before` are deleted
/// one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LastSecond {
    pub(crate) window: QueryWindow,
    after: DateTime<Utc>,
    before: DateTime<Utc>,
}

impl LastSecond {
    /// The records of the last second's listing to delete one by one.
    pub(crate) fn records_to_delete<'r>(
        &self,
        records: &'r [Record],
    ) -> impl Iterator<Item = &'r record_model::RecordUuid> {
        let (after, before) = (self.after, self.before);
        records
            .iter()
            .filter(move |record| {
                let at = record.init_time_gmt.instant();
                after < at && at < before
            })
            .map(|record| &record.record_uuid)
    }
}

/// The outcome of deleting one record of a last second: one that is gone already (404) was
/// listed a moment ago and deleted since, which is what was asked.
pub(crate) fn deleted(
    result: Result<record_api::Deletion, record_api::Error>,
) -> Result<(), record_api::Error> {
    match result {
        Err(error) if !error.is_not_found() => Err(error),
        _ => Ok(()),
    }
}

/// The plan that deletes `period`, and only it.
pub(crate) fn delete_plan(period: &Period) -> DeletePlan {
    let Some(until) = period.excluded_end() else {
        return DeletePlan {
            windows: list_windows(period),
            last_second: None,
        };
    };
    // `[start, until - 1 s]` whole, then the fractions of the last second one by one.
    let last_whole = until - TimeDelta::seconds(1);
    let windows = DateRange::new(period.start(), last_whole)
        .map(|range| range.windows().collect())
        .unwrap_or_default();
    let last_second = QueryWindow::new(last_whole, until)
        .ok()
        .map(|window| LastSecond {
            window,
            after: last_whole,
            before: until,
        });
    DeletePlan {
        windows,
        last_second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(count: u64, size: u64) -> WindowStats {
        WindowStats { count, size }
    }

    #[test]
    fn a_year_needs_eleven_windows_and_ten_overlap_points() {
        let year = DateRange::parse("2024-01-01 00:00:00", "2024-12-31 23:59:59").unwrap();
        let plan = stats_plan(&year.into());
        assert_eq!(plan.iter().filter(|(_, s)| *s == Sign::Add).count(), 11);
        let points: Vec<_> = plan.iter().filter(|(_, s)| *s == Sign::Subtract).collect();
        assert_eq!(points.len(), 10);
        assert_eq!(points[0].0.start_datetime(), "2024-02-29 23:59:59");
        assert_eq!(points[0].0.start(), points[0].0.end());
    }

    #[test]
    fn a_half_open_year_also_subtracts_its_excluded_end() {
        // No window that starts in November may reach January 1st: the year's last fractional
        // second needs a twelfth, one-second window.
        let plan = stats_plan(&Period::year(2024).unwrap());
        let added: Vec<_> = plan.iter().filter(|(_, s)| *s == Sign::Add).collect();
        assert_eq!(added.len(), 12);
        assert_eq!(added[11].0.start_datetime(), "2024-12-31 23:59:59");
        assert_eq!(added[11].0.end_datetime(), "2025-01-01 00:00:00");
        let points: Vec<_> = plan.iter().filter(|(_, s)| *s == Sign::Subtract).collect();
        assert_eq!(points.len(), 12);
        assert_eq!(points[11].0.start_datetime(), "2025-01-01 00:00:00");
        assert_eq!(plan[0].0.start_datetime(), "2024-01-01 00:00:00");
    }

    #[test]
    fn a_single_window_is_one_request() {
        let month = DateRange::parse("2024-03-01 00:00:00", "2024-03-31 23:59:59").unwrap();
        assert_eq!(stats_plan(&month.into()).len(), 1);
        // A calendar month asks up to the next month's first second and subtracts it.
        assert_eq!(stats_plan(&Period::month(2024, 3).unwrap()).len(), 2);
    }

    #[test]
    fn overlap_points_are_subtracted() {
        let total = combine([
            (Sign::Add, stats(5, 500)),
            (Sign::Subtract, stats(1, 100)),
            (Sign::Add, stats(3, 300)),
        ]);
        assert_eq!(total, stats(7, 700));
    }

    #[test]
    fn deleting_a_month_spares_the_next_months_first_second() {
        let plan = delete_plan(&Period::month(2024, 3).unwrap());
        assert_eq!(plan.windows.len(), 1);
        assert_eq!(plan.windows[0].end_datetime(), "2024-03-31 23:59:59");
        let last = plan.last_second.unwrap();
        assert_eq!(last.window.start_datetime(), "2024-03-31 23:59:59");
        assert_eq!(last.window.end_datetime(), "2024-04-01 00:00:00");
        let inclusive = DateRange::parse("2024-03-01 00:00:00", "2024-03-31 23:59:59").unwrap();
        let plan = delete_plan(&inclusive.into());
        assert_eq!(plan.windows.len(), 1);
        assert_eq!(plan.last_second, None);
    }
}
