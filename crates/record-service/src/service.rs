//! The service: every PBX's sync loop and the HTTP endpoints, until told to stop.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::ServiceConfig;
use crate::error::ServiceError;
use crate::metrics::Metrics;
use crate::pbx::Pbx;

/// What the endpoints and the loops share.
pub(crate) struct Shared {
    pub(crate) pbxs: Vec<Arc<Pbx>>,
    pub(crate) metrics: Arc<Metrics>,
    /// Refused event callbacks not logged yet.
    pub(crate) refusals: crate::http::Refusals,
}

/// A service ready to run: every PBX's archive opened (catalogs locked, targets checked,
/// clients built) and its endpoint listening.
pub struct Service {
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    /// The web page's listener and state, with `[web]`.
    web: Option<(tokio::net::TcpListener, Arc<crate::web::Web>)>,
    /// Every listener's header timeout and connection cap.
    limits: (std::time::Duration, usize),
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field(
                "pbxs",
                &self.shared.pbxs.iter().map(|p| &p.name).collect::<Vec<_>>(),
            )
            .field("listening", &self.listener.local_addr().ok())
            .field("web", &self.web_addr())
            .finish()
    }
}

impl Service {
    /// Opens every PBX of `config` and listens on `config.service.listen`. Nothing is
    /// requested from any API yet.
    pub async fn start(config: &ServiceConfig) -> Result<Service, ServiceError> {
        let metrics = Arc::new(Metrics::new());
        let signer = config.audit.signing_key(&config.origin)?;
        if signer.is_none() {
            tracing::warn!(
                "the audit logs are not signed: whoever can write a catalog and its target could \
                 rewrite them undetected; give [audit] signing_key_file (telphin-records audit \
                 keygen)"
            );
        }
        let mut pbxs = Vec::new();
        for pbx in &config.pbxs {
            pbxs.push(Arc::new(Pbx::open(
                pbx,
                &config.service,
                signer.as_ref(),
                Arc::clone(&metrics),
            )?));
        }
        let addr = config.service.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServiceError::Listen { addr, source })?;
        let web = match &config.web {
            Some(settings) => {
                // Again here: a configuration deserialized by other means than `load` and
                // `parse` is not served open to the network either.
                settings
                    .check()
                    .map_err(|(key, message)| config.origin.invalid(&key, message))?;
                let addr = settings.listen;
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| ServiceError::Listen { addr, source })?;
                let web = crate::web::Web::new(settings, pbxs.clone(), Arc::clone(&metrics));
                Some((listener, Arc::new(web)))
            }
            None => None,
        };
        Ok(Service {
            shared: Arc::new(Shared {
                pbxs,
                metrics,
                refusals: crate::http::Refusals::default(),
            }),
            listener,
            web,
            limits: (
                config.service.header_timeout,
                config.service.max_connections,
            ),
        })
    }

    /// Where the endpoints listen (the port chosen, when the configuration said 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Where the web page listens (with `[web]`; the port chosen, when it said 0).
    pub fn web_addr(&self) -> Option<SocketAddr> {
        self.web
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Runs until `shutdown` completes: then every sync in flight is abandoned (nothing
    /// partial is left under a record's name), each target tidied and its manifests written.
    /// One PBX's failures never stop another's syncs.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop, stopping) = watch::channel(false);
        let mut loops = tokio::task::JoinSet::new();
        for pbx in &self.shared.pbxs {
            loops.spawn(Arc::clone(pbx).run(stopping.clone()));
        }
        let limits = crate::listen::Limits {
            header_timeout: self.limits.0,
            max_connections: self.limits.1,
        };
        let router = crate::http::router(Arc::clone(&self.shared));
        let server = tokio::spawn(crate::listen::serve(
            self.listener,
            router,
            limits,
            stopping.clone(),
            "the HTTP endpoint",
        ));
        let web = self.web.map(|(listener, web)| {
            tokio::spawn(crate::listen::serve(
                listener,
                crate::web::router(web),
                limits,
                stopping.clone(),
                "the web page",
            ))
        });
        shutdown.await;
        tracing::info!("stopping: syncs in flight are abandoned, targets tidied");
        let _ = stop.send(true);
        while loops.join_next().await.is_some() {}
        let _ = server.await;
        if let Some(web) = web {
            let _ = web.await;
        }
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
