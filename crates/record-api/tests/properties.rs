//! The retry policy's promises, and decoders that never panic, on generated input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::time::Duration;

use proptest::prelude::*;
use record_api::{
    Decision, DeleteRecord, DeleteRecords, DownloadRecord, Endpoint, Error, Grant, ListRecords,
    MonthlyRecordStats, RecordStats, RequestArchive, RetryPolicy, Scope, Secret, StorageUrl,
    TokenRequest, TransportError, TransportErrorKind, error_for_status, rate_limit_of,
};
use record_model::{ArchiveRequest, ClientId, QueryWindow};

fn policy() -> impl Strategy<Value = RetryPolicy> {
    (1u32..8, 0u64..5_000, 0u64..60_000, 0u64..7_200).prop_map(|(attempts, base, max, cap)| {
        RetryPolicy::default()
            .with_max_attempts(attempts)
            .with_backoff(Duration::from_millis(base), Duration::from_millis(max))
            .with_rate_limit_wait_cap(Duration::from_secs(cap))
    })
}

/// An error of any kind the policy may see: transport failures sent or not, and HTTP answers of
/// any status with any reset header.
fn error() -> impl Strategy<Value = Error> {
    let transport = (any::<bool>(), 0usize..6).prop_map(|(sent, kind)| {
        let kinds = [
            TransportErrorKind::Connect,
            TransportErrorKind::Timeout,
            TransportErrorKind::Io,
            TransportErrorKind::Protocol,
            TransportErrorKind::Request,
            TransportErrorKind::Other,
        ];
        Error::Transport(TransportError::new(kinds[kind], sent))
    });
    let answer = (400u16..600, prop::option::of(0u64..100_000), 0usize..4).prop_map(
        |(status, reset, body)| {
            let bodies = [
                "",
                r#"{"status": "rate_limit_exceeded"}"#,
                r#"{"message": "Stats request already exists, concurrent request not allowed"}"#,
                r#"{"status": "archive_not_downloaded"}"#,
            ];
            let mut headers = http::HeaderMap::new();
            if let Some(reset) = reset {
                headers.insert("x-ratelimit-reset", reset.into());
            }
            let status = http::StatusCode::from_u16(status).unwrap();
            error_for_status(status, &headers, bodies[body].as_bytes()).unwrap()
        },
    );
    prop_oneof![transport, answer]
}

fn may_have_been_sent(error: &Error) -> bool {
    match error {
        Error::Transport(t) => t.may_have_been_sent(),
        // Any HTTP answer means the request arrived.
        _ => true,
    }
}

proptest! {
    #[test]
    fn retry_policy_keeps_its_promises(
        policy in policy(),
        attempt in 1u32..12,
        error in error(),
        idempotent in any::<bool>(),
        jitter in prop_oneof![0.0f64..1.0, any::<f64>()],
    ) {
        let decision = policy.decide(attempt, &error, idempotent, jitter);
        if let Decision::Retry { after } = decision {
            prop_assert!(attempt < policy.max_attempts, "retried past the last attempt");
            let is_429 = matches!(error, Error::RateLimited { .. });
            prop_assert!(
                !(may_have_been_sent(&error) && !idempotent && !is_429),
                "retried a non-idempotent request that may have been sent: {error:?}"
            );
            let cap = policy.max_delay.max(policy.rate_limit_wait_cap);
            prop_assert!(after <= cap, "waits {after:?}, longer than its caps");
            if !is_429 {
                prop_assert!(after <= policy.max_delay);
            }
        }
    }

    #[test]
    fn retries_always_end(policy in policy(), error in error(), idempotent in any::<bool>()) {
        let attempts = (1..=policy.max_attempts + 5)
            .take_while(|attempt| policy.decide(*attempt, &error, idempotent, 0.5) != Decision::Stop)
            .count();
        prop_assert!(attempts < policy.max_attempts as usize);
    }

    #[test]
    fn rate_limit_headers_never_panic(
        limit in prop::collection::vec(any::<u8>(), 0..24),
        remaining in "\\PC{0,24}",
        reset in "[0-9 -]{0,24}",
    ) {
        let mut headers = http::HeaderMap::new();
        if let Ok(value) = http::HeaderValue::from_bytes(&limit) {
            headers.insert("x-ratelimit-limit", value);
        }
        if let Ok(value) = http::HeaderValue::from_str(&remaining) {
            headers.insert("x-ratelimit-remaining", value);
        }
        if let Ok(value) = http::HeaderValue::from_str(&reset) {
            headers.insert("x-ratelimit-reset", value);
        }
        let info = rate_limit_of(&headers);
        if let Ok(n) = reset.trim().parse::<u64>() {
            prop_assert_eq!(info.reset_after, Some(Duration::from_secs(n)));
        }
    }

    #[test]
    fn decoders_never_panic(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..300)) {
        let window = QueryWindow::parse("2024-10-01 00:00:00", "2024-10-31 23:59:59").unwrap();
        let scope = Scope::client(ClientId::Me);
        let uuid: record_model::RecordUuid = "30-AB".parse().unwrap();
        let mut response = http::Response::new(body);
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
        let _ = ListRecords::new(scope, window).decode(&response);
        let _ = DeleteRecords::new(scope, window).decode(&response);
        let _ = RecordStats::new(scope, window).decode(&response);
        let _ = DownloadRecord::new(scope, uuid.clone()).decode(&response);
        let _ = DeleteRecord::new(scope, uuid.clone()).decode(&response);
        let _ = StorageUrl::new(scope, uuid).decode(&response);
        let archive = ArchiveRequest::new(window, ["a@b.org"]).unwrap();
        let _ = RequestArchive::new(ClientId::Me, archive).decode(&response);
        let _ = MonthlyRecordStats::new(ClientId::Me).decode(&response);
        let _ = TokenRequest::new("a", Secret::new("b"), Grant::ClientCredentials).decode(&response);
    }

    #[test]
    fn json_error_bodies_never_panic(body in "\\PC{0,200}", status in 400u16..600) {
        let status = http::StatusCode::from_u16(status).unwrap();
        let err = error_for_status(status, &http::HeaderMap::new(), body.as_bytes()).unwrap();
        prop_assert!(err.to_string().len() < 1200);
    }
}
