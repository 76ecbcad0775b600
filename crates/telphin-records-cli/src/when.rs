//! Periods and instants as people write them, read in the `--tz` time zone.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use telphin_records::{Period, chrono};

use crate::cli::PeriodArgs;
use crate::exit::Failure;

/// The period of the flags, if one was given.
pub fn period(args: &PeriodArgs, tz: Tz) -> Result<Option<Period>, Failure> {
    let (from, until) = if let Some(day) = &args.day {
        let day = date(day)?;
        (day, day.succ_opt().ok_or_else(|| bad(day))?)
    } else if let Some(month) = &args.month {
        let first = date(&format!("{month}-01")).map_err(|_| {
            let why = match month.split_once('-').map(|(_, m)| m.parse::<u32>()) {
                Some(Ok(number)) if !(1..=12).contains(&number) => {
                    format!("there is no month {number}")
                }
                _ => "write it as YYYY-MM, e.g. 2024-03".to_owned(),
            };
            Failure::usage(format!("--month {month}: {why}"))
        })?;
        (
            first,
            first
                .checked_add_months(chrono::Months::new(1))
                .ok_or_else(|| bad(first))?,
        )
    } else if let Some(year) = args.year {
        let first = NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| Failure::usage(format!("--year {year} is not a year")))?;
        (first, first.with_year(year + 1).ok_or_else(|| bad(first))?)
    } else if let (Some(from), Some(until)) = (&args.from, &args.until) {
        let period = Period::between(instant(from, tz)?, instant(until, tz)?)?;
        return Ok(Some(period));
    } else {
        return Ok(None);
    };
    Ok(Some(Period::local_days(from, until, &tz)?))
}

/// The period of the flags; one is required.
pub fn required(args: &PeriodArgs, tz: Tz) -> Result<Period, Failure> {
    period(args, tz)?.ok_or_else(|| {
        Failure::usage(
            "give a period: --day DATE, --month YYYY-MM, --year YYYY, or --from and --until",
        )
    })
}

/// `--older-than`: an age (`180d`, `12w`, `36h`) before now, or a date in `tz`.
pub fn cutoff(text: &str, tz: Tz, now: DateTime<Utc>) -> Result<DateTime<Utc>, Failure> {
    let unit = text.chars().last().unwrap_or(' ');
    if let Some(number) = text.strip_suffix(['d', 'w', 'h'])
        && let Ok(n) = number.parse::<i64>()
    {
        let age = match unit {
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => Duration::try_hours(n),
        };
        return age
            .filter(|age| *age > Duration::zero())
            .and_then(|age| now.checked_sub_signed(age))
            .ok_or_else(|| {
                Failure::usage(format!("--older-than {text}: an age must be positive"))
            });
    }
    instant(text, tz).map_err(|_| {
        Failure::usage(format!(
            "--older-than {text}: write an age (180d, 12w, 36h) or a date (2024-04-01)"
        ))
    })
}

fn date(text: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Failure::usage(format!("{text:?} is not a date (YYYY-MM-DD)")))
}

/// A date (the start of that day, [`Period::local_day_start`]) or a date and time, in `tz`.
pub fn instant(text: &str, tz: Tz) -> Result<DateTime<Utc>, Failure> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"));
    match naive {
        Ok(naive) => local(naive, tz),
        Err(_) => {
            let day = date(text).map_err(|_| {
                Failure::usage(format!(
                    "{text:?} is not a date or time (2024-03-05 or \"2024-03-05 08:00:00\")"
                ))
            })?;
            Period::local_day_start(day, &tz).ok_or_else(|| bad(day))
        }
    }
}

/// `naive` in `tz`; in a clock change's repeated hour, the earlier reading.
fn local(naive: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, Failure> {
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| Failure::usage(format!("{naive} does not exist in {tz}")))
}

fn bad(day: NaiveDate) -> Failure {
    Failure::usage(format!("{day} is out of range"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(f: impl FnOnce(&mut PeriodArgs)) -> PeriodArgs {
        let mut args = PeriodArgs::default();
        f(&mut args);
        args
    }

    #[test]
    fn periods_are_read_in_the_time_zone() {
        let moscow: Tz = "Europe/Moscow".parse().unwrap();
        let march = period(&args(|a| a.month = Some("2024-03".into())), moscow)
            .unwrap()
            .unwrap();
        assert_eq!(march.start().to_rfc3339(), "2024-02-29T21:00:00+00:00");
        assert_eq!(march.end().to_rfc3339(), "2024-03-31T21:00:00+00:00");
        let day = period(&args(|a| a.day = Some("2024-03-05".into())), Tz::UTC)
            .unwrap()
            .unwrap();
        assert_eq!(day.start().to_rfc3339(), "2024-03-05T00:00:00+00:00");
        let year = required(&args(|a| a.year = Some(2024)), Tz::UTC).unwrap();
        assert_eq!(year.end().to_rfc3339(), "2025-01-01T00:00:00+00:00");
        let span = args(|a| {
            a.from = Some("2024-03-05 08:00:00".into());
            a.until = Some("2024-03-06".into());
        });
        let span = required(&span, Tz::UTC).unwrap();
        assert_eq!(span.start().to_rfc3339(), "2024-03-05T08:00:00+00:00");
        assert!(required(&PeriodArgs::default(), Tz::UTC).is_err());
        assert!(period(&args(|a| a.month = Some("2024-13".into())), Tz::UTC).is_err());
    }

    #[test]
    fn a_day_whose_midnight_the_clocks_skip_starts_when_they_jump() {
        // Havana skips 2024-03-10 00:00 (to 01:00) and repeats 2023-11-05 00:00.
        let havana: Tz = "America/Havana".parse().unwrap();
        let skipped = period(&args(|a| a.day = Some("2024-03-10".into())), havana)
            .unwrap()
            .unwrap();
        assert_eq!(skipped.start().to_rfc3339(), "2024-03-10T05:00:00+00:00");
        assert_eq!(skipped.end().to_rfc3339(), "2024-03-11T04:00:00+00:00");
        let from = instant("2024-03-10", havana).unwrap();
        assert_eq!(from, skipped.start(), "--from DATE: the same start");
        let repeated = period(&args(|a| a.day = Some("2023-11-05".into())), havana)
            .unwrap()
            .unwrap();
        assert_eq!(repeated.start().to_rfc3339(), "2023-11-05T04:00:00+00:00");
        assert_eq!((repeated.end() - repeated.start()).num_hours(), 25);
    }

    #[test]
    fn cutoffs_are_ages_or_dates() {
        let now = Utc.with_ymd_and_hms(2024, 12, 31, 12, 0, 0).unwrap();
        assert_eq!(
            cutoff("180d", Tz::UTC, now).unwrap(),
            now - Duration::days(180)
        );
        assert_eq!(
            cutoff("2w", Tz::UTC, now).unwrap(),
            now - Duration::weeks(2)
        );
        assert_eq!(
            cutoff("36h", Tz::UTC, now).unwrap(),
            now - Duration::hours(36)
        );
        assert_eq!(
            cutoff("2024-04-01", Tz::UTC, now).unwrap(),
            Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap()
        );
        for wrong in ["0d", "-3d", "soon", "180", "99999999999999d"] {
            assert!(cutoff(wrong, Tz::UTC, now).is_err(), "{wrong}");
        }
    }
}
