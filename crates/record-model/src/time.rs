//! The wire time: the one place that reads and writes the API's time format.
//!
//! The API writes times as `YYYY-MM-DD HH:MM:SS` in UTC without a zone marker. `init_time_gmt`
//! carries a fraction of a second after `.`, and a sister resource uses `,`; both are accepted
//! with 1 to 9 digits. Query bounds are written with whole seconds.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// A UTC instant as the API writes it, remembering how its fraction was written.
///
/// Parsing and formatting again gives back the same text, so records re-encode losslessly.
/// Comparison orders by instant first.
///
/// ```
/// use record_model::WireTime;
///
/// let t: WireTime = "2021-01-01 00:00:05.98".parse()?;
/// assert_eq!(t.instant().timestamp_subsec_millis(), 980);
/// assert_eq!(t.to_string(), "2021-01-01 00:00:05.98");
/// # Ok::<(), record_model::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WireTime {
    instant: DateTime<Utc>,
    fraction: Option<Fraction>,
}

/// How a fraction of a second was written: its separator and number of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Fraction {
    separator: char,
    digits: u8,
}

impl WireTime {
    /// The instant, in UTC.
    pub fn instant(&self) -> DateTime<Utc> {
        self.instant
    }

    /// A wire time written with whole seconds; any fraction of `instant` is dropped.
    ///
    /// Fails for years outside 0000–9999, which the wire format cannot write.
    pub fn from_instant(instant: DateTime<Utc>) -> Result<Self, ValidationError> {
        check_wire_year(instant)?;
        Ok(WireTime {
            instant: instant.trunc_subsecs(0),
            fraction: None,
        })
    }

    /// Parses `YYYY-MM-DD HH:MM:SS`, optionally followed by `.` or `,` and 1 to 9 digits.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        WireTime::parse_bytes(text.as_bytes())
    }

    /// [`WireTime::parse`] on the bytes of a string, which need not be UTF-8 (they fail then).
    fn parse_bytes(bytes: &[u8]) -> Result<Self, ValidationError> {
        let fail = |reason| ValidationError::WireTime {
            value: crate::error::quote_prefix(&String::from_utf8_lossy(bytes)),
            reason,
        };
        if bytes.len() < 19 {
            return Err(fail("too short"));
        }
        let (whole, rest) = bytes.split_at(19);
        let shape_ok = whole.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
        if !shape_ok {
            return Err(fail(
                "the date and time are not laid out as YYYY-MM-DD HH:MM:SS",
            ));
        }
        let number = |range: std::ops::Range<usize>| {
            whole[range]
                .iter()
                .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
        };
        let date = NaiveDate::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
            .ok_or_else(|| fail("no such calendar date"))?;
        let (nanos, fraction) = match rest {
            [] => (0, None),
            [separator @ (b'.' | b','), digits @ ..] => {
                if digits.is_empty() || digits.len() > 9 {
                    return Err(fail("the fraction must have 1 to 9 digits"));
                }
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(fail("the fraction must be digits only"));
                }
                let value = digits
                    .iter()
                    .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
                let scale = 10u32.pow(9 - digits.len() as u32);
                let fraction = Fraction {
                    separator: char::from(*separator),
                    digits: digits.len() as u8,
                };
                (value * scale, Some(fraction))
            }
            _ => return Err(fail("unexpected text after the seconds")),
        };
        let time = chrono::NaiveTime::from_hms_nano_opt(
            number(11..13),
            number(14..16),
            number(17..19),
            nanos,
        )
        .ok_or_else(|| fail("no such time of day"))?;
        Ok(WireTime {
            instant: date.and_time(time).and_utc(),
            fraction,
        })
    }
}

impl Ord for WireTime {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant
            .cmp(&other.instant)
            .then_with(|| self.fraction.cmp(&other.fraction))
    }
}

impl PartialOrd for WireTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for WireTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_whole_seconds(self.instant))?;
        if let Some(fraction) = self.fraction {
            let digits = u32::from(fraction.digits);
            let value = self.instant.nanosecond() / 10u32.pow(9 - digits);
            write!(
                f,
                "{}{:0width$}",
                fraction.separator,
                value,
                width = digits as usize
            )?;
        }
        Ok(())
    }
}

impl FromStr for WireTime {
    type Err = ValidationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        WireTime::parse(text)
    }
}

impl From<WireTime> for DateTime<Utc> {
    fn from(time: WireTime) -> Self {
        time.instant
    }
}

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for WireTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = crate::text::bytes(deserializer)?;
        WireTime::parse_bytes(&raw).map_err(serde::de::Error::custom)
    }
}

/// Formats an instant as a query bound: `YYYY-MM-DD HH:MM:SS`, UTC, fraction dropped.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let t = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap();
/// assert_eq!(record_model::format_query_time(t), "2024-02-29 23:59:59");
/// ```
pub fn format_query_time(instant: DateTime<Utc>) -> String {
    format_whole_seconds(instant)
}

/// Fails for instants whose year has other than four digits: the wire format cannot write them.
pub(crate) fn check_wire_year(instant: DateTime<Utc>) -> Result<(), ValidationError> {
    if (0..=9999).contains(&instant.year()) {
        Ok(())
    } else {
        Err(ValidationError::WireTime {
            value: instant.to_rfc3339(),
            reason: "the year must have four digits (0000 to 9999)",
        })
    }
}

fn format_whole_seconds(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%d %H:%M:%S").to_string()
}
