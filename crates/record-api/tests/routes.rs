//! Every route of spec §2 at every level: the request as data, and as rendered HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_api::{
    ApiRequest, Authorization, BaseUrl, DeleteRecord, DeleteRecords, DownloadRecord, Endpoint,
    Grant, ListRecords, MonthlyRecordStats, MonthlyStatsEnd, RecordStats, RequestArchive, Scope,
    Secret, StorageUrl, TokenRequest, render,
};
use record_model::{
    ArchiveRequest, ClientId, ExtensionGroupId, ExtensionId, Order, QueryWindow, RecordUuid,
    WireTime, YearMonth,
};

fn levels() -> [(&'static str, Scope); 4] {
    [
        ("client", Scope::client(ClientId::Id(30))),
        ("client_me", Scope::client(ClientId::Me)),
        (
            "extension_group",
            Scope::extension_group(ExtensionGroupId::new(12)),
        ),
        ("extension", Scope::extension(ExtensionId::new(204))),
    ]
}

fn window() -> QueryWindow {
    QueryWindow::parse("2024-01-15 10:00:00", "2024-02-29 23:59:59").unwrap()
}

fn uuid() -> RecordUuid {
    "30-624835FEEE0E11E6A19D331E4D6A0606".parse().unwrap()
}

/// The rendered request as text, with the `Authorization` header redacted.
fn rendered(request: &ApiRequest, authorization: &Authorization) -> String {
    let base = BaseUrl::parse("https://apiproxy.telphin.ru").unwrap();
    let http = render(request, &base, authorization, None).unwrap();
    let mut text = format!("{} {}\n", http.method(), http.uri());
    let mut headers: Vec<_> = http.headers().iter().collect();
    headers.sort_by_key(|(name, _)| name.as_str());
    for (name, value) in headers {
        let value = if name == http::header::AUTHORIZATION {
            let scheme = value.to_str().unwrap().split(' ').next().unwrap();
            format!("{scheme} [redacted]")
        } else {
            value
                .to_str()
                .unwrap()
                .replace(env!("CARGO_PKG_VERSION"), "[version]")
        };
        text.push_str(&format!("{name}: {value}\n"));
    }
    if !http.body().is_empty() {
        text.push_str(&format!("\n{}\n", String::from_utf8_lossy(http.body())));
    }
    text
}

fn snapshot(name: &str, request: ApiRequest, authorization: &Authorization) {
    insta::assert_json_snapshot!(format!("{name}__request"), request);
    insta::assert_snapshot!(format!("{name}__http"), rendered(&request, authorization));
}

fn bearer() -> Authorization {
    Authorization::Bearer(Secret::new("token-123"))
}

#[test]
fn list_records() {
    for (level, scope) in levels() {
        snapshot(
            &format!("list_records_{level}"),
            ListRecords::new(scope, window()).request(),
            &bearer(),
        );
    }
    let ordered = ListRecords::new(Scope::client(ClientId::Me), window()).order(Order::Asc);
    snapshot("list_records_ordered", ordered.request(), &bearer());
}

#[test]
fn delete_records() {
    for (level, scope) in levels() {
        snapshot(
            &format!("delete_records_{level}"),
            DeleteRecords::new(scope, window()).request(),
            &bearer(),
        );
    }
}

#[test]
fn record_stats() {
    for (level, scope) in levels() {
        snapshot(
            &format!("record_stats_{level}"),
            RecordStats::new(scope, window()).request(),
            &bearer(),
        );
    }
}

#[test]
fn download_record() {
    for (level, scope) in levels() {
        snapshot(
            &format!("download_record_{level}"),
            DownloadRecord::new(scope, uuid()).request(),
            &bearer(),
        );
    }
    let basic = Authorization::Basic {
        username: "00030*204".to_owned(),
        password: Secret::new("pbx-password"),
    };
    let request = DownloadRecord::new(Scope::extension(ExtensionId::new(204)), uuid()).request();
    snapshot("download_record_basic_auth", request, &basic);
}

#[test]
fn delete_record() {
    for (level, scope) in levels() {
        snapshot(
            &format!("delete_record_{level}"),
            DeleteRecord::new(scope, uuid()).request(),
            &bearer(),
        );
    }
}

#[test]
fn storage_url() {
    for (level, scope) in levels() {
        snapshot(
            &format!("storage_url_{level}"),
            StorageUrl::new(scope, uuid()).request(),
            &bearer(),
        );
    }
}

#[test]
fn request_archive() {
    let archive = ArchiveRequest::new(window(), ["ops@example.org", "boss@example.org"]).unwrap();
    for (level, client) in [("client", ClientId::Id(30)), ("client_me", ClientId::Me)] {
        snapshot(
            &format!("request_archive_{level}"),
            RequestArchive::new(client, archive.clone()).request(),
            &bearer(),
        );
    }
}

#[test]
fn monthly_record_stats() {
    let ends = [
        ("all", None),
        (
            "until_instant",
            Some(MonthlyStatsEnd::Instant(
                WireTime::parse("2024-10-31 23:59:59").unwrap(),
            )),
        ),
        (
            "until_day",
            Some(MonthlyStatsEnd::Day("2024-10-31".parse().unwrap())),
        ),
        (
            "until_month",
            Some(MonthlyStatsEnd::Month(YearMonth::new(2024, 10).unwrap())),
        ),
    ];
    for (name, end) in ends {
        for (level, client) in [("client", ClientId::Id(30)), ("client_me", ClientId::Me)] {
            let mut stats = MonthlyRecordStats::new(client);
            if let Some(end) = end {
                stats = stats.until(end);
            }
            snapshot(
                &format!("monthly_record_stats_{name}_{level}"),
                stats.request(),
                &bearer(),
            );
        }
    }
}

#[test]
fn token_requests() {
    let grants = [
        ("client_credentials", Grant::ClientCredentials),
        (
            "password",
            Grant::Password {
                username: "00030*204".to_owned(),
                password: Secret::new("pbx password"),
            },
        ),
        (
            "refresh_token",
            Grant::RefreshToken(Secret::new("refresh-456")),
        ),
    ];
    for (name, grant) in grants {
        let request = TokenRequest::new("app-id", Secret::new("app secret+1"), grant).request();
        // The description never holds a secret; the rendered body must, to be sent.
        let described = format!("{request:?} {}", serde_json::to_string(&request).unwrap());
        for secret in ["app secret+1", "pbx password", "refresh-456"] {
            assert!(!described.contains(secret), "{name}: {described}");
        }
        snapshot(&format!("token_{name}"), request, &Authorization::None);
    }
}

#[test]
fn a_base_url_with_a_path_prefix_is_kept() {
    let base = BaseUrl::parse("https://pbx.example.org/reseller/telphin/").unwrap();
    let list = ListRecords::new(Scope::client(ClientId::Me), window()).request();
    let http = render(&list, &base, &bearer(), Some("my-service/2.0")).unwrap();
    assert_eq!(
        http.uri().to_string(),
        "https://pbx.example.org/reseller/telphin/api/ver1.0/client/@me/record/?start_datetime=2024-01-15%2010%3A00%3A00&end_datetime=2024-02-29%2023%3A59%3A59"
    );
    assert_eq!(http.headers()["user-agent"], "my-service/2.0");
    let token = TokenRequest::new("a", Secret::new("b"), Grant::ClientCredentials).request();
    let http = render(&token, &base, &bearer(), None).unwrap();
    assert_eq!(
        http.uri().to_string(),
        "https://pbx.example.org/reseller/telphin/oauth/token"
    );
    assert!(
        http.headers().get("authorization").is_none(),
        "the token route sends no bearer"
    );
}

#[test]
fn basic_auth_is_refused_outside_record_files() {
    let basic = Authorization::Basic {
        username: "u".to_owned(),
        password: Secret::new("p"),
    };
    let base = BaseUrl::parse("https://apiproxy.telphin.ru").unwrap();
    let list = ListRecords::new(Scope::client(ClientId::Me), window()).request();
    let err = render(&list, &base, &basic, None).unwrap_err();
    assert!(err.to_string().contains("record files only"), "{err}");
}

/// A base URL longer than an error quotes is taken as it is (it was once refused as "carrying
/// credentials" because its quoted form was cut), and one with user info is still refused
/// without quoting it.
#[test]
fn a_long_base_url_is_taken_and_user_info_still_refused() {
    let long = "https://records-proxy.internal.example.org/telphin/api/records/v1/production";
    assert_eq!(BaseUrl::parse(long).unwrap().as_str(), long);
    let with_user = format!("https://admin:hunter2@{}", &long["https://".len()..]);
    let error = BaseUrl::parse(&with_user).unwrap_err().to_string();
    assert!(error.contains("must not carry credentials"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
}
