//! The telphin-records service as a library: each PBX's call recordings kept in step with an
//! archive, continuously.
//!
//! For every PBX of its [`ServiceConfig`], the service
//!
//! - **syncs** every `interval`: lists from the point known complete (less a margin, for the
//!   calls still in progress last time — a call is listed by its start once it has ended) up
//!   to now, with the completeness guard, and keeps every new recording (streamed into the
//!   target with its SHA-256, stored under its name only when complete). Syncs of one PBX
//!   never overlap; a restart resumes from the point the catalog holds.
//! - is **woken** by the PBX's event callbacks (`/events/{pbx}/{secret}`): an event only
//!   brings the next sync forward (debounced); its content is never taken as data.
//! - **reconciles** once a day the last months: the catalog's counts against the PBX's own
//!   statistics, and lists again any month that differs; failed files are tried again.
//! - serves `/healthz`, `/readyz` and `/metrics` (Prometheus text format).
//! - stops on SIGTERM or SIGINT: syncs in flight are abandoned with nothing partial under a
//!   record's name, manifests written.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use record_service::{Service, ServiceConfig, shutdown_signal};
//!
//! let config = ServiceConfig::load("/etc/telphin-records/serve.toml".as_ref())?;
//! let service = Service::start(&config).await?;
//! service.run(shutdown_signal()).await;
//! # Ok(()) }
//! ```
//!
//! The `telphin-records serve` command is this, with logs; `docs/service.md` documents every
//! key of the configuration.

// The page's texts, Russian and English (`locales/app.yml`).
rust_i18n::i18n!("locales", fallback = "en");

mod config;
mod error;
mod http;
mod listen;
mod metrics;
mod pbx;
mod probe;
mod profile;
mod secret;
mod service;
mod web;

pub use config::{
    AuditSettings, PBX_ENV_PREFIX, PbxConfig, SERVICE_ENV_PREFIX, ServiceConfig, ServiceSettings,
    WebSettings, WebUser,
};
pub use error::{ConfigError, ServiceError};
pub use secret::warn_if_readable_by_others;
pub use service::{Service, shutdown_signal};
pub use web::hash_password;
