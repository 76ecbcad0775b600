//! Rules of the model layer, checked on generated input against independent oracles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use record_model::{DateRange, Order, QueryWindow, Record, RecordUuid, WireTime, merge_records};

/// 2000-01-01 00:00:00 and 2100-12-31 23:59:59 as Unix seconds.
const Y2000: i64 = 946_684_800;
const Y2100_END: i64 = 4_133_980_799;

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().expect("in range")
}

fn instant_2000_2100() -> impl Strategy<Value = DateTime<Utc>> {
    (Y2000..=Y2100_END).prop_map(at)
}

/// The oracle of spec §2.1, by calendar arithmetic: the last day of the month after `start`'s
/// month, at 23:59:59, found by counting days rather than by the library's month arithmetic.
fn oracle_latest_end(start: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if start.month() == 12 {
        (start.year() + 1, 1)
    } else {
        (start.year(), start.month() + 1)
    };
    let last_day = (28..=31)
        .rev()
        .find(|day| NaiveDate::from_ymd_opt(year, month, *day).is_some())
        .expect("every month has 28 days");
    Utc.with_ymd_and_hms(year, month, last_day, 23, 59, 59)
        .single()
        .expect("valid date")
}

fn oracle_accepts(start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    start <= end && end <= oracle_latest_end(start)
}

fn sample_record() -> Record {
    serde_json::from_str(include_str!("fixtures/full_record.json")).expect("fixture decodes")
}

proptest! {
    /// a) `QueryWindow::new` accepts exactly the windows that satisfy the rule.
    #[test]
    fn query_window_accepts_exactly_the_rule(
        start in instant_2000_2100(),
        offset in -2 * 86_400i64..=64 * 86_400,
    ) {
        let end = start + Duration::seconds(offset);
        let accepted = QueryWindow::new(start, end);
        prop_assert_eq!(accepted.is_ok(), oracle_accepts(start, end), "{} .. {}", start, end);
    }

    /// a) ... including the very edge: the latest allowed end and one second after it.
    #[test]
    fn query_window_edge_is_the_last_day_of_the_next_month(start in instant_2000_2100()) {
        let latest = oracle_latest_end(start);
        prop_assert!(QueryWindow::new(start, latest).is_ok());
        let err = QueryWindow::new(start, latest + Duration::seconds(1)).unwrap_err();
        let latest_text = latest.format("%Y-%m-%d %H:%M:%S").to_string();
        prop_assert!(err.to_string().contains(&latest_text), "{}", err);
    }

    /// b) `windows()` are valid, chained with a one-second overlap, cover the range exactly,
    /// and none could be longer.
    #[test]
    fn windows_cover_the_range(a in instant_2000_2100(), b in instant_2000_2100()) {
        let (start, end) = if a <= b { (a, b) } else { (b, a) };
        let range = DateRange::new(start, end).unwrap();
        let windows: Vec<QueryWindow> = range.windows().collect();
        prop_assert!(!windows.is_empty());
        prop_assert_eq!(windows[0].start(), start);
        prop_assert_eq!(windows[windows.len() - 1].end(), end);
        for pair in windows.windows(2) {
            prop_assert_eq!(pair[1].start(), pair[0].end(), "windows must overlap by one second");
            prop_assert!(pair[0].start() < pair[0].end(), "windows must advance");
        }
        for (i, window) in windows.iter().enumerate() {
            prop_assert!(oracle_accepts(window.start(), window.end()));
            prop_assert!(QueryWindow::new(window.start(), window.end()).is_ok());
            let is_last = i + 1 == windows.len();
            if !is_last {
                prop_assert_eq!(window.end(), oracle_latest_end(window.start()), "not maximal");
            }
        }
    }

    /// c) Formatting then parsing a whole-second instant gives it back.
    #[test]
    fn wire_time_format_parse_identity(seconds in -62_167_219_200i64..=253_402_300_799) {
        let instant = at(seconds);
        let text = record_model::format_query_time(instant);
        let parsed = WireTime::parse(&text).unwrap();
        prop_assert_eq!(parsed.instant(), instant);
        prop_assert_eq!(parsed.to_string(), text.clone());
        prop_assert_eq!(WireTime::from_instant(instant).unwrap().to_string(), text);
    }

    /// c) Parsing accepts any fraction of 1 to 9 digits after `.` or `,`, exactly.
    #[test]
    fn wire_time_parses_any_fraction(
        seconds in Y2000..=Y2100_END,
        digits in "[0-9]{1,9}",
        separator in prop::sample::select(vec!['.', ',']),
    ) {
        let whole = record_model::format_query_time(at(seconds));
        let text = format!("{whole}{separator}{digits}");
        let parsed = WireTime::parse(&text).unwrap();
        let padded = format!("{digits:0<9}");
        prop_assert_eq!(parsed.instant().timestamp(), seconds);
        prop_assert_eq!(parsed.instant().timestamp_subsec_nanos(), padded.parse::<u32>().unwrap());
        prop_assert_eq!(parsed.to_string(), text);
    }

    /// c) Nothing else parses as a wire time, and nothing panics.
    #[test]
    fn wire_time_never_panics(text in "\\PC{0,40}") {
        let _ = WireTime::parse(&text);
    }

    /// d) Decoding arbitrary text as a record list never panics.
    #[test]
    fn record_list_decoding_never_panics(text in "\\PC{0,200}") {
        let _ = serde_json::from_str::<Vec<Record>>(&text);
    }

    /// d) ... nor does decoding a real record with one field replaced by arbitrary JSON.
    #[test]
    fn record_decoding_with_a_mangled_field_never_panics(
        field in 0usize..32,
        replacement in arbitrary_json(),
    ) {
        let mut value = serde_json::to_value(sample_record()).unwrap();
        let object = value.as_object_mut().unwrap();
        let name = object.keys().nth(field % object.len()).unwrap().clone();
        object.insert(name, replacement);
        let _ = serde_json::from_value::<Vec<Record>>(serde_json::Value::Array(vec![value]));
    }

    /// d) A record decodes to the same value whatever the order of its keys, with unknown keys
    /// anywhere among them (the decoder guesses each key from the one before), and the
    /// undocumented fields and unknown keys keep any JSON value: the round trip is lossless,
    /// from text and from a `Value`.
    #[test]
    fn record_decoding_does_not_depend_on_key_order_and_keeps_any_value(
        order in Just((0..32usize).collect::<Vec<_>>()).prop_shuffle(),
        unknown in prop::collection::vec(("x_[a-z_]{1,12}", arbitrary_json(), any::<prop::sample::Index>()), 0..4),
        file_name in arbitrary_json(),
        record_transfer in arbitrary_json(),
    ) {
        let mut expected = serde_json::to_value(sample_record()).unwrap();
        let object = expected.as_object_mut().unwrap();
        object.insert("file_name".to_owned(), file_name);
        object.insert("record_transfer".to_owned(), record_transfer);
        let documented: Vec<(String, serde_json::Value)> =
            object.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(documented.len(), 32);
        let mut entries: Vec<(String, serde_json::Value)> =
            order.iter().map(|i| documented[*i].clone()).collect();
        for (name, value, at) in unknown {
            let at = at.index(entries.len() + 1);
            object.insert(name.clone(), value.clone());
            entries.retain(|(key, _)| *key != name);
            entries.insert(at.min(entries.len()), (name, value));
        }
        let text = format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(key, value)| format!("{}:{}", serde_json::to_string(key).unwrap(), value))
                .collect::<Vec<_>>()
                .join(",")
        );
        // Compared with decodings of the same text: serde_json may read a float one unit in
        // the last place away from the `Value` it was written from.
        let from_text: Record = serde_json::from_str(&text).unwrap();
        let sorted: Record = serde_json::from_str(&expected.to_string()).unwrap();
        prop_assert_eq!(&from_text, &sorted);
        let text_value: serde_json::Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_value(&from_text).unwrap(), text_value);
        let from_value: Record = serde_json::from_value(expected.clone()).unwrap();
        prop_assert_eq!(serde_json::to_value(&from_value).unwrap(), expected);
    }

    /// e) Merging is sorted, unique, complete and independent of the order of its inputs.
    #[test]
    fn merge_is_sorted_unique_and_order_independent(
        pool in prop::collection::vec(0u32..50, 1..40),
        picks in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..30), 0..5),
        ascending in any::<bool>(),
    ) {
        let order = if ascending { Order::Asc } else { Order::Desc };
        let records: Vec<Record> = pool
            .iter()
            .map(|uuid| {
                let mut record = sample_record();
                record.record_uuid = RecordUuid::new(format!("30-{uuid:032X}")).unwrap();
                // The same uuid always gets the same time: it is the same recording.
                let time = format!("2024-01-31 23:59:5{}.{:02}", uuid % 5, (uuid * 7) % 100);
                record.init_time_gmt = WireTime::parse(&time).unwrap();
                record
            })
            .collect();
        let lists: Vec<Vec<Record>> = picks
            .iter()
            .map(|list| list.iter().map(|i| records[i.index(records.len())].clone()).collect())
            .collect();
        let merged = merge_records(lists.clone(), order);

        for pair in merged.windows(2) {
            prop_assert_eq!(order.compare(&pair[0], &pair[1]), std::cmp::Ordering::Less);
        }
        let mut uuids: Vec<_> = merged.iter().map(|r| r.record_uuid.clone()).collect();
        let mut expected: Vec<_> = lists.iter().flatten().map(|r| r.record_uuid.clone()).collect();
        uuids.sort();
        expected.sort();
        expected.dedup();
        prop_assert_eq!(&uuids, &expected, "every uuid exactly once");

        let mut reversed: Vec<Vec<Record>> = lists.into_iter().rev().collect();
        reversed.iter_mut().for_each(|list| list.reverse());
        prop_assert_eq!(merge_records(reversed, order), merged);
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}[.,]?[0-9]{0,12}"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
