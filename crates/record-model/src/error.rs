//! Validation errors of the model layer.

use thiserror::Error;

/// Input that the Telphin API would refuse, caught before any request is sent.
///
/// Every message says what was expected, so that it can be shown to the person who typed the
/// value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A record id that is not `<digits>-<hex digits>`.
    #[error(
        "invalid record_uuid {value:?}: expected decimal digits, a '-', then hexadecimal digits, \
         e.g. \"30-624835FEEE0E11E6A19D331E4D6A0606\""
    )]
    RecordUuid {
        /// The rejected text.
        value: String,
    },
    /// A client id that is neither a number nor `@me`.
    #[error("invalid client id {value:?}: expected a decimal number or \"@me\"")]
    ClientId {
        /// The rejected text.
        value: String,
    },
    /// An extension or extension-group id that is not a number.
    #[error("invalid {kind} id {value:?}: expected a decimal number")]
    NumericId {
        /// Which id: `extension` or `extension group`.
        kind: &'static str,
        /// The rejected text.
        value: String,
    },
    /// A time that is not `YYYY-MM-DD HH:MM:SS` with an optional fraction.
    #[error(
        "invalid time {value:?}: expected \"YYYY-MM-DD HH:MM:SS\" in UTC, optionally followed by \
         '.' or ',' and 1 to 9 digits ({reason})"
    )]
    WireTime {
        /// The rejected text.
        value: String,
        /// What exactly is wrong with it.
        reason: &'static str,
    },
    /// A bound with a fraction of a second: the API's query format has whole seconds only.
    #[error(
        "the {bound} bound {value} has a fraction of a second; the API takes whole seconds only \
         (truncate it, e.g. with chrono's `with_nanosecond(0)`)"
    )]
    SubSecondBound {
        /// `start` or `end`.
        bound: &'static str,
        /// The rejected instant, formatted in UTC.
        value: String,
    },
    /// A range whose start is after its end.
    #[error("the range starts at {start} but ends earlier, at {end}; swap the bounds")]
    RangeReversed {
        /// The start, as `YYYY-MM-DD HH:MM:SS`.
        start: String,
        /// The end, as `YYYY-MM-DD HH:MM:SS`.
        end: String,
    },
    /// A window longer than the API accepts in one request (spec §2.1).
    #[error(
        "a query window starting at {start} may end at {latest_end} at the latest (the last day of \
         the following month), but it ends at {end}; use a DateRange, whose windows() split longer \
         periods"
    )]
    WindowTooLong {
        /// The start, as `YYYY-MM-DD HH:MM:SS`.
        start: String,
        /// The rejected end, as `YYYY-MM-DD HH:MM:SS`.
        end: String,
        /// The latest end the API accepts for this start, as `YYYY-MM-DD HH:MM:SS`.
        latest_end: String,
    },
    /// An e-mail address the archive endpoint cannot take.
    #[error(
        "invalid e-mail address {value:?}: expected one address like \"name@example.org\", \
         without spaces or commas"
    )]
    Email {
        /// The rejected text.
        value: String,
    },
    /// An archive request without any e-mail address.
    #[error("an archive request needs at least one e-mail address to send the link to")]
    NoEmail,
    /// A month that is not `YYYY-MM`.
    #[error("invalid month {value:?}: expected \"YYYY-MM\", e.g. \"2024-10\"")]
    YearMonth {
        /// The rejected text.
        value: String,
    },
    /// A half-open period `[from, until)` whose bounds are equal: it holds no instant.
    #[error("the period [{at}, {at}) is empty; `until` must be later than `from`")]
    EmptyPeriod {
        /// The bound, as `YYYY-MM-DD HH:MM:SS`.
        at: String,
    },
}

/// The most characters of a rejected value that an error keeps and quotes.
pub const QUOTE_LIMIT: usize = 64;

/// At most [`QUOTE_LIMIT`] characters of `text`, with `…` and the full length when cut, so that
/// a huge input never makes a huge error message.
pub fn quote_prefix(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}
