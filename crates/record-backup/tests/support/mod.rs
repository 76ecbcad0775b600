//! Shared set-up: a simulator, an async client of its client-level app, archives over it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt as _;
use object_store::ObjectStoreExt as _;
use record_backup::{Archive, ArchiveOptions, Catalog, CatalogEntry, SearchQuery, Target};
use record_sim::{BlockingSim, Faults, Sim, SimConfig, SimRecord};
use telphin_records::chrono::{NaiveDate, NaiveDateTime};
use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::{Client, ClientBuilder, ClientId, Credentials, Period, RetryPolicy, Scope};

pub fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

pub fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// The first quarter of 2024, `[Jan 1, Apr 1)`.
pub fn quarter() -> Period {
    Period::parse("2024-01-01 00:00:00", "2024-04-01 00:00:00").unwrap()
}

pub fn start(config: SimConfig) -> BlockingSim {
    Sim::start_blocking(config).expect("the simulator starts")
}

/// A client of the simulator's client-level app, with quick retries and short 429 waits.
pub fn client(sim: &BlockingSim) -> Client<ReqwestTransport> {
    let app = &sim.credentials().client;
    ClientBuilder::new(Credentials::client_credentials(
        &app.client_id,
        &app.client_secret,
    ))
    .base_url(sim.base_url())
    .retry_policy(
        RetryPolicy::default()
            .with_max_attempts(5)
            .with_backoff(Duration::from_millis(1), Duration::from_millis(20)),
    )
    .rate_limit_wait_cap(Duration::from_millis(20))
    .build_async()
    .unwrap()
}

pub fn archive(
    sim: &BlockingSim,
    target: Target,
    catalog: &Path,
    options: ArchiveOptions,
) -> Archive<ReqwestTransport> {
    Archive::new(
        client(sim),
        target,
        Catalog::open(catalog).unwrap(),
        options,
    )
}

/// The simulator's records in `[from, until)`.
pub fn expected(sim: &BlockingSim, from: NaiveDateTime, until: NaiveDateTime) -> Vec<SimRecord> {
    sim.records()
        .into_iter()
        .filter(|r| from <= r.init_time && r.init_time < until)
        .collect()
}

/// Every file under `dir`, by path relative to it.
pub fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// Every entry of the catalog, oldest first.
pub fn entries(catalog: &Catalog) -> Vec<CatalogEntry> {
    found(catalog, &SearchQuery::default())
}

/// Every entry `query` finds, page after page.
pub fn found(catalog: &Catalog, query: &SearchQuery) -> Vec<CatalogEntry> {
    let pages: Result<Vec<Vec<CatalogEntry>>, _> = catalog.search(query).unwrap().collect();
    pages.unwrap().concat()
}

/// The runtime of a test.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A PBX whose API fails often: 10 % 5xx, 5 % dropped and 5 % truncated file bodies (API and
/// storage links), 429 bursts, every token expiring every 40 requests.
pub fn faulty() -> SimConfig {
    SimConfig {
        seed: 4242,
        record_count: 1200,
        max_file_size: Some(160 << 10),
        faults: Faults {
            server_error_percent: 10,
            drop_percent: 5,
            truncate_percent: 5,
            burst_429_every: Some(89),
            burst_429_length: 3,
            expire_tokens_every: Some(40),
            ..Faults::default()
        },
        ..SimConfig::default()
    }
}

/// Checks that `target` holds exactly the first quarter's files, byte for byte, under the
/// catalog's keys, plus one manifest per month listing them — nothing partial, nothing else.
pub fn assert_quarter_kept(
    sim: &BlockingSim,
    target: &Target,
    catalog: &Catalog,
    runtime: &tokio::runtime::Runtime,
) {
    let want = expected(sim, at(2024, 1, 1), at(2024, 4, 1));
    let store = target.store();
    let read = |key: &str| {
        let path = object_store::path::Path::parse(key).unwrap();
        runtime
            .block_on(async { store.get(&path).await.unwrap().bytes().await.unwrap() })
            .to_vec()
    };
    let mut keys = std::collections::BTreeSet::new();
    for record in &want {
        let entry = catalog
            .entry(&record.uuid)
            .unwrap()
            .unwrap_or_else(|| panic!("{} is not in the catalog", record.uuid));
        assert!(
            entry.state.is_kept(),
            "{} is not kept: {:?}",
            record.uuid,
            entry.state
        );
        let key = entry.state.object_key.clone().unwrap();
        let bytes = read(&key);
        assert_eq!(bytes.len() as u64, record.size, "{key}");
        assert!(
            bytes == sim.file_bytes(&record.uuid).unwrap(),
            "{key} differs"
        );
        assert_eq!(entry.state.size, Some(record.size));
        keys.insert(key);
    }
    let listed: Vec<String> = runtime.block_on(async {
        store
            .list(None)
            .map(|meta| meta.unwrap().location.to_string())
            .collect()
            .await
    });
    let others: Vec<&String> = listed
        .iter()
        .filter(|name| !keys.contains(*name) && !name.starts_with("_manifest/"))
        .collect();
    assert!(
        others.is_empty(),
        "unexpected objects in the target: {others:?}"
    );
    assert_eq!(
        entries(catalog).len(),
        want.len(),
        "the catalog has every record once"
    );
    let mut manifests: Vec<&String> = listed
        .iter()
        .filter(|n| n.starts_with("_manifest/"))
        .collect();
    manifests.sort();
    assert_eq!(
        manifests,
        [
            "_manifest/2024-01.jsonl",
            "_manifest/2024-02.jsonl",
            "_manifest/2024-03.jsonl"
        ]
    );
    let lines: usize = manifests
        .iter()
        .map(|m| {
            read(m)
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        })
        .sum();
    assert_eq!(lines, want.len(), "every kept record is in a manifest");
}
