//! Decoding every payload shape of spec §3–§5, the quirks included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::time::Duration;

use http::StatusCode;
use record_api::{
    DeleteRecord, DeleteRecords, DownloadRecord, Endpoint, Error, FileInfo, Grant, ListRecords,
    MonthlyRecordStats, RateLimitKind, RecordStats, RequestArchive, Scope, Secret, StorageUrl,
    TokenRequest, rate_limit_of,
};
use record_model::{ArchiveRequest, ClientId, QueryWindow, RecordUuid, WindowStats};

fn answer(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-ratelimit-limit", "1000")
        .header("x-ratelimit-remaining", "997")
        .header("x-ratelimit-reset", "1800")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn window() -> QueryWindow {
    QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59").unwrap()
}

fn me() -> Scope {
    Scope::client(ClientId::Me)
}

fn uuid() -> RecordUuid {
    "30-624835FEEE0E11E6A19D331E4D6A0606".parse().unwrap()
}

const RECORD: &str = r#"{"ani_number": null, "application": null, "call_uuid": "624835feee0e11e6a19d331e4d6a0606",
 "client_owner_id": 30, "dest_domain": null, "dest_number": null, "did_domain": null, "did_number": null,
 "duration": 5, "ext_number_reg": null, "extension_group_owner_id": null, "extension_id": 204,
 "extension_name": "00030*204@sipproxy.telphin.ru", "extension_type": "phone", "flow": "in",
 "from_domain": null, "from_screen_name": null, "from_username": null, "hangup_cause": null,
 "hangup_disposition": "", "hangup_time_gmt": null, "init_time_gmt": "2024-10-31 23:59:59.40",
 "record_file_size": 925040, "record_uuid": "30-624835FEEE0E11E6A19D331E4D6A0606",
 "result": "answered", "source_domain": null, "source_number": null, "start_time_gmt": null,
 "to_domain": null, "to_username": null, "file_name": "x.mp3", "record_transfer": true}"#;

#[test]
fn record_list() {
    let list = ListRecords::new(me(), window());
    let records = list.decode(&answer(200, &format!("[{RECORD}]"))).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].record_transfer, Some(true));
    assert!(list.decode(&answer(200, "[]")).unwrap().is_empty());
}

#[test]
fn an_undecodable_list_quotes_the_body() {
    let err = ListRecords::new(me(), window())
        .decode(&answer(200, "{\"oops\": 1}"))
        .unwrap_err();
    assert!(
        matches!(err, Error::Decode { snippet: Some(ref s), .. } if s.contains("oops")),
        "{err}"
    );
}

#[test]
fn every_response_carries_its_rate_limit() {
    let response = answer(200, "[]");
    let info = rate_limit_of(response.headers());
    assert_eq!((info.limit, info.remaining), (Some(1000), Some(997)));
    assert_eq!(info.reset_after, Some(Duration::from_secs(1800)));
    let err = ListRecords::new(me(), window())
        .decode(&answer(500, ""))
        .unwrap_err();
    assert_eq!(err.rate_limit().unwrap().remaining, Some(997));
}

#[test]
fn stats_quirks() {
    let stats = RecordStats::new(me(), window());
    for body in [
        r#"{"count": 3, "size": 925040}"#,
        r#"{"records_count": 3, "files_size": 925040}"#,
    ] {
        assert_eq!(
            stats.decode(&answer(200, body)).unwrap(),
            WindowStats {
                count: 3,
                size: 925040
            }
        );
    }
    assert!(matches!(
        stats.decode(&answer(200, r#"{"total": 3}"#)),
        Err(Error::Decode { .. })
    ));
}

#[test]
fn monthly_stats() {
    let body =
        r#"[{"year_month": "2024-10", "call_records_count": 3, "call_records_size": 925040}]"#;
    let months = MonthlyRecordStats::new(ClientId::Me)
        .decode(&answer(200, body))
        .unwrap();
    assert_eq!(months[0].year_month.to_string(), "2024-10");
}

#[test]
fn deletes_accept_204_and_200_with_any_body() {
    let range = DeleteRecords::new(me(), window());
    range.decode(&answer(204, "")).unwrap();
    range.decode(&answer(200, "<html>deleted</html>")).unwrap();
    DeleteRecord::new(me(), uuid())
        .decode(&answer(204, ""))
        .unwrap();
}

#[test]
fn storage_link_and_its_errors_keep_the_url_secret() {
    let link = StorageUrl::new(me(), uuid())
        .decode(&answer(
            200,
            r#"{"record_url": "https://storage.telphin.ru/s3cr3t"}"#,
        ))
        .unwrap();
    assert_eq!(link.expose_url(), "https://storage.telphin.ru/s3cr3t");
    let err = StorageUrl::new(me(), uuid())
        .decode(&answer(
            200,
            r#"{"record_url": 5, "note": "https://storage.telphin.ru/s3cr3t"}"#,
        ))
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}

#[test]
fn archive_receipt() {
    let archive = ArchiveRequest::new(window(), ["ops@example.org"]).unwrap();
    let receipt = RequestArchive::new(ClientId::Me, archive)
        .decode(&answer(201, r#"{"id": 17, "start_datetime": "2024-10-01 00:00:00", "end_datetime": "2024-10-31 23:59:59", "email": "ops@example.org", "state": "queued"}"#))
        .unwrap();
    assert_eq!(receipt.extra["state"], "queued");
}

#[test]
fn tokens_with_and_without_expiry() {
    let request = TokenRequest::new("id", Secret::new("secret"), Grant::ClientCredentials);
    let token = request
        .decode(&answer(
            200,
            r#"{"access_token": "abc", "token_type": "Bearer", "expires_in": 3600}"#,
        ))
        .unwrap();
    assert_eq!(
        (token.access_token.expose(), token.expires_in),
        ("abc", Some(3600))
    );
    assert!(!format!("{token:?}").contains("abc"));
    let token = request
        .decode(&answer(
            200,
            r#"{"access_token": "abc", "token_type": "Bearer", "refresh_token": "r"}"#,
        ))
        .unwrap();
    assert_eq!(token.expires_in, None);
    assert_eq!(token.refresh_token.unwrap().expose(), "r");
    // A token body that does not decode must not quote the token.
    let err = request
        .decode(&answer(200, r#"{"access_token": 7, "x": "leaky-token"}"#))
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("leaky"));
}

#[test]
fn oauth_error_shape_is_unauthorized() {
    let request = TokenRequest::new("id", Secret::new("secret"), Grant::ClientCredentials);
    let err = request
        .decode(&answer(
            400,
            r#"{"error": "invalid_grant", "error_description": "Invalid client credentials"}"#,
        ))
        .unwrap_err();
    let Error::Unauthorized(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.code.as_deref(), Some("invalid_grant"));
    assert_eq!(api.message.as_deref(), Some("Invalid client credentials"));
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn error_bodies_of_every_shape() {
    let list = ListRecords::new(me(), window());
    let cases = [
        (401, r#"{"message": "Token is expired"}"#),
        (
            403,
            r#"{"status": "app_access_type_deny", "message": "Application access type is not allowed"}"#,
        ),
        (404, r#"{"message": "Record not found"}"#),
        (
            400,
            r#"{"status": "invalid_params", "message": "end_datetime must not be later than the last day of the next month"}"#,
        ),
        (502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        (503, ""),
        (500, &"x".repeat(5000)),
    ];
    let mut shown = Vec::new();
    for (status, body) in cases {
        let err = list.decode(&answer(status, body)).unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::from_u16(status).unwrap()));
        shown.push(format!("{status}: {err}"));
    }
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn typed_error_variants() {
    let list = ListRecords::new(me(), window());
    assert!(matches!(
        list.decode(&answer(401, "")),
        Err(Error::Unauthorized(_))
    ));
    assert!(
        matches!(list.decode(&answer(403, r#"{"status": "access_denied"}"#)), Err(Error::Forbidden(e)) if e.code.as_deref() == Some("access_denied"))
    );
    assert!(
        list.decode(&answer(404, r#"{"message": "Record not found"}"#))
            .unwrap_err()
            .is_not_found()
    );
    assert!(list.decode(&answer(503, "")).unwrap_err().is_retryable());
    assert!(!list.decode(&answer(400, "")).unwrap_err().is_retryable());
}

#[test]
fn the_two_kinds_of_429_are_told_apart() {
    let stats = RecordStats::new(me(), window());
    let hourly = stats
        .decode(&answer(
            429,
            r#"{"status": "rate_limit_exceeded", "message": "Rate limit exceeded"}"#,
        ))
        .unwrap_err();
    assert!(
        matches!(hourly, Error::RateLimited { kind: RateLimitKind::Hourly, reset_after: Some(d), .. } if d == Duration::from_secs(1800))
    );
    let concurrent = stats
        .decode(&answer(
            429,
            r#"{"message": "Stats request already exists, concurrent request not allowed"}"#,
        ))
        .unwrap_err();
    assert!(matches!(
        concurrent,
        Error::RateLimited {
            kind: RateLimitKind::ConcurrentStats,
            ..
        }
    ));
    let archive = stats
        .decode(&answer(
            429,
            r#"{"status": "archive_not_downloaded", "message": "wait"}"#,
        ))
        .unwrap_err();
    assert!(matches!(
        archive,
        Error::RateLimited {
            kind: RateLimitKind::Archive,
            ..
        }
    ));
}

#[test]
fn file_info_from_headers() {
    let response = http::Response::builder()
        .status(200)
        .header("content-length", "925040")
        .header(
            "content-disposition",
            "attachment; filename=\"2024-10-31_call.mp3\"",
        )
        .body(())
        .unwrap();
    let (parts, ()) = response.into_parts();
    let info = DownloadRecord::check_head(&parts, b"").unwrap();
    assert_eq!(info.content_length, Some(925040));
    assert_eq!(info.file_name.as_deref(), Some("2024-10-31_call.mp3"));
    assert_eq!(
        FileInfo::from_headers(&http::HeaderMap::new()),
        FileInfo::default()
    );
    let (parts, ()) = http::Response::builder()
        .status(404)
        .body(())
        .unwrap()
        .into_parts();
    assert!(
        DownloadRecord::check_head(&parts, br#"{"message": "Record not found"}"#)
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn token_freshness_keeps_a_margin_capped_at_a_quarter_of_the_lifetime() {
    use std::time::Instant;
    let request = TokenRequest::new("id", Secret::new("secret"), Grant::ClientCredentials);
    let long = request
        .decode(&answer(200, r#"{"access_token": "a", "expires_in": 3600}"#))
        .unwrap();
    let short = request
        .decode(&answer(200, r#"{"access_token": "a", "expires_in": 8}"#))
        .unwrap();
    let got = Instant::now();
    let margin = Duration::from_secs(60);
    assert!(long.is_fresh(got, got + Duration::from_secs(3539), margin));
    assert!(!long.is_fresh(got, got + Duration::from_secs(3540), margin));
    // A margin longer than the lifetime would make every call fetch a token.
    assert!(short.is_fresh(got, got + Duration::from_secs(5), margin));
    assert!(!short.is_fresh(got, got + Duration::from_secs(6), margin));
}
