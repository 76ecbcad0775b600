//! The simulator's mutable state: records, tokens, limits, archives, counters, faults.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::time::Instant;

use crate::config::{Injection, SimConfig};
use crate::data::{Dataset, Extension, SimRecord};
use crate::rng::{Rng, mix};

/// Who is calling: the level an app was registered for, or the PBX user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Client(u64),
    Group(u64),
    Extension(u64),
}

/// An OAuth app of the simulated client.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) level: Level,
    /// Registered with "Call API" access only: no record routes.
    pub(crate) call_api_only: bool,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub(crate) app: usize,
    pub(crate) expires_at: Instant,
}

/// A requested archive.
#[derive(Debug, Clone)]
pub(crate) struct Archive {
    pub(crate) id: u64,
    pub(crate) token: String,
    pub(crate) created: Instant,
    pub(crate) downloaded: bool,
    pub(crate) entries: Vec<crate::file::ArchiveEntry>,
}

/// An e-mail the simulator "sent": the archive link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    /// The recipients.
    pub to: Vec<String>,
    /// The archive's id.
    pub archive_id: u64,
    /// The link to the ZIP, valid for 12 hours.
    pub link: String,
    /// The window, as requested.
    pub start_datetime: String,
    /// The window, as requested.
    pub end_datetime: String,
}

/// Request counts by route and status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Requests per route name: `token`, `list_records`, `delete_records`, `record_stats`,
    /// `download_record`, `delete_record`, `storage_url`, `request_archive`, `monthly_stats`,
    /// `storage_file`, `archive_file`, `unknown`.
    pub by_route: BTreeMap<String, u64>,
    /// Answers per HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Answers per route and status.
    pub by_route_status: BTreeMap<(String, u16), u64>,
    /// Token requests per grant type.
    pub by_grant: BTreeMap<String, u64>,
}

impl Counters {
    /// Requests to `route` so far.
    pub fn route(&self, route: &str) -> u64 {
        self.by_route.get(route).copied().unwrap_or(0)
    }

    /// Answers to `route` with `status` so far.
    pub fn route_status(&self, route: &str, status: u16) -> u64 {
        self.by_route_status
            .get(&(route.to_owned(), status))
            .copied()
            .unwrap_or(0)
    }

    /// Answers with `status` so far.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// Random-fault bookkeeping.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub(crate) injections: VecDeque<Injection>,
    pub(crate) rng: Rng,
    pub(crate) api_requests: u64,
    pub(crate) burst_left: u64,
}

pub(crate) struct SimState {
    pub(crate) config: SimConfig,
    pub(crate) client_id: u64,
    pub(crate) groups: Vec<u64>,
    pub(crate) extensions: Vec<Extension>,
    pub(crate) apps: Vec<App>,
    pub(crate) pbx_login: (String, String),
    pub(crate) huge_record: Option<String>,
    pub(crate) base_url: OnceLock<String>,
    pub(crate) started: Instant,
    /// Seeds the records added at run time.
    pub(crate) added: Mutex<u64>,
    records: RwLock<Vec<SimRecord>>,
    /// Written list answers, by request, for as long as the records do not change.
    pub(crate) list_cache: Mutex<ListCache>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
    refresh_tokens: Mutex<HashMap<String, usize>>,
    token_serial: Mutex<u64>,
    rate: Mutex<HashMap<u64, (u64, u64)>>,
    stats_in_flight: Mutex<HashSet<u64>>,
    archives: Mutex<Vec<Archive>>,
    outbox: Mutex<Vec<SentEmail>>,
    counters: Mutex<Counters>,
    faults: Mutex<FaultState>,
    /// Live mode's calls and events.
    pub(crate) live: Mutex<crate::live::LiveState>,
}

/// List answers already written (only those up to [`LIST_CACHE_BYTES`]): the simulator's time
/// goes to the client's benchmarks, not to writing the same JSON again.
pub(crate) type ListCache = HashMap<String, std::sync::Arc<CachedList>>;

/// The largest list answer kept written.
pub(crate) const LIST_CACHE_BYTES: usize = 16 << 20;

/// A written list answer, and its gzip form once asked for.
#[derive(Debug)]
pub(crate) struct CachedList {
    pub(crate) json: bytes::Bytes,
    pub(crate) gzip: OnceLock<bytes::Bytes>,
}

/// Locks a mutex; a poisoned lock (a panic in another request) still holds usable data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SimState {
    pub(crate) fn new(config: SimConfig) -> SimState {
        let data = Dataset::generate(config.seed, config.record_count);
        let mut rng = Rng::new(mix(config.seed ^ 0x5EED));
        let secret = |rng: &mut Rng| rng.hex(40, false);
        let group = data.groups[0];
        let extension = data
            .extensions
            .iter()
            .find(|e| e.group == Some(group))
            .map_or(data.extensions[0].id, |e| e.id);
        let apps = vec![
            App {
                client_id: format!("client-app-{}", rng.hex(8, false)),
                client_secret: secret(&mut rng),
                level: Level::Client(data.client_id),
                call_api_only: false,
            },
            App {
                client_id: format!("group-app-{}", rng.hex(8, false)),
                client_secret: secret(&mut rng),
                level: Level::Group(group),
                call_api_only: false,
            },
            App {
                client_id: format!("extension-app-{}", rng.hex(8, false)),
                client_secret: secret(&mut rng),
                level: Level::Extension(extension),
                call_api_only: false,
            },
            App {
                client_id: format!("call-api-app-{}", rng.hex(8, false)),
                client_secret: secret(&mut rng),
                level: Level::Client(data.client_id),
                call_api_only: true,
            },
        ];
        let pbx_login = (format!("{:05}*admin", data.client_id), secret(&mut rng));
        let mut records = data.records;
        if let Some(cap) = config.max_file_size {
            for record in &mut records {
                record.set_size(record.size.min(cap));
            }
        }
        let huge_record = config.huge_file_size.map(|size| {
            let time = chrono::NaiveDate::from_ymd_opt(2024, 6, 15)
                .and_then(|d| d.and_hms_opt(12, 0, 0))
                .unwrap_or_default();
            let mut record =
                crate::data::make_record(&mut rng, data.client_id, &data.extensions[0], time);
            record.set_size(size);
            let uuid = record.uuid.clone();
            records.push(record);
            records.sort_by(|a, b| {
                a.init_time
                    .cmp(&b.init_time)
                    .then_with(|| a.uuid.cmp(&b.uuid))
            });
            uuid
        });
        let fault_rng = Rng::new(mix(config.seed ^ 0xFA17));
        SimState {
            client_id: data.client_id,
            groups: data.groups,
            extensions: data.extensions,
            apps,
            pbx_login,
            huge_record,
            base_url: OnceLock::new(),
            started: Instant::now(),
            added: Mutex::new(mix(config.seed ^ 0xADD)),
            records: RwLock::new(records),
            list_cache: Mutex::default(),
            tokens: Mutex::default(),
            refresh_tokens: Mutex::default(),
            token_serial: Mutex::new(mix(config.seed ^ 0x70CE)),
            rate: Mutex::default(),
            stats_in_flight: Mutex::default(),
            archives: Mutex::default(),
            outbox: Mutex::default(),
            counters: Mutex::default(),
            faults: Mutex::new(FaultState {
                injections: VecDeque::new(),
                rng: fault_rng,
                api_requests: 0,
                burst_left: 0,
            }),
            live: Mutex::new(crate::live::LiveState {
                running: config.live.as_ref().is_some_and(|live| live.running),
                callback_url: config
                    .live
                    .as_ref()
                    .and_then(|live| live.callback_url.clone()),
                ..Default::default()
            }),
            config,
        }
    }

    pub(crate) fn records(&self) -> RwLockReadGuard<'_, Vec<SimRecord>> {
        self.records.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The records, for a change: every written list answer is forgotten.
    pub(crate) fn records_mut(&self) -> RwLockWriteGuard<'_, Vec<SimRecord>> {
        lock(&self.list_cache).clear();
        self.records.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map_or("http://127.0.0.1", String::as_str)
    }

    // ---- tokens ----

    pub(crate) fn issue_token(&self, app: usize, with_refresh: bool) -> (String, Option<String>) {
        let mut serial = lock(&self.token_serial);
        *serial = mix(*serial);
        let access = format!("sim-at-{:016x}", *serial);
        *serial = mix(*serial);
        let refresh = with_refresh.then(|| format!("sim-rt-{:016x}", *serial));
        drop(serial);
        lock(&self.tokens).insert(
            access.clone(),
            IssuedToken {
                app,
                expires_at: Instant::now() + self.config.token_lifetime,
            },
        );
        if let Some(refresh) = &refresh {
            lock(&self.refresh_tokens).insert(refresh.clone(), app);
        }
        (access, refresh)
    }

    /// The app of a live token; `Err(true)` when it exists but expired, `Err(false)` when unknown.
    pub(crate) fn token_app(&self, token: &str) -> Result<usize, bool> {
        match lock(&self.tokens).get(token) {
            Some(issued) if issued.expires_at > Instant::now() => Ok(issued.app),
            Some(_) => Err(true),
            None => Err(false),
        }
    }

    /// Takes a refresh token (they are single-use), giving its app.
    pub(crate) fn take_refresh_token(&self, token: &str) -> Option<usize> {
        lock(&self.refresh_tokens).remove(token)
    }

    pub(crate) fn expire_tokens(&self) {
        let now = Instant::now();
        for issued in lock(&self.tokens).values_mut() {
            issued.expires_at = now;
        }
    }

    // ---- rate limit ----

    fn period_index(&self) -> (u64, Duration) {
        let period = self.config.rate_limit_period.max(Duration::from_millis(1));
        let elapsed = self.started.elapsed();
        let index = (elapsed.as_nanos() / period.as_nanos()) as u64;
        let next = period.saturating_mul(index as u32 + 1);
        (index, next.saturating_sub(elapsed))
    }

    /// Counts a request of `client`; returns whether it is within the limit.
    pub(crate) fn count_request(&self, client: u64) -> bool {
        let (index, _) = self.period_index();
        let mut rate = lock(&self.rate);
        let entry = rate.entry(client).or_insert((index, 0));
        if entry.0 != index {
            *entry = (index, 0);
        }
        entry.1 += 1;
        entry.1 <= self.config.rate_limit
    }

    /// `(limit, remaining, reset seconds)` for `client`.
    pub(crate) fn rate_headers(&self, client: u64) -> (u64, u64, u64) {
        let (index, until_reset) = self.period_index();
        let used = match lock(&self.rate).get(&client) {
            Some((i, count)) if *i == index => *count,
            _ => 0,
        };
        let reset = until_reset.as_secs() + u64::from(until_reset.subsec_nanos() > 0);
        (
            self.config.rate_limit,
            self.config.rate_limit.saturating_sub(used),
            reset,
        )
    }

    // ---- statistics guard ----

    pub(crate) fn begin_stats(&self, client: u64) -> bool {
        lock(&self.stats_in_flight).insert(client)
    }

    pub(crate) fn stats_in_flight(&self) -> usize {
        lock(&self.stats_in_flight).len()
    }

    pub(crate) fn end_stats(&self, client: u64) {
        lock(&self.stats_in_flight).remove(&client);
    }

    // ---- archives ----

    pub(crate) fn archives(&self) -> MutexGuard<'_, Vec<Archive>> {
        lock(&self.archives)
    }

    pub(crate) fn outbox(&self) -> MutexGuard<'_, Vec<SentEmail>> {
        lock(&self.outbox)
    }

    // ---- counters and faults ----

    pub(crate) fn count(&self, route: &str, status: u16, grant: Option<&str>) {
        let mut counters = lock(&self.counters);
        *counters.by_route.entry(route.to_owned()).or_default() += 1;
        *counters.by_status.entry(status).or_default() += 1;
        *counters
            .by_route_status
            .entry((route.to_owned(), status))
            .or_default() += 1;
        if let Some(grant) = grant {
            *counters.by_grant.entry(grant.to_owned()).or_default() += 1;
        }
    }

    pub(crate) fn counters(&self) -> Counters {
        lock(&self.counters).clone()
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    pub(crate) fn extension(&self, id: u64) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.id == id)
    }

    /// The opaque storage token of a record: a code derived from the seed and the uuid (so it
    /// cannot be guessed from the uuid alone), then the uuid, which finds the record at once.
    pub(crate) fn storage_token(&self, uuid: &str) -> String {
        format!("{}{uuid}", self.storage_code(uuid))
    }

    /// The uuid a storage token stands for, if the token is genuine.
    pub(crate) fn storage_uuid<'t>(&self, token: &'t str) -> Option<&'t str> {
        let (code, uuid) = token.split_at_checked(32)?;
        (self.storage_code(uuid) == code).then_some(uuid)
    }

    fn storage_code(&self, uuid: &str) -> String {
        let mut h = mix(self.config.seed ^ 0x0570_7A6E);
        for b in uuid.bytes() {
            h = mix(h ^ u64::from(b));
        }
        format!("{:016x}{:016x}", h, mix(h))
    }

    /// Starts a new rate-limit period for every client now, as if the hour had passed.
    pub(crate) fn reset_rate_limits(&self) {
        lock(&self.rate).clear();
    }
}

/// Whether `record` lies in `[start, end]` at full precision.
pub(crate) fn in_window(record: &SimRecord, start: NaiveDateTime, end: NaiveDateTime) -> bool {
    start <= record.init_time && record.init_time <= end
}
