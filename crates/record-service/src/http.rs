//! The service's HTTP endpoints: `/healthz`, `/readyz`, `/metrics` and the event callbacks.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use crate::metrics;
use crate::service::Shared;

/// The router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/events/{pbx}/{secret}", any(event))
        // Without a secret: refused, and counted as every refusal is.
        .route("/events/{pbx}", any(refused_event))
        .route("/events/{pbx}/", any(refused_event))
        .with_state(shared)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: every PBX's catalog answers, its target takes an object, and its last complete sync
/// is within two intervals. The body says, PBX by PBX, what is wrong.
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let mut body = String::new();
    let mut ready = true;
    // Every PBX probed at once: a target that hangs delays the answer by its own timeout only.
    let probes = futures_util::future::join_all(shared.pbxs.iter().map(|pbx| pbx.unready())).await;
    for (pbx, unready) in shared.pbxs.iter().zip(probes) {
        shared
            .metrics
            .ready
            .get_or_create(&metrics::pbx(&pbx.name))
            .set(i64::from(unready.is_none()));
        match unready {
            None => body.push_str(&format!("{}: ready\n", pbx.name)),
            Some(reason) => {
                ready = false;
                body.push_str(&format!("{}: not ready: {reason}\n", pbx.name));
            }
        }
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

async fn metrics_text(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.encode(),
    )
        .into_response()
}

/// An event callback of the PBX (GET or POST, form-urlencoded, as the platform sends them).
/// Its content is never read: it only wakes the PBX's sync. An unknown PBX and a wrong secret
/// get the same 404, and neither the path nor the secret is logged.
async fn event(
    State(shared): State<Arc<Shared>>,
    Path((name, secret)): Path<(String, String)>,
) -> StatusCode {
    let found = shared.pbxs.iter().find(|pbx| {
        pbx.name == name
            && pbx
                .event_secret
                .as_ref()
                .is_some_and(|expected| crate::secret::same(&secret, expected))
    });
    match found {
        Some(pbx) => {
            shared
                .metrics
                .events
                .get_or_create(&metrics::pbx(&pbx.name))
                .inc();
            tracing::debug!(pbx = %pbx.name, "an event wakes the sync");
            pbx.wake.notify_one();
            StatusCode::OK
        }
        None => refuse(&shared),
    }
}

/// An event callback without a secret.
async fn refused_event(State(shared): State<Arc<Shared>>) -> StatusCode {
    refuse(&shared)
}

/// Counts a refused event; says so at most once a minute, with how many there were, so
/// that a flood does not flood the log.
fn refuse(shared: &Shared) -> StatusCode {
    shared.metrics.events_refused.inc();
    if let Some(count) = shared.refusals.note() {
        tracing::warn!(
            count,
            "event callbacks with an unknown PBX, a wrong secret or none were refused (said at \
             most once a minute)"
        );
    }
    StatusCode::NOT_FOUND
}

/// Refusals since they were last logged, and when that was.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    pending: std::sync::atomic::AtomicU64,
    last_said: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Refusals {
    /// Notes one refusal; `Some(count)` when it is time to log the `count` since the last.
    pub(crate) fn note(&self) -> Option<u64> {
        use std::sync::atomic::Ordering;
        self.pending.fetch_add(1, Ordering::Relaxed);
        let mut last = self
            .last_said
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(60));
        if !due {
            return None;
        }
        *last = Some(std::time::Instant::now());
        Some(self.pending.swap(0, Ordering::Relaxed))
    }
}
