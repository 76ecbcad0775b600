//! The number index: the digits of every number field of a record, reversed, one row per
//! distinct number in `record_number`, so that a number — whole, or its last digits — is
//! found by an index range instead of a scan of the catalog.
//!
//! `+7 (495) 123-45-67` has the digits `74951234567`, stored as `76543215947`; "ends with
//! 4567" is then "starts with 7654": the range `['7654', '7654:')` (`:` follows `9`).

use rusqlite::types::Value as Sql;
use rusqlite::{Transaction, params};
use telphin_records::Record;

use super::conditions::Conditions;

/// The columns of `record` that hold phone numbers (and their fields in [`Record`]).
pub(crate) const NUMBER_COLUMNS: [&str; 7] = [
    "from_username",
    "to_username",
    "source_number",
    "dest_number",
    "did_number",
    "ani_number",
    "ext_number_reg",
];

/// The fewest digits that also find numbers ending with them.
pub(crate) const SUFFIX_FROM: usize = 4;

/// The digits of `text`, last first; `None` without a digit.
pub(crate) fn reversed_digits(text: &str) -> Option<String> {
    let reversed: String = text.chars().rev().filter(char::is_ascii_digit).collect();
    (!reversed.is_empty()).then_some(reversed)
}

/// The distinct reversed digits of a record's number fields.
fn numbers_of<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> Vec<String> {
    let mut numbers: Vec<String> = fields
        .into_iter()
        .flatten()
        .filter_map(reversed_digits)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// The number fields of a record, in [`NUMBER_COLUMNS`]' order.
fn fields_of(record: &Record) -> [Option<&str>; 7] {
    [
        record.from_username.as_deref(),
        record.to_username.as_deref(),
        record.source_number.as_deref(),
        record.dest_number.as_deref(),
        record.did_number.as_deref(),
        record.ani_number.as_ref().and_then(Option::as_deref),
        record.ext_number_reg.as_deref(),
    ]
}

/// The reversed digits of a row's number columns (`values`, in [`NUMBER_COLUMNS`]' order).
fn numbers_of_row(values: impl IntoIterator<Item = Option<Sql>>) -> Vec<String> {
    let fields: Vec<Option<String>> = values
        .into_iter()
        .map(|value| match value {
            Some(Sql::Text(text)) => Some(text),
            // A number the API sent as a JSON number reads back as one.
            Some(Sql::Integer(n)) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    numbers_of(fields.iter().map(Option::as_deref))
}

/// Removes the index rows of the record `uuid` as the catalog has it now (before it is
/// listed again, or erased). Rows are found by their key, from the record's own numbers: no
/// second index is kept for this.
pub(crate) fn forget(transaction: &Transaction<'_>, uuid: &str) -> rusqlite::Result<()> {
    let sql = format!(
        "SELECT init_time_us, {} FROM record WHERE record_uuid = ?1",
        NUMBER_COLUMNS.join(", ")
    );
    let mut select = transaction.prepare_cached(&sql)?;
    let mut rows = select.query([uuid])?;
    let Some(row) = rows.next()? else {
        return Ok(());
    };
    let time: i64 = row.get(0)?;
    let mut values = Vec::with_capacity(NUMBER_COLUMNS.len());
    for column in 0..NUMBER_COLUMNS.len() {
        values.push(row.get::<_, Option<Sql>>(column + 1)?);
    }
    let mut delete = transaction.prepare_cached(
        "DELETE FROM record_number WHERE digits_reversed = ?1 AND init_time_us = ?2 \
         AND record_uuid = ?3",
    )?;
    for number in numbers_of_row(values) {
        delete.execute(params![number, time, uuid])?;
    }
    Ok(())
}

fn insert(
    transaction: &Transaction<'_>,
    uuid: &str,
    init_time_us: i64,
    numbers: &[String],
) -> rusqlite::Result<()> {
    let mut insert = transaction.prepare_cached(
        "INSERT OR IGNORE INTO record_number (digits_reversed, init_time_us, record_uuid) \
         VALUES (?1, ?2, ?3)",
    )?;
    for number in numbers {
        insert.execute(params![number, init_time_us, uuid])?;
    }
    Ok(())
}

/// Indexes the numbers of `record` (after [`forget`] and the write of its row).
pub(crate) fn index_record(transaction: &Transaction<'_>, record: &Record) -> rusqlite::Result<()> {
    insert(
        transaction,
        record.record_uuid.as_ref(),
        record.init_time_gmt.instant().timestamp_micros(),
        &numbers_of(fields_of(record)),
    )
}

/// Indexes every record of a catalog written before the index existed (the migration to
/// schema 2), reading the number columns the rows already have.
pub(crate) fn index_all(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    let sql = format!(
        "SELECT record_uuid, init_time_us, {} FROM record",
        NUMBER_COLUMNS.join(", ")
    );
    let mut select = transaction.prepare(&sql)?;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        let uuid: String = row.get(0)?;
        let time: i64 = row.get(1)?;
        let mut values = Vec::with_capacity(NUMBER_COLUMNS.len());
        for column in 0..NUMBER_COLUMNS.len() {
            values.push(row.get::<_, Option<Sql>>(column + 2)?);
        }
        insert(transaction, &uuid, time, &numbers_of_row(values))?;
    }
    Ok(())
}

/// The fewest digits of a number that names a person (erasure, holds): shorter ones are
/// extensions or parts of numbers, which would match other people's calls.
pub(crate) const PERSON_DIGITS: usize = 7;

/// The digits that name a subscriber whatever the country or trunk prefix written before
/// them (`+7 495 …` and `8 495 …` are one number).
pub(crate) const SUBSCRIBER_DIGITS: usize = 10;

/// A person's number as erasure and holds match it: the calls where a number field has the
/// same digits, or — for a number of 10 digits or more — ends with the same last 10 digits.
/// As a range of `record_number`'s reversed digits: `[from, until)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PersonNumber {
    pub(crate) from: String,
    pub(crate) until: String,
    /// The digits that are matched (the last 10, or all), for the keyed hash: `+7 495 …`
    /// and `8 495 …` hash alike.
    pub(crate) digits: String,
}

impl PersonNumber {
    /// `Err` names why `text` does not name one person's number.
    pub(crate) fn parse(text: &str) -> Result<PersonNumber, String> {
        let reversed = reversed_digits(text).unwrap_or_default();
        if reversed.len() < PERSON_DIGITS {
            return Err(format!(
                "{text:?} has {} digits; a person's number has at least {PERSON_DIGITS} \
                 (a shorter one is an extension or a part of a number, and would match \
                 other people's calls)",
                reversed.len()
            ));
        }
        Ok(if reversed.len() >= SUBSCRIBER_DIGITS {
            let subscriber = &reversed[..SUBSCRIBER_DIGITS];
            PersonNumber {
                from: subscriber.to_owned(),
                until: format!("{subscriber}:"),
                digits: subscriber.chars().rev().collect(),
            }
        } else {
            // Only this number: every other string of digits that starts with it is at or
            // after `{reversed}0`.
            PersonNumber {
                until: format!("{reversed}0"),
                digits: reversed.chars().rev().collect(),
                from: reversed,
            }
        })
    }
}

/// A number to search for: its digits, last first, and whether numbers ending with it match
/// too (4 digits or more).
#[derive(Debug, Clone)]
pub(crate) struct Wanted {
    reversed: String,
    suffix: bool,
}

impl Wanted {
    /// `Err` when `text` has no digit.
    pub(crate) fn parse(text: &str) -> Result<Wanted, String> {
        let reversed = reversed_digits(text)
            .ok_or_else(|| format!("a number to search for must contain digits: {text:?}"))?;
        Ok(Wanted {
            suffix: reversed.len() >= SUFFIX_FROM,
            reversed,
        })
    }

    /// The condition on `record_number`'s rows.
    pub(crate) fn on_rows(&self, conditions: &mut Conditions) {
        if self.suffix {
            conditions.push(
                "digits_reversed >= ? AND digits_reversed < ?",
                [
                    Sql::Text(self.reversed.clone()),
                    Sql::Text(format!("{}:", self.reversed)),
                ],
            );
        } else {
            conditions.push("digits_reversed = ?", [Sql::Text(self.reversed.clone())]);
        }
    }

    /// The condition on `record`'s rows, evaluated row by row (for a number found in so many
    /// calls that walking the calls in time order fills a page sooner than the index would).
    pub(crate) fn on_record(&self, conditions: &mut Conditions) {
        let any = NUMBER_COLUMNS
            .iter()
            .map(|column| format!("number_matches({column}, ?, ?)"))
            .collect::<Vec<_>>()
            .join(" OR ");
        conditions.push(
            &format!("({any})"),
            NUMBER_COLUMNS.iter().flat_map(|_| {
                [
                    Sql::Text(self.reversed.clone()),
                    Sql::Integer(i64::from(self.suffix)),
                ]
            }),
        );
    }
}

/// `number_matches(field, wanted_reversed, suffix)`: whether the field's digits are the
/// wanted ones, or (with `suffix`) end with them — the same test as the index's, row by row.
pub(crate) fn register_functions(connection: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    connection.create_scalar_function(
        "number_matches",
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            let field = match context.get::<Option<Sql>>(0)? {
                Some(Sql::Text(text)) => text,
                Some(Sql::Integer(n)) => n.to_string(),
                _ => return Ok(false),
            };
            let wanted: String = context.get(1)?;
            let suffix: bool = context.get(2)?;
            let Some(digits) = reversed_digits(&field) else {
                return Ok(false);
            };
            Ok(digits == wanted || (suffix && digits.starts_with(&wanted)))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_number_matches_its_subscriber_digits_or_itself() {
        let long = PersonNumber::parse("+7 (495) 123-45-67").unwrap();
        let trunk = PersonNumber::parse("8 495 123 45 67").unwrap();
        assert_eq!(
            (long.from.as_str(), long.until.as_str()),
            ("7654321594", "7654321594:")
        );
        assert_eq!(long.from, trunk.from);
        let inside = |n: &PersonNumber, digits: &str| {
            let reversed = reversed_digits(digits).unwrap();
            reversed >= n.from && reversed < n.until
        };
        assert!(inside(&long, "84951234567") && inside(&long, "4951234567"));
        assert!(!inside(&long, "4951234568") && !inside(&long, "951234567"));
        let short = PersonNumber::parse("1234567").unwrap();
        assert!(inside(&short, "1234567"));
        assert!(!inside(&short, "91234567") && !inside(&short, "123456"));
        assert!(
            PersonNumber::parse("101")
                .unwrap_err()
                .contains("at least 7")
        );
        assert!(PersonNumber::parse("sip:alice").is_err());
    }

    #[test]
    fn numbers_are_their_digits_last_first_once_each() {
        assert_eq!(
            reversed_digits("+7 (495) 123-45-67").as_deref(),
            Some("76543215947")
        );
        assert_eq!(reversed_digits("sip:alice@pbx"), None);
        assert_eq!(
            numbers_of([
                Some("+7 495 1234567"),
                None,
                Some("74951234567"),
                Some("101")
            ]),
            vec!["101".to_owned(), "76543215947".to_owned()]
        );
    }
}
