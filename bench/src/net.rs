//! Measures that talk to a simulator: listing, downloading, token requests.

use std::io::Write as _;
use std::time::Instant;

use futures_util::StreamExt;
use serde_json::{Value, json};
use telphin_records::{
    ClientBuilder, ClientId, Credentials, DownloadOptions, DownloadSource, ListOptions, Order,
    Period, QueryWindow, Record, RecordUuid, Scope,
};

use crate::measure::{flag, number, peak_rss_kib, process_cpu, spread, thread_cpu};

/// What the simulator announced: its base URL and the client app's credentials.
pub struct Sim {
    base_url: String,
    client_id: String,
    client_secret: String,
    huge_record: Option<String>,
}

/// The simulator announced in the file of `--sim FILE`.
pub fn sim(args: &[String]) -> Result<Sim, String> {
    let path = flag(args, "--sim").ok_or("--sim FILE is needed")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let line: Value = serde_json::from_str(text.lines().next().unwrap_or_default())
        .map_err(|e| format!("{path}: {e}"))?;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(Sim {
        base_url: text(&line["base_url"]),
        client_id: text(&line["apps"]["client"]["client_id"]),
        client_secret: text(&line["apps"]["client"]["client_secret"]),
        huge_record: line["huge_record_uuid"].as_str().map(str::to_owned),
    })
}

impl Sim {
    /// A client configuration for the simulator's client-level app.
    pub fn builder(&self) -> ClientBuilder {
        ClientBuilder::new(Credentials::client_credentials(
            &self.client_id,
            &self.client_secret,
        ))
        .base_url(&self.base_url)
    }

    /// A token fetched by hand, for the raw variants.
    fn token(&self) -> Result<String, String> {
        let body = ureq::post(format!("{}/oauth/token", self.base_url))
            .send_form([
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
            ])
            .map_err(|e| e.to_string())?
            .body_mut()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        let answer: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok(answer["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

/// The whole PBX.
pub fn pbx() -> Scope {
    Scope::client(ClientId::Me)
}

fn current_thread() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// A multi-threaded runtime of two workers, the same for every measure that needs one.
pub fn two_workers() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// A year listed with the blocking stream: records, time and the peak memory of this process.
pub fn list_stream(args: &[String]) -> Result<String, String> {
    let sim = sim(args)?;
    let order = match flag(args, "--order") {
        Some("desc") => Order::Desc,
        _ => Order::Asc,
    };
    let client = sim.builder().build_blocking().map_err(|e| e.to_string())?;
    let year = Period::year(2024).map_err(|e| e.to_string())?;
    let (started, cpu) = (Instant::now(), process_cpu());
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut first_record_s = None;
    for record in client.records(pbx(), year, ListOptions::new(order)) {
        let record = record.map_err(|e| e.to_string())?;
        first_record_s.get_or_insert_with(|| started.elapsed().as_secs_f64());
        records += 1;
        bytes += record.record_file_size;
    }
    Ok(json!({
        "measure": "list-stream",
        "records": records,
        "file_bytes": bytes,
        "wall_s": started.elapsed().as_secs_f64(),
        "first_record_s": first_record_s,
        "cpu_s": process_cpu() - cpu,
        "peak_rss_kib": peak_rss_kib(),
    })
    .to_string())
}

const WINDOW: (&str, &str) = ("2024-03-01 00:00:00", "2024-03-31 23:59:59");

fn list_url(base: &str) -> String {
    format!(
        "{base}/api/ver1.0/client/@me/record/?start_datetime={}&end_datetime={}&order=asc",
        WINDOW.0.replace(' ', "%20"),
        WINDOW.1.replace(' ', "%20")
    )
}

/// The four ways of listing one window: the SDK's two clients, raw ureq and raw reqwest.
struct Lister {
    token: String,
    url: String,
    runtime: tokio::runtime::Runtime,
    blocking: telphin_records::BlockingHttpClient,
    asynchronous: telphin_records::ReqwestClient,
    agent: ureq::Agent,
    reqwest: reqwest::Client,
}

impl Lister {
    fn new(sim: &Sim) -> Result<Lister, String> {
        Ok(Lister {
            token: sim.token()?,
            url: list_url(&sim.base_url),
            runtime: current_thread()?,
            blocking: sim.builder().build_blocking().map_err(|e| e.to_string())?,
            asynchronous: sim.builder().build_async().map_err(|e| e.to_string())?,
            agent: ureq::Agent::config_builder().build().into(),
            reqwest: reqwest::Client::new(),
        })
    }

    /// Lists `window` once with `variant`: the number of records.
    fn call(&self, variant: &str, window: QueryWindow) -> Result<usize, String> {
        let (token, url) = (&self.token, &self.url);
        let list: Vec<Record> = match variant {
            "sdk-blocking" => self
                .blocking
                .list_window(pbx(), window, Order::Asc)
                .map_err(|e| e.to_string())?,
            "raw-ureq" => {
                let body = self
                    .agent
                    .get(url)
                    .header("Authorization", &format!("Bearer {token}"))
                    .call()
                    .map_err(|e| e.to_string())?
                    .body_mut()
                    .with_config()
                    .limit(1 << 30)
                    .read_to_vec()
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice(&body).map_err(|e| e.to_string())?
            }
            "sdk-async" => self
                .runtime
                .block_on(self.asynchronous.list_window(pbx(), window, Order::Asc))
                .map_err(|e| e.to_string())?,
            _ => self.runtime.block_on(async {
                let body = self
                    .reqwest
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .bytes()
                    .await
                    .map_err(|e| e.to_string())?;
                serde_json::from_slice(&body).map_err(|e| e.to_string())
            })?,
        };
        Ok(list.len())
    }
}

/// One window listed by the SDK and by hand, both transports, interleaved A B A B: wall and
/// CPU time of this thread per call, and the ratios taken within each round.
pub fn list_window(args: &[String]) -> Result<String, String> {
    let sim = sim(args)?;
    let rounds = number(args, "--rounds", 7)?;
    let calls = number(args, "--calls", 20)?;
    let window = QueryWindow::parse(WINDOW.0, WINDOW.1).map_err(|e| e.to_string())?;
    let lister = Lister::new(&sim)?;
    let mut records = 0;
    let mut one = |variant: &str| -> Result<(f64, f64), String> {
        let (started, cpu) = (Instant::now(), thread_cpu());
        for _ in 0..calls {
            records = lister.call(variant, window)?;
        }
        let n = calls as f64;
        Ok((
            started.elapsed().as_secs_f64() / n,
            (thread_cpu() - cpu) / n,
        ))
    };
    // Warm up every variant (connections, tokens).
    for variant in ["sdk-blocking", "raw-ureq", "sdk-async", "raw-reqwest"] {
        one(variant)?;
    }
    let mut table: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut push = |name: &'static str, value: f64| match table.iter_mut().find(|(n, _)| *n == name)
    {
        Some((_, values)) => values.push(value),
        None => table.push((name, vec![value])),
    };
    for round in 0..rounds {
        let order: [&str; 4] = if round % 2 == 0 {
            ["sdk-blocking", "raw-ureq", "sdk-async", "raw-reqwest"]
        } else {
            ["raw-ureq", "sdk-blocking", "raw-reqwest", "sdk-async"]
        };
        let mut got = std::collections::HashMap::new();
        for variant in order {
            got.insert(variant, one(variant)?);
        }
        let (sb, ru, sa, rr) = (
            got["sdk-blocking"],
            got["raw-ureq"],
            got["sdk-async"],
            got["raw-reqwest"],
        );
        push("sdk_blocking_wall_ms", sb.0 * 1e3);
        push("raw_ureq_wall_ms", ru.0 * 1e3);
        push("sdk_async_wall_ms", sa.0 * 1e3);
        push("raw_reqwest_wall_ms", rr.0 * 1e3);
        push("sdk_blocking_cpu_ms", sb.1 * 1e3);
        push("raw_ureq_cpu_ms", ru.1 * 1e3);
        push("sdk_async_cpu_ms", sa.1 * 1e3);
        push("raw_reqwest_cpu_ms", rr.1 * 1e3);
        push("blocking_wall_ratio", sb.0 / ru.0);
        push("blocking_cpu_ratio", sb.1 / ru.1);
        push("async_wall_ratio", sa.0 / rr.0);
        push("async_cpu_ratio", sa.1 / rr.1);
    }
    let mut out =
        json!({"measure": "list-window", "records": records, "rounds": rounds, "calls": calls});
    for (name, values) in table {
        out[name] = spread(&values);
    }
    Ok(out.to_string())
}

/// The ways of downloading the simulator's huge record: the SDK's clients (into a sink, or
/// the async one into a file) and raw ureq / reqwest.
struct Downloader {
    token: String,
    url: String,
    uuid: RecordUuid,
    file: std::path::PathBuf,
    directory: std::path::PathBuf,
    runtime: tokio::runtime::Runtime,
    blocking: telphin_records::BlockingHttpClient,
    asynchronous: telphin_records::ReqwestClient,
}

impl Downloader {
    /// Clients with their tokens and connections made, outside any measure.
    fn new(sim: &Sim) -> Result<Downloader, String> {
        let uuid_text = sim
            .huge_record
            .clone()
            .ok_or("the simulator has no huge record")?;
        // Files go to memory (tmpfs) when the machine has one: the measure is the client's
        // CPU, not the disk's writeback, whose cost lands on whichever run comes next.
        let memory = std::path::Path::new("/dev/shm");
        let base = if memory.is_dir() {
            memory.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let directory = base.join(format!("telphin-bench-{}", std::process::id()));
        std::fs::create_dir_all(&directory).map_err(|e| e.to_string())?;
        let downloader = Downloader {
            token: sim.token()?,
            url: format!("{}/api/ver1.0/client/@me/record/{uuid_text}", sim.base_url),
            uuid: uuid_text.parse().map_err(|e| format!("{e}"))?,
            file: directory.join("download.mp3"),
            directory,
            runtime: current_thread()?,
            blocking: sim.builder().build_blocking().map_err(|e| e.to_string())?,
            asynchronous: sim.builder().build_async().map_err(|e| e.to_string())?,
        };
        downloader
            .blocking
            .monthly_stats(ClientId::Me, None)
            .map_err(|e| e.to_string())?;
        downloader
            .runtime
            .block_on(downloader.asynchronous.monthly_stats(ClientId::Me, None))
            .map_err(|e| e.to_string())?;
        Ok(downloader)
    }

    /// Downloads the record once with `variant`: the bytes received.
    fn call(&self, variant: &str) -> Result<u64, String> {
        let (uuid, url, token, file) = (&self.uuid, &self.url, &self.token, &self.file);
        let options = DownloadOptions::from_source(DownloadSource::Api);
        Ok(match variant {
            "sdk-blocking" => {
                self.blocking
                    .download(pbx(), uuid, &mut std::io::sink(), options)
                    .map_err(|e| e.to_string())?
                    .bytes
            }
            "raw-ureq" => {
                let mut answer = ureq::get(url)
                    .header("Authorization", &format!("Bearer {token}"))
                    .call()
                    .map_err(|e| e.to_string())?;
                std::io::copy(&mut answer.body_mut().as_reader(), &mut std::io::sink())
                    .map_err(|e| e.to_string())?
            }
            "sdk-async" => {
                let sink = &mut tokio::io::sink();
                self.runtime
                    .block_on(self.asynchronous.download(pbx(), uuid, sink, options))
                    .map_err(|e| e.to_string())?
                    .bytes
            }
            "sdk-async-file" => {
                self.runtime
                    .block_on(
                        self.asynchronous
                            .download_to_path(pbx(), uuid, file, options),
                    )
                    .map_err(|e| e.to_string())?
                    .bytes
            }
            "raw-reqwest" | "raw-reqwest-file" => self.runtime.block_on(async {
                let answer = reqwest::Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let mut stream = answer.bytes_stream();
                let mut out = if variant == "raw-reqwest-file" {
                    Some(
                        tokio::fs::File::create(file)
                            .await
                            .map_err(|e| e.to_string())?,
                    )
                } else {
                    None
                };
                let mut bytes = 0u64;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| e.to_string())?;
                    bytes += chunk.len() as u64;
                    if let Some(out) = out.as_mut() {
                        tokio::io::AsyncWriteExt::write_all(out, &chunk)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
                if let Some(out) = out {
                    out.sync_all().await.map_err(|e| e.to_string())?;
                }
                Ok::<u64, String>(bytes)
            })?,
            other => return Err(format!("unknown variant {other}")),
        })
    }
}

impl Drop for Downloader {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// One download of the simulator's huge record by one variant, in this process.
pub fn download(args: &[String]) -> Result<String, String> {
    let sim = sim(args)?;
    let variant = flag(args, "--variant").ok_or("--variant is needed")?;
    let downloader = Downloader::new(&sim)?;
    let (started, cpu) = (Instant::now(), process_cpu());
    let bytes = downloader.call(variant)?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu() - cpu;
    let gib = bytes as f64 / (1u64 << 30) as f64;
    Ok(json!({
        "measure": "download",
        "variant": variant,
        "bytes": bytes,
        "wall_s": wall,
        "cpu_s": cpu,
        "gib_per_s": gib / wall,
        "cpu_s_per_gib": cpu / gib,
        "peak_rss_kib": peak_rss_kib(),
    })
    .to_string())
}

/// Runs `--calls` calls of one variant of `--measure list-window|download` inside
/// `counted`, for callgrind: `cargo xtask bench` runs this program under
/// `valgrind --tool=callgrind --toggle-collect=*counted*`, so that only the client's own
/// instructions of those calls are counted — not the start-up, the token or the connection
/// (made by one call beforehand), nor the simulator, which runs in its own process.
pub fn instructions(args: &[String]) -> Result<String, String> {
    let sim = || sim(args);
    let variant = flag(args, "--variant").ok_or("--variant is needed")?;
    let calls = number(args, "--calls", 1)?;
    let done = match flag(args, "--measure") {
        Some("list-window") => {
            let window = QueryWindow::parse(WINDOW.0, WINDOW.1).map_err(|e| e.to_string())?;
            let lister = Lister::new(&sim()?)?;
            lister.call(variant, window)?;
            counted(|| (0..calls).try_fold(0, |_, _| lister.call(variant, window)))? as u64
        }
        Some("download") => {
            let downloader = Downloader::new(&sim()?)?;
            downloader.call(variant)?;
            counted(|| (0..calls).try_fold(0, |_, _| downloader.call(variant)))?
        }
        Some("download-memory") => {
            let bytes = number(args, "--bytes", 64 << 20)?;
            let download = crate::memory::MemoryDownload::new(bytes)?;
            download.call(variant)?;
            counted(|| (0..calls).try_fold(0, |_, _| download.call(variant)))?
        }
        _ => return Err("--measure list-window|download|download-memory is needed".to_owned()),
    };
    Ok(
        json!({"measure": "instructions", "variant": variant, "calls": calls, "last": done})
            .to_string(),
    )
}

/// The work callgrind counts (see `instructions`).
#[inline(never)]
fn counted<R>(work: impl FnOnce() -> R) -> R {
    std::hint::black_box(work())
}

/// Token requests made by a fresh async client for `--calls` concurrent calls.
pub fn tokens(args: &[String]) -> Result<String, String> {
    let calls = number(args, "--calls", 1000)?;
    let runtime = two_workers()?;
    runtime.block_on(async {
        let config = record_sim::SimConfig {
            record_count: 100,
            ..record_sim::SimConfig::default()
        };
        let sim = record_sim::Sim::start(config)
            .await
            .map_err(|e| e.to_string())?;
        let c = sim.credentials();
        let client = ClientBuilder::new(Credentials::client_credentials(
            &c.client.client_id,
            &c.client.client_secret,
        ))
        .base_url(sim.base_url())
        .build_async()
        .map_err(|e| e.to_string())?;
        let window = QueryWindow::parse("2024-03-01 00:00:00", "2024-03-01 00:00:01")
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let results = futures_util::future::join_all(
            (0..calls).map(|_| client.list_window(pbx(), window, Order::Asc)),
        )
        .await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        let _ = std::io::stderr().flush();
        Ok(json!({
            "measure": "tokens",
            "calls": calls,
            "failed_calls": failed,
            "token_requests": sim.counters().route("token"),
            "wall_s": started.elapsed().as_secs_f64(),
        })
        .to_string())
    })
}
