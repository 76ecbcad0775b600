//! Starting the simulator, and the handle tests use to watch and steer it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::config::{Fault, Injection, SimConfig};
use crate::data::{Extension, SimRecord};
use crate::rng::{Rng, mix};
use crate::state::{Counters, Level, SentEmail, SimState, lock};

/// The simulator: start it with [`Sim::start`] (async) or [`Sim::start_blocking`].
#[derive(Debug)]
pub struct Sim;

/// An app's OAuth credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCredentials {
    /// The app's `client_id`.
    pub client_id: String,
    /// The app's `client_secret`.
    pub client_secret: String,
}

/// Every credential of the simulated PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// An app with client-level access ("All" records).
    pub client: AppCredentials,
    /// The client's number, as used in `client/{id}` paths.
    pub client_id_number: u64,
    /// An app with extension-group-level access.
    pub extension_group: AppCredentials,
    /// The group that app sees.
    pub extension_group_id: u64,
    /// An app with extension-level access.
    pub extension: AppCredentials,
    /// The extension that app sees (it belongs to `extension_group_id`).
    pub extension_id: u64,
    /// A client-level app registered with "Call API" access only: no record routes.
    pub call_api_only: AppCredentials,
    /// The PBX login (client administrator), for the `password` grant and Basic downloads.
    pub pbx_username: String,
    /// The PBX password.
    pub pbx_password: String,
}

/// A running simulator. Clones share it; [`SimHandle::shutdown`] stops it.
#[derive(Clone)]
pub struct SimHandle {
    state: Arc<SimState>,
    base_url: String,
    credentials: Credentials,
    shutdown: Arc<Mutex<Option<oneshot::Sender<()>>>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Starts a simulator on `127.0.0.1` at a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        Sim::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Starts a simulator on `addr`.
    pub async fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        let state = Arc::new(SimState::new(config));
        // Set once, before the first request can arrive.
        let _ = state.base_url.set(base_url.clone());
        let (sender, receiver) = oneshot::channel::<()>();
        let app = crate::server::router(state.clone());
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = receiver.await;
            });
            // A server error ends the simulator; its clients then see connection errors.
            let _ = serve.await;
        });
        if let Some(live) = state.config.live.clone() {
            tokio::spawn(crate::live::run(Arc::downgrade(&state), live));
        }
        let credentials = credentials_of(&state);
        Ok(SimHandle {
            state,
            base_url,
            credentials,
            shutdown: Arc::new(Mutex::new(Some(sender))),
        })
    }

    /// Starts a simulator on a runtime thread of its own, for blocking tests and programs.
    /// It stops when the returned value is dropped.
    pub fn start_blocking(config: SimConfig) -> std::io::Result<BlockingSim> {
        let (sender, receiver) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("record-sim".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = sender.send(Err(err));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = Sim::start(config).await;
                    let ok = started.is_ok();
                    let _ = sender.send(started);
                    if ok {
                        let _ = stopped.await;
                    }
                });
            })?;
        let handle = receiver
            .recv()
            .map_err(|_| std::io::Error::other("the simulator thread ended before starting"))??;
        Ok(BlockingSim {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

fn credentials_of(state: &SimState) -> Credentials {
    let app = |i: usize| AppCredentials {
        client_id: state.apps[i].client_id.clone(),
        client_secret: state.apps[i].client_secret.clone(),
    };
    let level_id = |i: usize| match state.apps[i].level {
        Level::Client(id) | Level::Group(id) | Level::Extension(id) => id,
    };
    Credentials {
        client: app(0),
        client_id_number: state.client_id,
        extension_group: app(1),
        extension_group_id: level_id(1),
        extension: app(2),
        extension_id: level_id(2),
        call_api_only: app(3),
        pbx_username: state.pbx_login.0.clone(),
        pbx_password: state.pbx_login.1.clone(),
    }
}

impl SimHandle {
    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The demo credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The request counters so far.
    pub fn counters(&self) -> Counters {
        self.state.counters()
    }

    /// The archive e-mails "sent" so far.
    pub fn outbox(&self) -> Vec<SentEmail> {
        self.state.outbox().clone()
    }

    /// Every record, in ascending `init_time_gmt`.
    pub fn records(&self) -> Vec<SimRecord> {
        self.state.records().clone()
    }

    /// The records whose `init_time_gmt` lies in `[start, end]` at full precision.
    pub fn records_between(&self, start: NaiveDateTime, end: NaiveDateTime) -> Vec<SimRecord> {
        self.state
            .records()
            .iter()
            .filter(|r| crate::state::in_window(r, start, end))
            .cloned()
            .collect()
    }

    /// The client's extensions.
    pub fn extensions(&self) -> &[Extension] {
        &self.state.extensions
    }

    /// The client's extension groups.
    pub fn extension_groups(&self) -> &[u64] {
        &self.state.groups
    }

    /// The record whose file is [`SimConfig::huge_file_size`] long, if configured.
    pub fn huge_record_uuid(&self) -> Option<&str> {
        self.state.huge_record.as_deref()
    }

    /// Adds a record of `extension_id` at `init_time`, its other fields generated; returns it.
    pub fn add_record(&self, extension_id: u64, init_time: NaiveDateTime) -> Option<SimRecord> {
        let extension = self.state.extension(extension_id)?.clone();
        let mut rng = {
            let mut serial = lock(&self.state.added);
            *serial = mix(*serial);
            Rng::new(*serial)
        };
        let record =
            crate::data::make_record(&mut rng, self.state.client_id, &extension, init_time);
        let mut records = self.state.records_mut();
        let at = records.partition_point(|r| {
            (r.init_time, r.uuid.as_str()) < (record.init_time, record.uuid.as_str())
        });
        records.insert(at, record.clone());
        Some(record)
    }

    /// Adds a record of `extension_id` at `init_time` whose other party (the caller of an
    /// incoming call, the callee of an outgoing one) is `number`, as written; returns it.
    pub fn add_call_with(
        &self,
        extension_id: u64,
        init_time: NaiveDateTime,
        number: &str,
    ) -> Option<SimRecord> {
        let mut record = self.add_record(extension_id, init_time)?;
        record.caller = Some(number.into());
        let mut records = self.state.records_mut();
        let found = records.iter_mut().find(|r| r.uuid == record.uuid)?;
        found.caller.clone_from(&record.caller);
        Some(record)
    }

    /// Removes a record and its file; returns whether it existed.
    pub fn remove_record(&self, uuid: &str) -> bool {
        let mut records = self.state.records_mut();
        let before = records.len();
        records.retain(|r| r.uuid != uuid);
        records.len() < before
    }

    /// The bytes of a record's file (for checking small downloads).
    pub fn file_bytes(&self, uuid: &str) -> Option<Vec<u8>> {
        let records = self.state.records();
        let record = records.iter().find(|r| r.uuid == uuid)?;
        Some(crate::file::bytes(record.file_seed, record.size))
    }

    /// Schedules `fault` for the next `times` requests of `route` (any API route if `None`).
    pub fn inject(&self, route: Option<&str>, fault: Fault, times: u32) {
        if times == 0 {
            return;
        }
        self.state.faults().injections.push_back(Injection {
            route: route.map(str::to_owned),
            fault,
            times,
        });
    }

    /// How many statistics requests are running right now (at most one per client).
    pub fn stats_in_flight(&self) -> usize {
        self.state.stats_in_flight()
    }

    /// Starts a new rate-limit period now, as if the hour had passed: every client may make
    /// [`SimConfig::rate_limit`](crate::SimConfig::rate_limit) requests again.
    pub fn reset_rate_limits(&self) {
        self.state.reset_rate_limits();
    }

    /// Makes every token issued so far expire now.
    pub fn expire_tokens(&self) {
        self.state.expire_tokens();
    }

    /// The JSON line the binary prints: base URL and every credential.
    pub fn announcement(&self) -> Value {
        let c = &self.credentials;
        let app = |a: &AppCredentials| json!({"client_id": a.client_id, "client_secret": a.client_secret});
        let mut client = app(&c.client);
        client["client_id_number"] = json!(c.client_id_number);
        let mut group = app(&c.extension_group);
        group["extension_group_id"] = json!(c.extension_group_id);
        let mut extension = app(&c.extension);
        extension["extension_id"] = json!(c.extension_id);
        json!({
            "base_url": self.base_url,
            "apps": {
                "client": client,
                "extension_group": group,
                "extension": extension,
                "call_api_only": app(&c.call_api_only),
            },
            "pbx_login": {"username": c.pbx_username, "password": c.pbx_password},
            "huge_record_uuid": self.state.huge_record,
        })
    }

    /// Live mode: calls stop arriving until [`resume_calls`](Self::resume_calls).
    pub fn pause_calls(&self) {
        lock(&self.state.live).running = false;
    }

    /// Live mode: calls arrive again.
    pub fn resume_calls(&self) {
        lock(&self.state.live).running = true;
    }

    /// Live mode: where `hangup` events are posted from now on (`None`: nowhere).
    pub fn set_callback(&self, url: Option<String>) {
        lock(&self.state.live).callback_url = url;
    }

    /// Live mode: the calls ended so far, in the order they ended.
    pub fn live_calls(&self) -> Vec<crate::live::LiveCall> {
        lock(&self.state.live).calls.clone()
    }

    /// Live mode: what it has done so far.
    pub fn live_counters(&self) -> crate::live::LiveCounters {
        lock(&self.state.live).counters.clone()
    }

    /// Stops serving (requests in flight finish).
    pub fn shutdown(&self) {
        if let Some(sender) = lock(&self.shutdown).take() {
            let _ = sender.send(());
        }
    }
}

/// A simulator on its own runtime thread; it stops when dropped. Derefs to [`SimHandle`].
#[derive(Debug)]
pub struct BlockingSim {
    handle: SimHandle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::ops::Deref for BlockingSim {
    type Target = SimHandle;

    fn deref(&self) -> &SimHandle {
        &self.handle
    }
}

impl Drop for BlockingSim {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
