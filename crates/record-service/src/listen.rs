//! Serving a router on a listener with the limits a service open to a network needs: a
//! client that does not send its request's header in time is cut off, and at most so many
//! connections are served at once (the others wait in the kernel's queue), so that trickling
//! clients can neither hold every descriptor nor starve `/healthz`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

/// The limits of every listener.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// How long a client has to send a request's header (the first, and each next one on a
    /// kept connection).
    pub(crate) header_timeout: Duration,
    /// How many connections are served at once.
    pub(crate) max_connections: usize,
}

/// Serves `router` on `listener` until `stop` turns true; then lets the requests in flight
/// end and returns. Handlers see the peer's address as `ConnectInfo<SocketAddr>`.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    what: &'static str,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (closing, _) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut last_accept_error: Option<std::time::Instant> = None;
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = stopped(&mut stop) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, most often: said once a minute, tried again soon.
                    if last_accept_error.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                        tracing::error!(%error, "{what}: a connection could not be accepted");
                        last_accept_error = Some(std::time::Instant::now());
                    }
                    drop(slot);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let app = router
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request.map(axum::body::Body::new)
            });
        let mut closed = closing.subscribe();
        tasks.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopped(&mut closed) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
        // Finished connections are reaped as others come.
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = closing.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Completes when `flag` turns true (or its sender is gone); holds no guard across awaits.
async fn stopped(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|flag| *flag).await.map(drop);
}
