//! The web page in a real browser: Debian's chromium, driven over WebDriver (chromedriver) by
//! fantoccini, against the service syncing a simulated PBX on loopback. Waits are bounded and
//! end on a condition (the catalog's count, the player's clock); nothing asserts on time.
//!
//! Screenshots are written to `target/web-screenshots/` (test artifacts, not committed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use record_backup::chrono_tz::Tz;
use record_backup::{Catalog, SearchQuery};
use record_service::{Service, ServiceConfig};
use record_sim::{Sim, SimConfig, SimHandle};

const USER: &str = "anna";
const PASSWORD: &str = "anna-listens-to-calls";
const TZ: Tz = record_backup::chrono_tz::Europe::Moscow;
/// The customer whose calls are searched, written three ways on the PBX.
const CUSTOMER: [&str; 3] = ["+7 (916) 555-01-23", "8 916 555 0123", "79165550123"];

/// A process killed when the test ends, pass or fail.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) until `probe` gives something.
async fn until<T>(what: &str, bound: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(start.elapsed() < bound, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// chromedriver on a free loopback port, and a headless chromium session through it.
async fn browser(shots: &Path) -> (Killed, Client) {
    let driver = [
        "chromedriver",
        "/usr/bin/chromedriver",
        "/usr/lib/chromium/chromedriver",
    ]
    .into_iter()
    .find(|path| Command::new(path).arg("--version").output().is_ok())
    .expect(
        "chromedriver is missing: install Debian's chromium and chromium-driver \
             (.ci/run does)",
    );
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Killed(child);
    until(
        "chromedriver to listen",
        Duration::from_secs(30),
        async || TcpStream::connect(("127.0.0.1", port)).ok(),
    )
    .await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": chromium(),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1280,1100",
                "--mute-audio", "--no-first-run", "--disable-extensions",
            ],
            "prefs": { "intl.accept_languages": "en-US,en" },
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    std::fs::create_dir_all(shots).unwrap();
    (child, client)
}

fn chromium() -> &'static str {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .find(|path| Path::new(path).exists())
    .expect("chromium is missing: install Debian's chromium (.ci/run does)")
}

async fn screenshot(client: &Client, shots: &Path, name: &str) {
    let png = client.screenshot().await.unwrap();
    std::fs::write(shots.join(format!("{name}.png")), png).unwrap();
}

/// A plain HTTP/1.1 GET on loopback: the status line's code, the headers, the body.
fn http_get(addr: SocketAddr, path: &str, cookie: Option<&str>) -> (u16, String, Vec<u8>) {
    http_get_with(addr, path, cookie, "")
}

/// The same with `extra` header lines (each ending in CRLF).
fn http_get_with(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
    extra: &str,
) -> (u16, String, Vec<u8>) {
    request(addr, "GET", path, cookie, extra)
}

/// A plain HTTP/1.1 request of `method` on loopback.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    extra: &str,
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = unchunk(&body);
    }
    (status, head, body)
}

fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line + 2..line + 2 + size]);
        raw = &raw[line + 4 + size..];
    }
}

/// The service's metric `name` with `labels`, from `/metrics` (parsed as Prometheus text).
fn metric(addr: SocketAddr, name: &str, labels: &[(&str, &str)]) -> f64 {
    let (_, _, body) = http_get(addr, "/metrics", None);
    let text = String::from_utf8(body).unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// Calls over the last 20 days: the customer's three, and others on every extension.
fn place_calls(sim: &SimHandle) -> Vec<String> {
    let now = Utc::now().naive_utc();
    let extensions: Vec<u64> = sim.extensions().iter().map(|e| e.id).collect();
    let mut uuids = Vec::new();
    for (n, number) in CUSTOMER.iter().enumerate() {
        let at = now - chrono::Duration::hours(30 + 49 * n as i64);
        uuids.push(sim.add_call_with(extensions[0], at, number).unwrap().uuid);
    }
    for n in 0..30i64 {
        let at = now - chrono::Duration::minutes(95 + n * 16 * 60 + n * 7);
        let extension = extensions[n as usize % extensions.len()];
        let number = format!("+7 495 {:03} {:02} {:02}", 200 + n, n, 99 - n);
        uuids.push(sim.add_call_with(extension, at, &number).unwrap().uuid);
    }
    uuids
}

fn config(sim: &SimHandle, dir: &Path) -> ServiceConfig {
    let secret = dir.join("client-secret");
    std::fs::write(&secret, &sim.credentials().client.client_secret).unwrap();
    let since = (Utc::now() - chrono::Duration::days(40)).format("%Y-%m-%d");
    let hash = record_service::hash_password(PASSWORD).unwrap();
    let text = format!(
        "[service]\nlisten = \"127.0.0.1:0\"\ninterval = \"1h\"\n\n\
         [web]\nlisten = \"127.0.0.1:0\"\ntz = \"Europe/Moscow\"\n\n\
         [[web.user]]\nname = \"{USER}\"\npassword_hash = \"{hash}\"\n\n\
         [[pbx]]\nname = \"main\"\nbase_url = \"{}\"\nclient_id = \"{}\"\n\
         client_secret_file = \"{}\"\ntarget = \"{}\"\ncatalog = \"{}\"\nsince = \"{since}\"\n",
        sim.base_url(),
        sim.credentials().client.client_id,
        secret.display(),
        dir.join("archive").display(),
        dir.join("main.sqlite").display(),
    );
    ServiceConfig::parse(&text, &dir.join("serve.toml"), Vec::new()).unwrap()
}

fn shots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/web-screenshots")
        .to_path_buf()
}

async fn log_in(client: &Client, web: SocketAddr, password: &str) {
    client.goto(&format!("http://{web}/search")).await.unwrap();
    let url = client.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        "/login",
        "an anonymous page goes to the login form"
    );
    client
        .find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys(USER)
        .await
        .unwrap();
    client
        .find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    client
        .find(Locator::Css("form.login button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The rectangles of series `index` in an SVG: their x and height.
fn bars_of(svg: &str, index: usize) -> Vec<(f64, f64)> {
    const FILLS: [&str; 8] = [
        "#2458C6", "#E07B24", "#2F9E5B", "#B8384E", "#7B5CC4", "#8A8F99", "#C2A31B", "#1B9BB0",
    ];
    let number = |rect: &str, attribute: &str| -> f64 {
        let at = rect.find(&format!(" {attribute}=\"")).unwrap() + attribute.len() + 3;
        rect[at..at + rect[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    svg.split("<rect")
        .skip(1)
        .filter(|rect| rect.contains(&format!("fill=\"{}\"", FILLS[index])))
        .map(|rect| (number(rect, "x"), number(rect, "height")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_listen_and_overview_in_a_real_browser() {
    let shots = shots_dir();
    let sim = Sim::start(SimConfig {
        seed: 23,
        record_count: 0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let placed = place_calls(&sim);
    let dir = tempfile::tempdir().unwrap();
    let config = config(&sim, dir.path());
    let service = Service::start(&config).await.unwrap();
    let api = service.local_addr().unwrap();
    let web = service.web_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(service.run(async {
        let _ = stopped.await;
    }));
    // The first sync keeps every call placed.
    let catalog = Catalog::open(dir.path().join("main.sqlite")).unwrap();
    until(
        "the first sync to keep every call",
        Duration::from_secs(120),
        async || {
            let kept = catalog
                .search(&SearchQuery::default())
                .unwrap()
                .flat_map(|page| page.unwrap())
                .filter(|entry| entry.state.is_kept())
                .count();
            (kept == placed.len()).then_some(())
        },
    )
    .await;

    // Anonymous: pages go to the login form, files are refused; every answer has the headers.
    let customer_uuid = &placed[0];
    let (status, head, _) = http_get(web, "/search?number=0123", None);
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /login?next="), "{head}");
    for header in [
        "content-security-policy: default-src 'none'; style-src 'self'",
        "frame-ancestors 'none'",
        "x-content-type-options: nosniff",
    ] {
        assert!(
            head.to_ascii_lowercase().contains(header),
            "{header}: {head}"
        );
    }
    for path in [
        format!("/recordings/main/{customer_uuid}/audio"),
        format!("/recordings/main/{customer_uuid}/access.csv"),
        "/access.csv".to_owned(),
    ] {
        let (status, _, body) = http_get(web, &path, None);
        assert_eq!(status, 401, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains("ID3"), "{path}");
    }
    assert_eq!(http_get(web, "/overview", None).0, 303);
    assert_eq!(
        http_get(web, &format!("/recordings/main/{customer_uuid}"), None).0,
        303
    );

    let (_driver, client) = browser(&shots).await;

    // A wrong password is refused.
    log_in(&client, web, "not-her-password").await;
    let refused = client
        .wait()
        .for_element(Locator::Css("p.refused"))
        .await
        .unwrap();
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Wrong name or password")
    );
    assert_eq!(client.current_url().await.unwrap().path(), "/login");
    screenshot(&client, &shots, "1-login-refused").await;
    assert_eq!(
        metric(
            api,
            "telphin_records_web_logins_total",
            &[("kind", "refused")]
        ),
        1.0
    );

    // The right one opens the search.
    log_in(&client, web, PASSWORD).await;
    client
        .wait()
        .for_element(Locator::Css("form.search"))
        .await
        .unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/search");
    let session = client.get_named_cookie("telphin_session").await.unwrap();
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    let cookie = format!("telphin_session={}", session.value());

    // A browser that prefers Russian gets the page in Russian.
    let (status, _, body) = http_get_with(
        web,
        "/search",
        Some(&cookie),
        "Accept-Language: ru-RU,ru;q=0.9,en;q=0.5\r\n",
    );
    assert_eq!(status, 200);
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("<html lang=\"ru\">") && body.contains("Поиск звонков"));

    // A HEAD says what a GET would send, reads nothing and is not logged.
    let (status, head, body) = request(
        web,
        "HEAD",
        &format!("/recordings/main/{customer_uuid}/audio?download=1"),
        Some(&cookie),
        "Range: bytes=0-99\r\n",
    );
    let head = head.to_ascii_lowercase();
    assert_eq!(status, 206, "{head}");
    assert!(body.is_empty());
    for line in [
        "content-length: 100",
        "content-range: bytes 0-99/",
        "accept-ranges: bytes",
        "content-type: audio/mpeg",
        "content-disposition: attachment;",
    ] {
        assert!(head.contains(line), "{line}: {head}");
    }
    // A form posted from another site is refused, whatever cookies it carries.
    let (status, _, _) = request(
        web,
        "POST",
        "/logout",
        Some(&cookie),
        "Origin: https://elsewhere.example\r\nContent-Length: 0\r\n",
    );
    assert_eq!(status, 403);

    // A number, as the customer gives it: exactly the catalog's matches.
    let number = client
        .find(Locator::Css("input[name=number]"))
        .await
        .unwrap();
    number.send_keys("(916) 555-01-23").await.unwrap();
    client
        .find(Locator::Css("form.search button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The click leaves the landing page (which has a summary too) for the search's.
    until("the search's page", Duration::from_secs(30), async || {
        let url = client.current_url().await.unwrap();
        url.query()
            .is_some_and(|query| query.contains("number="))
            .then_some(())
    })
    .await;
    client
        .wait()
        .for_element(Locator::Css("p.summary"))
        .await
        .unwrap();
    let rows = client
        .find_all(Locator::Css("table.results tbody tr"))
        .await
        .unwrap();
    let mut shown = BTreeSet::new();
    for row in &rows {
        shown.insert(row.attr("data-uuid").await.unwrap().unwrap());
    }
    let expected: BTreeSet<String> = catalog
        .search(&SearchQuery::default().number("(916) 555-01-23"))
        .unwrap()
        .flat_map(|page| page.unwrap())
        .map(|entry| entry.record.record_uuid.to_string())
        .collect();
    assert_eq!(shown, expected);
    assert_eq!(shown, placed[..3].iter().cloned().collect());
    screenshot(&client, &shots, "2-search").await;

    // Open a recording and play it: the player's clock runs, and the server answered a
    // Range request with 206.
    client
        .find(Locator::Css("table.results tbody tr td a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("audio#player"))
        .await
        .unwrap();
    let played = client
        .execute(
            "const a = document.getElementById('player'); return a.play().then(() => true);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(played, serde_json::json!(true));
    let clock = async || -> f64 {
        client
            .execute(
                "return document.getElementById('player').currentTime;",
                vec![],
            )
            .await
            .unwrap()
            .as_f64()
            .unwrap()
    };
    until(
        "the player's clock to pass 1 s",
        Duration::from_secs(30),
        async || (clock().await > 1.0).then_some(()),
    )
    .await;
    assert!(
        metric(
            api,
            "telphin_records_web_audio_responses_total",
            &[("kind", "206")]
        ) >= 1.0,
        "the player's Range request was answered with 206"
    );
    // Seek towards the end: the clock jumps there and runs on.
    let duration = client
        .execute("return document.getElementById('player').duration;", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(duration > 10.0, "a call of {duration} s");
    let target = (duration * 0.7).floor();
    client
        .execute(
            "document.getElementById('player').currentTime = arguments[0];",
            vec![serde_json::json!(target)],
        )
        .await
        .unwrap();
    until(
        "the seek to land and play on",
        Duration::from_secs(30),
        async || (clock().await > target + 0.5).then_some(()),
    )
    .await;
    screenshot(&client, &shots, "3-recording-playing").await;

    // The access log holds the playback, on the page and in the CSV.
    client.refresh().await.unwrap();
    let logged = client
        .wait()
        .for_element(Locator::Css("table#access tbody tr"))
        .await
        .unwrap();
    assert_eq!(
        logged.attr("data-user").await.unwrap().as_deref(),
        Some(USER)
    );
    assert_eq!(
        logged.attr("data-action").await.unwrap().as_deref(),
        Some("play")
    );
    let opened = client.current_url().await.unwrap();
    let opened_uuid = opened.path().rsplit('/').next().unwrap().to_owned();
    let lines = catalog.accesses_of(&opened_uuid, 10).unwrap();
    assert_eq!(
        lines.len(),
        1,
        "ranged requests and the seek are one playback; the HEAD none"
    );
    assert_eq!(
        opened_uuid, *customer_uuid,
        "the newest of the customer's calls"
    );
    assert_eq!(lines[0].user, USER);
    assert_eq!(lines[0].address, "127.0.0.1");
    let (status, _, csv) = http_get(
        web,
        &format!("/recordings/main/{opened_uuid}/access.csv"),
        Some(&cookie),
    );
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("time_utc,user,action,recording,address\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(",{USER},play,{opened_uuid},127.0.0.1")),
        "{csv}"
    );
    screenshot(&client, &shots, "4-recording-access-log").await;

    // The overview: one bar per day with calls, the day's totals as the catalog has them.
    client
        .goto(&format!("http://{web}/overview"))
        .await
        .unwrap();
    let chart = client
        .wait()
        .for_element(Locator::Css(
            "section.pbx[data-pbx=main] div.chart[data-chart=flow]",
        ))
        .await
        .unwrap();
    assert_eq!(
        chart.attr("data-days").await.unwrap().as_deref(),
        Some("30")
    );
    let svg = chart.html(true).await.unwrap();
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    for entry in catalog
        .search(&SearchQuery::default())
        .unwrap()
        .flat_map(|page| page.unwrap())
    {
        let day = entry
            .record
            .init_time_gmt
            .instant()
            .with_timezone(&TZ)
            .date_naive();
        if (today - day).num_days() < 30 {
            *per_day.entry(day).or_default() += 1;
        }
    }
    let rows = client
        .find_all(Locator::Css(
            "section.pbx[data-pbx=main] table.days tbody tr",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 30, "a row per day");
    for row in &rows {
        let day: NaiveDate = row
            .attr("data-day")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        let calls: u64 = row
            .attr("data-calls")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(calls, per_day.get(&day).copied().unwrap_or(0), "{day}");
    }
    // Each series' rectangles: the days with calls of it; stacked, a day's heights sum to its
    // total, in proportion.
    let legend = client
        .find_all(Locator::Css(
            "section.pbx[data-pbx=main] div.legend + div.chart[data-chart=flow]",
        ))
        .await
        .unwrap();
    assert_eq!(legend.len(), 1);
    let mut heights: BTreeMap<i64, f64> = BTreeMap::new();
    for series in 0..8 {
        for (x, height) in bars_of(&svg, series) {
            *heights.entry(x.round() as i64).or_default() += height;
        }
    }
    assert_eq!(
        heights.len(),
        per_day.len(),
        "one bar per day with calls: {heights:?}"
    );
    let totals: Vec<u64> = per_day.values().copied().collect();
    let bars: Vec<f64> = heights.values().copied().collect();
    let scale = bars[0] / totals[0] as f64;
    for (bar, total) in bars.iter().zip(&totals) {
        assert!(
            (bar - scale * *total as f64).abs() <= 2.0,
            "bars {bars:?} for totals {totals:?}"
        );
    }
    screenshot(&client, &shots, "5-overview").await;
    client
        .execute(
            "document.querySelector('[data-chart=storage]').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&client, &shots, "5-overview-storage").await;

    // Russian: the switch, and the page's labels.
    client
        .find(Locator::Css("header a.lang"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The switch leaves the English overview (its title is there until the Russian one comes).
    until(
        "the Russian overview",
        Duration::from_secs(30),
        async || {
            let title = client.find(Locator::Css("main h1")).await.ok()?;
            (title.text().await.ok()? == "Обзор").then_some(())
        },
    )
    .await;
    let html = client.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("ru"));
    let page = client.source().await.unwrap();
    for label in ["Звонки по дням и направлениям", "Объём по месяцам", "Поиск"]
    {
        assert!(page.contains(label), "{label}");
    }
    screenshot(&client, &shots, "6-overview-ru").await;

    // Logging out ends the session.
    client
        .find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("form.login"))
        .await
        .unwrap();
    assert_eq!(
        http_get(
            web,
            &format!("/recordings/main/{opened_uuid}/audio"),
            Some(&cookie)
        )
        .0,
        401
    );

    client.close().await.unwrap();
    let _ = stop.send(());
    running.await.unwrap();
}
