//! Shared set-up of the end-to-end tests: a simulator, and clients of either kind for each of
//! its apps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test support fails loudly

use std::time::Duration;

pub use async_trait::async_trait;

mod both;
mod pausing;
pub mod secrets;
pub use both::{AnyClient, Kind, app, both_clients};
pub use pausing::{BODY_PAUSE, Pausing, TOKEN_PAUSE};

use record_sim::{BlockingSim, Sim, SimConfig, SimRecord};
use telphin_records::chrono::NaiveDateTime;
use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::layers::transport_blocking::HttpTransport;
use telphin_records::{
    BlockingClient, Client, ClientBuilder, ClientId, Credentials, DateRange, ExtensionGroupId,
    ExtensionId, RetryPolicy, Scope,
};

/// Which credentials a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// The client-level app.
    Client,
    /// The extension-group app.
    ExtensionGroup,
    /// The extension app.
    Extension,
    /// The app registered with "Call API" access only.
    CallApiOnly,
    /// The client app with the PBX user's password grant.
    Password,
    /// The PBX login as Basic credentials (file downloads only).
    PbxLogin,
}

/// A running simulator.
pub struct Env {
    /// The simulator.
    pub sim: BlockingSim,
}

/// A retry policy with short pauses, so that retried tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(4)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(20))
}

impl Env {
    /// A simulator with a small data set.
    pub fn start() -> Env {
        Env::with(SimConfig {
            seed: 2024,
            record_count: 600,
            ..SimConfig::default()
        })
    }

    /// A simulator with this configuration.
    pub fn with(config: SimConfig) -> Env {
        Env {
            sim: Sim::start_blocking(config).expect("the simulator starts"),
        }
    }

    /// The credentials of `app`.
    pub fn credentials(&self, app: App) -> Credentials {
        let c = self.sim.credentials();
        let of = |a: &record_sim::AppCredentials| {
            Credentials::client_credentials(&a.client_id, &a.client_secret)
        };
        match app {
            App::Client => of(&c.client),
            App::ExtensionGroup => of(&c.extension_group),
            App::Extension => of(&c.extension),
            App::CallApiOnly => of(&c.call_api_only),
            App::Password => Credentials::password(
                &c.client.client_id,
                &c.client.client_secret,
                &c.pbx_username,
                &c.pbx_password,
            ),
            App::PbxLogin => Credentials::pbx_login(&c.pbx_username, &c.pbx_password),
        }
    }

    /// A configuration for `app` against the simulator, with fast retries.
    pub fn builder(&self, app: App) -> ClientBuilder {
        ClientBuilder::new(self.credentials(app))
            .base_url(self.sim.base_url())
            .retry_policy(fast_retries())
    }

    /// A blocking client for `app`.
    pub fn blocking(&self, app: App) -> BlockingClient<HttpTransport> {
        self.builder(app).build_blocking().unwrap()
    }

    /// An async client for `app`.
    pub fn asynchronous(&self, app: App) -> Client<ReqwestTransport> {
        self.builder(app).build_async().unwrap()
    }

    /// The scope each app sees: (name, scope, app).
    pub fn levels(&self) -> Vec<(&'static str, Scope, App)> {
        let c = self.sim.credentials();
        vec![
            (
                "client",
                Scope::client(ClientId::Id(c.client_id_number)),
                App::Client,
            ),
            ("client_me", Scope::client(ClientId::Me), App::Client),
            (
                "extension_group",
                Scope::extension_group(ExtensionGroupId::new(c.extension_group_id)),
                App::ExtensionGroup,
            ),
            (
                "extension",
                Scope::extension(ExtensionId::new(c.extension_id)),
                App::Extension,
            ),
        ]
    }

    /// The simulator's records of `scope` in `range`, oldest first.
    pub fn expected(&self, scope: Scope, range: &DateRange) -> Vec<SimRecord> {
        let naive =
            |t: telphin_records::chrono::DateTime<telphin_records::chrono::Utc>| -> NaiveDateTime {
                t.naive_utc()
            };
        self.sim
            .records_between(naive(range.start()), naive(range.end()))
            .into_iter()
            .filter(|r| match scope {
                Scope::ExtensionGroup(g) => r.group == Some(g.get()),
                Scope::Extension(e) => r.extension_id == e.get(),
                _ => true,
            })
            .collect()
    }
}

impl Env {
    /// A record whose file is larger than `bytes`.
    pub fn record_larger_than(&self, bytes: u64) -> SimRecord {
        self.sim
            .records()
            .into_iter()
            .find(|r| r.size > bytes)
            .unwrap()
    }
}

/// Everything written to it, kept for inspection: a `tracing` or `log` writer.
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// What was written so far, emptying it.
    pub fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.lock().unwrap())).into_owned()
    }
}

/// A multi-threaded tokio runtime for the async half of a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The peak resident memory of this process, in KiB (Linux).
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
