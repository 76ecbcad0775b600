//! `telphin-bench-web`: the web page of `telphin-records serve` at a call centre's size.
//!
//! `run --cli PATH --catalog FILE --out DIR --rounds N --file-mib M` serves two archives with
//! `sync = false`: the generated catalog (`telphin-bench-catalog generate`) and a catalog of
//! one recording of M MiB kept in S3 (moto's server on loopback, filled by a real backup from
//! the simulator). Over HTTP on loopback it times the search page (the first page of a
//! customer's number, a different customer each round) and the overview (30 and 90 days of
//! the busiest year), then asks for the last MiB of the S3 recording as a player's seek does:
//! the time to its first byte, and the bytes the service read from S3 for it (its
//! `web_audio_read_bytes` counter). Last, the service's peak resident set (`VmHWM`).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use record_backup::{Archive, ArchiveOptions, Catalog, Outcome, Target};
use record_sim::{Sim, SimConfig};
use serde_json::{Value, json};
use telphin_bench::callcentre::{customer, mix};
use telphin_bench::measure::{flag, free_port, number, spread, status_kib};
use telphin_records::{ClientBuilder, ClientId, Credentials, Period, Scope};

/// The generated call centre's customers (as `telphin-bench-catalog`).
const CUSTOMERS: u64 = 2_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => fail(&error.to_string()),
    };
    match runtime.block_on(run(&args)) {
        Ok(value) => println!("{value}"),
        Err(error) => fail(&error),
    }
}

fn fail(error: &str) -> ! {
    eprintln!("telphin-bench-web: {error}");
    std::process::exit(1)
}

/// A child process, killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16, child: &mut Child, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited ({status})"));
        }
        if Instant::now() > deadline {
            return Err(format!("{what} did not listen"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// moto's S3 server on a free loopback port.
fn moto() -> Result<(Killed, String), String> {
    let port = free_port()?;
    let mut child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("python3 with moto[server] (.ci/run installs it): {e}"))?;
    wait_for_port(port, &mut child, "moto's server")?;
    Ok((Killed(child), format!("http://127.0.0.1:{port}")))
}

/// One GET over a new connection: the status, the time to the first byte of the body, the
/// whole time, and the body.
struct Answer {
    status: u16,
    first_byte_ms: f64,
    total_ms: f64,
    body: Vec<u8>,
}

fn get(port: u16, path: &str, headers: &str) -> Result<Answer, String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let mut first_byte_ms = f64::NAN;
    let mut head_end = None;
    loop {
        let read = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if read == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..read]);
        if head_end.is_none() {
            head_end = raw
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|at| at + 4);
        }
        if first_byte_ms.is_nan() && head_end.is_some_and(|end| raw.len() > end) {
            first_byte_ms = started.elapsed().as_secs_f64() * 1e3;
        }
    }
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    let end = head_end.ok_or("no HTTP head")?;
    let head = String::from_utf8_lossy(&raw[..end]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    Ok(Answer {
        status,
        first_byte_ms,
        total_ms,
        body: raw[end..].to_vec(),
    })
}

/// The service's counter `name` for `pbx`, from `/metrics`.
fn counter(port: u16, name: &str, pbx: &str) -> Result<f64, String> {
    let answer = get(port, "/metrics", "")?;
    let text = String::from_utf8_lossy(&answer.body).to_string();
    Ok(text
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(&format!("pbx=\"{pbx}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// A catalog of one recording of `size` bytes, backed up from the simulator into S3.
async fn s3_archive(dir: &Path, endpoint: &str, size: u64) -> Result<(PathBuf, String), String> {
    let answer = reqwest::Client::new()
        .put(format!("{endpoint}/recordings"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !answer.status().is_success() {
        return Err(format!("moto's CreateBucket: {}", answer.status()));
    }
    let sim = Sim::start(SimConfig {
        seed: 77,
        record_count: 0,
        huge_file_size: Some(size),
        ..SimConfig::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    let uuid = sim.huge_record_uuid().ok_or("no big recording")?.to_owned();
    let app = &sim.credentials().client;
    let client = ClientBuilder::new(Credentials::client_credentials(
        &app.client_id,
        &app.client_secret,
    ))
    .base_url(sim.base_url())
    .build_async()
    .map_err(|e| e.to_string())?;
    let target = Target::from_url(
        "s3://recordings/pbx",
        [
            ("aws_endpoint", endpoint),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "testing"),
            ("aws_secret_access_key", "testing"),
        ],
    )
    .map_err(|e| e.to_string())?;
    let path = dir.join("s3.sqlite");
    let catalog = Catalog::open(&path).map_err(|e| e.to_string())?;
    let archive = Archive::new(client, target, catalog, ArchiveOptions::default());
    // The big recording starts at noon on 2024-06-15.
    let period =
        Period::parse("2024-06-15 12:00:00", "2024-06-15 12:00:01").map_err(|e| e.to_string())?;
    let report = archive
        .backup(Scope::client(ClientId::Me), period)
        .await
        .map_err(|e| e.to_string())?;
    if report.outcome != Outcome::Complete || report.stored != 1 {
        return Err(format!("the S3 backup: {report:?}"));
    }
    Ok((path, uuid))
}

async fn run(args: &[String]) -> Result<Value, String> {
    let cli = PathBuf::from(flag(args, "--cli").ok_or("--cli PATH")?);
    let catalog = PathBuf::from(flag(args, "--catalog").ok_or("--catalog FILE")?);
    let out = PathBuf::from(flag(args, "--out").ok_or("--out DIR")?);
    let rounds = number(args, "--rounds", 20)? as u64;
    let records = number(args, "--records", 10_000_000)? as u64;
    let file_size = number(args, "--file-mib", 50)? as u64 * 1024 * 1024;
    let dir = out.join("web");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

    // The catalog brought to the newest schema first (once: schema 6 counts every record into
    // its per-hour and per-month tables).
    let started = Instant::now();
    drop(Catalog::open(&catalog).map_err(|e| e.to_string())?);
    let migrate_s = started.elapsed().as_secs_f64();

    let (_moto, endpoint) = moto()?;
    let (s3_catalog, uuid) = s3_archive(&dir, &endpoint, file_size).await?;

    let secret = dir.join("secret");
    // The application's secret (unused: sync = false) and moto's secret key.
    std::fs::write(&secret, "testing").map_err(|e| e.to_string())?;
    let (api, web) = (free_port()?, free_port()?);
    let config = format!(
        "[service]\nlisten = \"127.0.0.1:{api}\"\n\n[web]\nlisten = \"127.0.0.1:{web}\"\n\
         tz = \"Europe/Moscow\"\n\n\
         [[pbx]]\nname = \"callcentre\"\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"bench\"\n\
         client_secret_file = \"{secret}\"\ntarget = \"{empty}\"\ncatalog = \"{catalog}\"\nsync = false\n\n\
         [[pbx]]\nname = \"s3\"\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"bench\"\n\
         client_secret_file = \"{secret}\"\ntarget = \"s3://recordings/pbx\"\ncatalog = \"{s3}\"\n\
         sync = false\n\n[pbx.target_options]\naws_endpoint = \"{endpoint}\"\n\
         aws_allow_http = \"true\"\naws_region = \"us-east-1\"\naws_access_key_id = \"testing\"\n\
         aws_secret_access_key_file = \"{secret}\"\n",
        secret = secret.display(),
        empty = dir.join("empty-target").display(),
        catalog = catalog.display(),
        s3 = s3_catalog.display(),
    );
    let config_path = dir.join("serve.toml");
    std::fs::write(&config_path, config).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("serve.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(&cli)
        .args(["serve", "--config"])
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cli.display()))?;
    wait_for_port(web, &mut child, "the service")?;
    let served = Killed(child);
    let pid = served.0.id();

    // The search page: the first page of a customer's number, one customer per round.
    let mut search_ms = Vec::new();
    let mut found = Vec::new();
    for round in 0..rounds {
        let call = mix(round ^ 0x5EA) % records;
        let number = customer((mix(call) >> 16) % CUSTOMERS);
        let answer = get(web, &format!("/search?pbx=callcentre&number={number}"), "")?;
        if answer.status != 200 {
            return Err(format!("the search page answered {}", answer.status));
        }
        let body = String::from_utf8_lossy(&answer.body);
        found.push(body.matches("<tr data-uuid=").count() as f64);
        search_ms.push(answer.total_ms);
    }
    // The landing page: the newest calls, counted up to 10 000.
    let mut landing_ms = Vec::new();
    for _ in 0..rounds {
        let answer = get(web, "/search?pbx=callcentre", "")?;
        if answer.status != 200 {
            return Err(format!("the search page answered {}", answer.status));
        }
        landing_ms.push(answer.total_ms);
    }
    // The overview: the last 30 and 90 days of 2024, the busiest year of the generated one.
    let mut overview = serde_json::Map::new();
    for days in [30, 90] {
        let mut times = Vec::new();
        for _ in 0..rounds {
            let answer = get(web, &format!("/overview?days={days}&end=2024-12-31"), "")?;
            if answer.status != 200 {
                return Err(format!("the overview answered {}", answer.status));
            }
            times.push(answer.total_ms);
        }
        overview.insert(format!("days_{days}_ms"), spread(&times));
    }
    // A seek to the last MiB of the recording in S3.
    let read_before = counter(api, "telphin_records_web_audio_read_bytes_total", "s3")?;
    let from = file_size - (1 << 20);
    let seek = get(
        web,
        &format!("/recordings/s3/{uuid}/audio"),
        &format!("Range: bytes={from}-\r\n"),
    )?;
    let read_after = counter(api, "telphin_records_web_audio_read_bytes_total", "s3")?;
    if seek.status != 206 || seek.body.len() as u64 != 1 << 20 {
        return Err(format!(
            "the seek answered {} with {} bytes",
            seek.status,
            seek.body.len()
        ));
    }
    let whole = get(web, &format!("/recordings/s3/{uuid}/audio"), "")?;
    if whole.status != 200 || whole.body.len() as u64 != file_size {
        return Err(format!("the whole file answered {}", whole.status));
    }
    let peak_rss_kib = status_kib(pid, "VmHWM:");
    drop(served);
    Ok(json!({
        "measure": "web-page",
        "records": records,
        "rounds": rounds,
        "migrate_to_schema_6_s": migrate_s,
        "search_first_page_ms": spread(&search_ms),
        "search_rows_found": spread(&found),
        "search_landing_ms": spread(&landing_ms),
        "overview": overview,
        "seek": {
            "file_bytes": file_size,
            "range_bytes": 1u64 << 20,
            "first_byte_ms": seek.first_byte_ms,
            "read_from_s3_bytes": read_after - read_before,
            "whole_file_first_byte_ms": whole.first_byte_ms,
            "whole_file_ms": whole.total_ms,
        },
        "service_peak_rss_kib": peak_rss_kib,
        "service_peak_rss_mib": peak_rss_kib as f64 / 1024.0,
    }))
}
