//! The documented examples of the window rule, ids and addresses, with the messages users see.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use chrono::{DateTime, TimeZone, Utc};
use record_model::{
    ArchiveRequest, ClientId, DateRange, ExtensionId, QueryWindow, RecordUuid, ValidationError,
};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

#[test]
fn window_from_mid_january_ends_on_the_last_of_february() {
    let start = utc(2024, 1, 15, 10, 0, 0);
    let window = QueryWindow::new(start, utc(2024, 2, 29, 23, 59, 59)).unwrap();
    assert_eq!(window.end_datetime(), "2024-02-29 23:59:59");

    let err = QueryWindow::new(start, utc(2024, 3, 1, 0, 0, 0)).unwrap_err();
    assert!(
        matches!(err, ValidationError::WindowTooLong { ref latest_end, .. } if latest_end == "2024-02-29 23:59:59")
    );
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn a_year_is_eleven_windows() {
    let year = DateRange::parse("2024-01-01 00:00:00", "2024-12-31 23:59:59").unwrap();
    let bounds: Vec<String> = year
        .windows()
        .map(|w| format!("{} .. {}", w.start_datetime(), w.end_datetime()))
        .collect();
    assert_eq!(bounds.len(), 11);
    insta::assert_snapshot!(bounds.join("\n"));
}

#[test]
fn a_single_instant_is_one_window() {
    let t = utc(2024, 5, 31, 23, 59, 59);
    let windows: Vec<_> = DateRange::new(t, t).unwrap().windows().collect();
    assert_eq!(windows, [QueryWindow::at(t).unwrap()]);
}

#[test]
fn reversed_and_fractional_bounds_are_refused_with_advice() {
    let err = DateRange::new(utc(2024, 2, 1, 0, 0, 0), utc(2024, 1, 1, 0, 0, 0)).unwrap_err();
    assert!(err.to_string().contains("swap"));
    let fractional = utc(2024, 1, 1, 0, 0, 0) + chrono::Duration::milliseconds(400);
    let err = DateRange::new(utc(2024, 1, 1, 0, 0, 0), fractional).unwrap_err();
    assert!(matches!(
        err,
        ValidationError::SubSecondBound { bound: "end", .. }
    ));
}

#[test]
fn record_uuid_says_what_it_expects() {
    assert!(RecordUuid::new("30-624835FEEE0E11E6A19D331E4D6A0606").is_ok());
    for bad in [
        "",
        "30",
        "30-",
        "-ABC",
        "x0-ABC",
        "30-XYZ",
        "30-AB/../C",
        "30-AB CD",
    ] {
        let err = RecordUuid::new(bad).unwrap_err();
        assert!(err.to_string().contains("expected decimal digits"), "{bad}");
    }
}

#[test]
fn ids_are_numeric_except_client_me() {
    assert_eq!("@me".parse::<ClientId>().unwrap(), ClientId::Me);
    assert!("me".parse::<ClientId>().is_err());
    assert!("-1".parse::<ClientId>().is_err());
    assert!("@me".parse::<ExtensionId>().is_err());
    assert!(" 12".parse::<ExtensionId>().is_err());
    assert!("99999999999999999999999".parse::<ExtensionId>().is_err());
}

#[test]
fn archive_needs_valid_addresses() {
    let window = QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59").unwrap();
    let none: [&str; 0] = [];
    assert_eq!(
        ArchiveRequest::new(window, none).unwrap_err(),
        ValidationError::NoEmail
    );
    for bad in [
        "",
        "ops",
        "ops@",
        "@example.org",
        "a,b@example.org",
        "a b@example.org",
        "a@b@c.org",
        "a@example.",
    ] {
        assert!(ArchiveRequest::new(window, [bad]).is_err(), "{bad}");
    }
    let request = ArchiveRequest::new(window, ["ops@example.org", "boss@example.org"]).unwrap();
    insta::assert_json_snapshot!(request);
}
