//! A simulator of the Telphin call-recordings API, served over real HTTP on loopback.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use record_sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::default()).await?;
//! println!("API at {}", sim.base_url());
//! let app = &sim.credentials().client;
//! // POST {base}/oauth/token with app.client_id / app.client_secret, then call the API.
//! # let _ = app;
//! assert_eq!(sim.counters().route("list_records"), 0);
//! sim.shutdown();
//! # Ok(()) }
//! ```
//!
//! It is an independent implementation of the API reference: it shares no code with
//! `record-model` or `record-api`, so a mistake in the client is not mirrored here. It serves
//! every route at every level, the window rule, OAuth with expiring tokens, Basic auth on
//! files, storage links, archives with an outbox, gzip, rate limits, the concurrent-statistics
//! guard, and deterministic fault injection. Everything derives from [`SimConfig::seed`].

mod config;
mod data;
pub mod file;
mod handle;
mod live;
mod rng;
mod server;
mod state;
mod wire;

pub use config::{Fault, Faults, Injection, SimConfig};
pub use data::{Dataset, Extension, SimRecord};
pub use handle::{AppCredentials, BlockingSim, Credentials, Sim, SimHandle};
pub use live::{LiveCall, LiveConfig, LiveCounters};
pub use state::{Counters, SentEmail};

/// Re-exported so that users name the same `chrono` types as this crate.
pub use chrono;
