//! Long periods as sequences of requests: which windows to ask, and how to combine the answers.

use record_model::{DateRange, QueryWindow, WindowStats};

/// Whether a window's statistics are added or subtracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    Add,
    Subtract,
}

/// The statistics requests that give exact totals for `range`: every covering window, minus
/// each one-second overlap point `[end, end]` that two consecutive windows both counted.
pub(crate) fn stats_plan(range: &DateRange) -> Vec<(QueryWindow, Sign)> {
    let windows: Vec<QueryWindow> = range.windows().collect();
    let mut plan = Vec::with_capacity(windows.len() * 2);
    for (i, window) in windows.iter().enumerate() {
        plan.push((*window, Sign::Add));
        if i + 1 < windows.len() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_needs_eleven_windows_and_ten_overlap_points() {
        let year = DateRange::parse("2024-01-01 00:00:00", "2024-12-31 23:59:59").unwrap();
        let plan = stats_plan(&year);
        assert_eq!(plan.iter().filter(|(_, s)| *s == Sign::Add).count(), 11);
        let points: Vec<_> = plan.iter().filter(|(_, s)| *s == Sign::Subtract).collect();
        assert_eq!(points.len(), 10);
        assert_eq!(points[0].0.start_datetime(), "2024-02-29 23:59:59");
        assert_eq!(points[0].0.start(), points[0].0.end());
    }

    #[test]
    fn a_single_window_is_one_request() {
        let month = DateRange::parse("2024-03-01 00:00:00", "2024-03-31 23:59:59").unwrap();
        assert_eq!(stats_plan(&month).len(), 1);
    }

    #[test]
    fn overlap_points_are_subtracted() {
        let total = combine([
            (
                Sign::Add,
                WindowStats {
                    count: 5,
                    size: 500,
                },
            ),
            (
                Sign::Subtract,
                WindowStats {
                    count: 1,
                    size: 100,
                },
            ),
            (
                Sign::Add,
                WindowStats {
                    count: 3,
                    size: 300,
                },
            ),
        ]);
        assert_eq!(
            total,
            WindowStats {
                count: 7,
                size: 700
            }
        );
    }
}
