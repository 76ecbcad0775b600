//! Decoding and re-encoding realistic payloads: what the API sends must come back unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_model::{
    ArchiveReceipt, CallResult, ClientId, ExtensionType, Flow, HangupDisposition, MonthStats,
    Record, WindowStats,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Decodes `json` as `T`, checks that re-encoding gives the same JSON value, and returns it.
fn round_trip<T: DeserializeOwned + Serialize>(json: &str) -> T {
    let decoded: T = serde_json::from_str(json).expect("payload decodes");
    let original: Value = serde_json::from_str(json).expect("payload is JSON");
    let encoded = serde_json::to_value(&decoded).expect("payload encodes");
    assert_eq!(encoded, original, "re-encoding changed the payload");
    decoded
}

#[test]
fn full_record() {
    let record: Record = round_trip(include_str!("fixtures/full_record.json"));
    assert_eq!(record.flow, Flow::In);
    assert_eq!(record.extension_type, ExtensionType::Queue);
    assert_eq!(record.disposition(), Some(&HangupDisposition::CalleeBye));
    assert_eq!(record.ani(), Some("74950000000"));
    assert_eq!(
        record.file_name(),
        Some("2024-01-31_23-59-59_74957654321.mp3")
    );
    assert_eq!(record.record_transfer, Some(false));
    insta::assert_debug_snapshot!(record);
}

#[test]
fn record_with_every_nullable_field_null() {
    let record: Record = round_trip(include_str!("fixtures/null_record.json"));
    assert_eq!(record.ani_number, Some(None));
    assert_eq!(record.disposition(), None);
    assert_eq!(record.extra["dealer_owner_id"], json!(7));
    insta::assert_debug_snapshot!(record);
}

/// Spec §3's field table, every nullable field null, plus an unknown field and an unknown
/// `result`: decodes, and re-encodes to the same JSON value.
#[test]
fn spec_field_table_all_null_with_unknowns() {
    let json = json!({
        "ani_number": null, "application": null,
        "call_uuid": "624835feee0e11e6a19d331e4d6a0606", "client_owner_id": 30,
        "dest_domain": null, "dest_number": null, "did_domain": null, "did_number": null,
        "duration": 0, "ext_number_reg": null, "extension_group_owner_id": null,
        "extension_id": 204, "extension_name": "00030*204@sipproxy.telphin.ru",
        "extension_type": "phone", "flow": "in", "from_domain": null,
        "from_screen_name": null, "from_username": null, "hangup_cause": null,
        "hangup_disposition": null, "hangup_time_gmt": null,
        "init_time_gmt": "2021-01-01 00:00:05.98", "record_file_size": 925040,
        "record_uuid": "30-624835FEEE0E11E6A19D331E4D6A0606", "result": "escalated to supervisor",
        "source_domain": null, "source_number": null, "start_time_gmt": null,
        "to_domain": null, "to_username": null,
        "sentiment": {"score": 0.5}
    });
    let record: Record = round_trip(&json.to_string());
    assert_eq!(
        record.result,
        CallResult::Other("escalated to supervisor".into())
    );
    assert_eq!(record.extra["sentiment"], json!({"score": 0.5}));
}

#[test]
fn absent_ani_number_stays_absent() {
    let record: Record = round_trip(include_str!("fixtures/unknown_values_record.json"));
    assert_eq!(record.ani_number, None);
    let encoded = serde_json::to_value(&record).unwrap();
    assert!(encoded.get("ani_number").is_none());
}

#[test]
fn unknown_fields_and_enum_values_with_comma_fractions() {
    let record: Record = round_trip(include_str!("fixtures/unknown_values_record.json"));
    assert!(!record.flow.is_known());
    assert!(!record.extension_type.is_known());
    assert_eq!(record.hangup_disposition, Some(HangupDisposition::Empty));
    assert_eq!(record.disposition(), None);
    assert_eq!(
        record.init_time_gmt.instant().timestamp_subsec_nanos(),
        123_456_789
    );
    insta::assert_debug_snapshot!(record);
}

#[test]
fn both_fraction_separators() {
    let dot: Record = round_trip(include_str!("fixtures/full_record.json"));
    let comma: Record = round_trip(include_str!("fixtures/unknown_values_record.json"));
    insta::assert_snapshot!(format!(
        "dot: {} -> {:?}\ncomma: {} -> {:?}",
        dot.init_time_gmt,
        dot.init_time_gmt.instant(),
        comma.init_time_gmt,
        comma.init_time_gmt.instant()
    ));
}

#[test]
fn list_of_records() {
    let list = format!(
        "[{},{},{}]",
        include_str!("fixtures/full_record.json"),
        include_str!("fixtures/null_record.json"),
        include_str!("fixtures/unknown_values_record.json")
    );
    let records: Vec<Record> = round_trip(&list);
    insta::assert_json_snapshot!(records);
}

#[test]
fn window_statistics_shapes() {
    let shapes = [
        r#"{"count": 3, "size": 925040}"#,
        r#"{"records_count": 3, "records_size": 925040}"#,
        r#"{"call_records_count": 3, "call_records_size": 925040, "status": "ok"}"#,
        r#"{"Size": 925040, "Count": 3}"#,
    ];
    for shape in shapes {
        let stats: WindowStats = serde_json::from_str(shape).expect(shape);
        assert_eq!(
            stats,
            WindowStats {
                count: 3,
                size: 925040
            },
            "{shape}"
        );
    }
    let missing: Result<WindowStats, _> = serde_json::from_str(r#"{"count": 3}"#);
    insta::assert_snapshot!(missing.unwrap_err().to_string());
    let stats: WindowStats = round_trip(shapes[0]);
    insta::assert_json_snapshot!(stats);
}

#[test]
fn monthly_statistics() {
    let months: Vec<MonthStats> = round_trip(
        r#"[{"year_month": "2024-10", "call_records_count": 3, "call_records_size": 925040},
            {"year_month": "2024-11", "call_records_count": 0, "call_records_size": 0}]"#,
    );
    assert_eq!(
        months[0].totals(),
        WindowStats {
            count: 3,
            size: 925040
        }
    );
    insta::assert_debug_snapshot!(months);
}

#[test]
fn archive_receipt() {
    let receipt: ArchiveReceipt = round_trip(
        r#"{"id": 17, "start_datetime": "2024-10-01 00:00:00",
            "end_datetime": "2024-10-31 23:59:59", "email": "ops@example.org,boss@example.org",
            "expires_at": "2024-11-01 12:00:00"}"#,
    );
    insta::assert_debug_snapshot!(receipt);
}

#[test]
fn client_id_decodes_from_number_and_text() {
    let ids: Vec<ClientId> = serde_json::from_str(r#"[30, "31", "@me"]"#).unwrap();
    assert_eq!(ids, [ClientId::Id(30), ClientId::Id(31), ClientId::Me]);
}

#[test]
fn an_archive_receipt_of_another_shape_still_decodes() {
    // Defect: the typed names with another shape failed the decode after the e-mail was sent.
    let receipt: ArchiveReceipt = serde_json::from_str(
        r#"{"id": {"$oid": "65a1"}, "start_datetime": "2024-10-01T00:00:00Z",
            "end_datetime": 1727740799, "email": ["ops@example.org", "boss@example.org"]}"#,
    )
    .unwrap();
    assert_eq!(receipt.id, None);
    assert_eq!(receipt.start_datetime, None);
    assert_eq!(receipt.email, None);
    assert_eq!(receipt.extra["id"]["$oid"], "65a1");
    assert_eq!(receipt.extra["start_datetime"], "2024-10-01T00:00:00Z");
    assert_eq!(receipt.extra["end_datetime"], 1727740799);
    assert_eq!(receipt.extra["email"][1], "boss@example.org");
    let text = ArchiveReceipt::from_body(b"<html>queued</html>");
    assert_eq!(text.unparsed_body.as_deref(), Some("<html>queued</html>"));
    assert_eq!(ArchiveReceipt::from_body(b""), ArchiveReceipt::default());
}

#[test]
fn a_huge_value_makes_a_short_error() {
    // Defect: a 10 MB record_uuid gave a 10 MB error message.
    let huge = "1-".to_owned() + &"Z".repeat(10_000_000);
    let error = huge.parse::<record_model::RecordUuid>().unwrap_err();
    assert!(
        error.to_string().len() < 400,
        "{} bytes",
        error.to_string().len()
    );
    assert!(error.to_string().contains("10000002 bytes in all"));
    let json = format!(r#"["{huge}"]"#);
    let error = serde_json::from_str::<Vec<record_model::RecordUuid>>(&json).unwrap_err();
    assert!(
        error.to_string().len() < 400,
        "{} bytes",
        error.to_string().len()
    );
}

#[test]
fn absent_optional_fields_stay_absent_and_a_set_one_is_written() {
    let mut json: Value = serde_json::from_str(include_str!("fixtures/full_record.json")).unwrap();
    let object = json.as_object_mut().unwrap();
    for field in [
        "dest_domain",
        "hangup_time_gmt",
        "application",
        "start_time_gmt",
    ] {
        object.remove(field);
    }
    let mut record: Record = round_trip(&json.to_string());
    assert_eq!(record.dest_domain, None);
    record.dest_domain = Some("pbx.example".into());
    let encoded = serde_json::to_value(&record).unwrap();
    assert_eq!(encoded["dest_domain"], "pbx.example");
    assert!(encoded.get("hangup_time_gmt").is_none());
}

#[test]
fn a_missing_required_field_or_a_repeated_one_is_named() {
    let mut json: Value = serde_json::from_str(include_str!("fixtures/full_record.json")).unwrap();
    json.as_object_mut().unwrap().remove("record_uuid");
    let error = serde_json::from_value::<Record>(json).unwrap_err();
    assert!(
        error.to_string().contains("missing field `record_uuid`"),
        "{error}"
    );
    let text = include_str!("fixtures/full_record.json").replacen('{', r#"{"duration": 1,"#, 1);
    let error = serde_json::from_str::<Record>(&text).unwrap_err();
    assert!(
        error.to_string().contains("duplicate field `duration`"),
        "{error}"
    );
}

#[test]
fn seen_fields_of_an_unexpected_type_are_kept_in_extra() {
    let mut json: Value = serde_json::from_str(include_str!("fixtures/full_record.json")).unwrap();
    json["record_transfer"] = json!("yes");
    json["file_name"] = json!(null);
    let record: Record = round_trip(&json.to_string());
    assert_eq!(record.record_transfer, None);
    assert_eq!(record.extra["record_transfer"], "yes");
    assert_eq!(record.file_name(), None);
}

#[test]
fn keys_and_values_are_read_as_json_strings_whatever_their_escapes() {
    let text = include_str!("fixtures/full_record.json")
        .replace(r#""flow": "in""#, r#""\u0066low": "\u0069n""#)
        .replace(r#""result": "answered""#, r#""result": "answ\u0065red""#)
        .replace(
            r#""init_time_gmt": "2024-01-31 23:59:59.40""#,
            r#""init_time_gmt": "2024-01-31\u002023:59:59.40""#,
        );
    let escaped: Record = serde_json::from_str(&text).unwrap();
    let plain: Record = serde_json::from_str(include_str!("fixtures/full_record.json")).unwrap();
    assert_eq!(escaped, plain);
    assert!(escaped.extra.is_empty(), "{:?}", escaped.extra);
}

#[test]
fn text_that_is_not_utf8_is_an_error_where_it_is_kept() {
    let fixture = include_str!("fixtures/full_record.json");
    for (from, to) in [
        (&b"\"ani_number\""[..], &b"\"ani_\xff\""[..]), // an unknown key
        (b"\"queue\"", b"\"qu\xffue\""),                // an unknown enum value
        (
            b"\"2024-01-31 23:59:59.40\"",
            b"\"2024-01-31 23:59:59.4\xff\"",
        ), // a time
    ] {
        let at = fixture
            .as_bytes()
            .windows(from.len())
            .position(|w| w == from)
            .unwrap();
        let mut bytes = fixture.as_bytes().to_vec();
        bytes.splice(at..at + from.len(), to.iter().copied());
        let error = serde_json::from_slice::<Record>(&bytes).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("UTF-8") || message.contains("invalid time"),
            "{}: {message}",
            String::from_utf8_lossy(to)
        );
    }
}
