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

/// Replaces the index rows of one record (inside the caller's transaction).
fn index(
    transaction: &Transaction<'_>,
    uuid: &str,
    init_time_us: i64,
    numbers: &[String],
) -> rusqlite::Result<()> {
    transaction
        .prepare_cached("DELETE FROM record_number WHERE record_uuid = ?1")?
        .execute([uuid])?;
    let mut insert = transaction.prepare_cached(
        "INSERT INTO record_number (digits_reversed, init_time_us, record_uuid) \
         VALUES (?1, ?2, ?3)",
    )?;
    for number in numbers {
        insert.execute(params![number, init_time_us, uuid])?;
    }
    Ok(())
}

/// Indexes the numbers of `record` (listed or restored), replacing what it had.
pub(crate) fn index_record(transaction: &Transaction<'_>, record: &Record) -> rusqlite::Result<()> {
    index(
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
        let mut fields = Vec::with_capacity(NUMBER_COLUMNS.len());
        for column in 0..NUMBER_COLUMNS.len() {
            // A number the API sent as a JSON number reads back as one.
            let field: Option<rusqlite::types::Value> = row.get(column + 2)?;
            fields.push(match field {
                Some(Sql::Text(text)) => Some(text),
                Some(Sql::Integer(n)) => Some(n.to_string()),
                _ => None,
            });
        }
        let numbers = numbers_of(fields.iter().map(Option::as_deref));
        index(transaction, &uuid, time, &numbers)?;
    }
    Ok(())
}

/// The condition "one of the record's numbers is `wanted`, or ends with it" (4 digits or
/// more) on `record_number`, with the rows' time conditions `on_number` (period, keyset).
/// `Err` when `wanted` has no digit.
pub(crate) fn matching(wanted: &str, on_number: Conditions) -> Result<Conditions, String> {
    let Some(reversed) = reversed_digits(wanted) else {
        return Err(format!(
            "a number to search for must contain digits: {wanted:?}"
        ));
    };
    let mut inner = on_number;
    if reversed.len() >= SUFFIX_FROM {
        let upper = format!("{reversed}:");
        inner.push(
            "digits_reversed >= ? AND digits_reversed < ?",
            [Sql::Text(reversed), Sql::Text(upper)],
        );
    } else {
        inner.push("digits_reversed = ?", [Sql::Text(reversed)]);
    }
    let mut outer = Conditions::default();
    outer.push(
        &format!(
            "record_uuid IN (SELECT record_uuid FROM record_number WHERE {})",
            inner.clause()
        ),
        inner.params,
    );
    Ok(outer)
}

#[cfg(test)]
mod tests {
    use super::*;

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
