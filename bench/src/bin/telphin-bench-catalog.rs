//! `telphin-bench-catalog`: a call centre's catalog, generated through the catalog's own insert
//! path (`Catalog::add_listed`), then searched as its users search it — first pages by number
//! (whole and last digits), by extension and month, by flow, result and duration — with the
//! time of each first page and the peak memory of the searching process.
//!
//! `generate --path FILE --records N` builds (or keeps, when a finished one of that size is
//! there) the catalog; `search --path FILE --records N --rounds R` measures it. Two processes,
//! so that the search's memory is its own.

use std::path::{Path, PathBuf};
use std::time::Instant;

use record_backup::{Catalog, SearchQuery};
use serde_json::{Value, json};
use telphin_records::{ExtensionId, Period, Record, Scope};

use telphin_bench::callcentre::{customer, mix};
use telphin_bench::measure::{flag, number, peak_rss_kib, spread};

/// Records per `add_listed` transaction, as a backup's listing batches them.
const BATCH: usize = 5_000;
/// Calls of the generated call centre per year.
const PER_YEAR: u64 = 2_500_000;
/// Its operators' extensions.
const EXTENSIONS: u64 = 200;
/// Its customers' numbers.
const CUSTOMERS: u64 = 2_000_000;
/// The first call: 2021-01-01 00:00:00 UTC.
const FIRST_CALL: i64 = 1_609_459_200;
/// Changes whenever the generated records change: an older catalog is generated again.
/// (The catalog's schema and page size count: a catalog of another version is not searched.)
const GENERATOR: &str = "call-centre-2, 4 KiB pages, schema 2";

/// The `n`th call of the call centre, as the API lists it.
fn call(n: u64, template: &Value) -> Result<Record, String> {
    let r = mix(n);
    let seconds_apart = 365 * 86_400 / PER_YEAR as i64;
    let at = FIRST_CALL + n as i64 * seconds_apart + (r % 7) as i64;
    let time = telphin_records::chrono::DateTime::from_timestamp(at, 0)
        .ok_or("a time out of range")?
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let extension = 1_000 + (r >> 8) % EXTENSIONS;
    let customer = customer((r >> 16) % CUSTOMERS);
    let flow = match (r >> 40) % 20 {
        0..=11 => "in",
        12..=18 => "out",
        _ => "internal",
    };
    let result = match (r >> 45) % 10 {
        0..=6 => "answered",
        7 => "busy",
        _ => "not answered",
    };
    let duration = if result == "answered" {
        5 + (r >> 50) % 900
    } else {
        0
    };
    let company = format!("7495123456{}", (r >> 60) % 3);
    let short = format!("{extension}");
    let (from, to) = if flow == "out" {
        (short.clone(), customer.clone())
    } else {
        (customer.clone(), short.clone())
    };
    let mut value = template.clone();
    value["record_uuid"] = format!("30-{n:032X}").into();
    value["call_uuid"] = format!("{:032x}", mix(n ^ 0xA5A5)).into();
    value["init_time_gmt"] = time.clone().into();
    value["start_time_gmt"] = time.into();
    value["hangup_time_gmt"] = Value::Null;
    value["extension_id"] = extension.into();
    value["extension_name"] = format!("00030*{extension}@sipproxy.telphin.ru").into();
    value["flow"] = flow.into();
    value["result"] = result.into();
    value["duration"] = duration.into();
    value["record_file_size"] = (duration * 16_000 + 4_000).into();
    value["from_username"] = from.clone().into();
    value["source_number"] = from.into();
    value["to_username"] = to.clone().into();
    value["dest_number"] = to.into();
    value["did_number"] = company.clone().into();
    value["ext_number_reg"] = company.into();
    value["ani_number"] = customer.into();
    value["file_name"] = format!("{n}.mp3").into();
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn template() -> Result<Value, String> {
    serde_json::from_str(include_str!(
        "../../../crates/record-model/tests/fixtures/full_record.json"
    ))
    .map_err(|e| e.to_string())
}

/// The marker of a finished catalog of `records` calls.
fn marker(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".done");
    PathBuf::from(name)
}

fn finished(records: u64) -> String {
    format!("{GENERATOR} {records}")
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".done"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

fn generate(args: &[String]) -> Result<Value, String> {
    let path = PathBuf::from(flag(args, "--path").ok_or("--path FILE is needed")?);
    let records = number(args, "--records", 100_000)? as u64;
    if std::fs::read_to_string(marker(&path)).ok() == Some(finished(records)) {
        return Ok(json!({"measure": "catalog-generate", "records": records, "kept": true}));
    }
    remove(&path);
    let template = template()?;
    let catalog = Catalog::open(&path).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for n in 0..records {
        batch.push(call(n, &template)?);
        if batch.len() == BATCH || n + 1 == records {
            catalog.add_listed(&batch).map_err(|e| e.to_string())?;
            batch.clear();
        }
        if n % 1_000_000 == 999_999 {
            eprintln!(
                "telphin-bench-catalog: {} records in {:.0} s",
                n + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(catalog);
    let seconds = started.elapsed().as_secs_f64();
    std::fs::write(marker(&path), finished(records)).map_err(|e| e.to_string())?;
    Ok(json!({
        "measure": "catalog-generate",
        "records": records,
        "kept": false,
        "insert_s": seconds,
        "records_per_s": records as f64 / seconds,
    }))
}

/// The time of the first page of `query`, in milliseconds, and how many entries it held.
fn first_page(catalog: &Catalog, query: &SearchQuery) -> Result<(f64, usize), String> {
    let started = Instant::now();
    let mut search = catalog.search(query).map_err(|e| e.to_string())?;
    let page = search.next_page().map_err(|e| e.to_string())?;
    Ok((
        started.elapsed().as_secs_f64() * 1e3,
        page.map_or(0, |p| p.len()),
    ))
}

/// Times `rounds` first pages of the queries `make` gives for round 0, 1, ...
fn timed(
    catalog: &Catalog,
    rounds: u64,
    make: impl Fn(u64) -> Result<SearchQuery, String>,
) -> Result<Value, String> {
    let mut times = Vec::new();
    let mut found = Vec::new();
    for round in 0..rounds {
        let (ms, entries) = first_page(catalog, &make(round)?)?;
        times.push(ms);
        found.push(entries as f64);
    }
    Ok(json!({"first_page_ms": spread(&times), "entries": spread(&found)}))
}

fn search(args: &[String]) -> Result<Value, String> {
    let path = PathBuf::from(flag(args, "--path").ok_or("--path FILE is needed")?);
    let records = number(args, "--records", 100_000)? as u64;
    let rounds = number(args, "--rounds", 20)? as u64;
    let catalog = Catalog::open(&path).map_err(|e| e.to_string())?;
    let years = records.div_ceil(PER_YEAR).max(1);
    // Customers who called: those of calls spread over the catalog.
    let called = |round: u64| {
        let n = mix(round ^ 0x5EED) % records;
        customer((mix(n) >> 16) % CUSTOMERS)
    };
    let full = timed(&catalog, rounds, |round| {
        let number = called(round);
        let spaced = format!(
            "+{} ({}) {}-{}",
            &number[..1],
            &number[1..4],
            &number[4..7],
            &number[7..]
        );
        Ok(SearchQuery::default().number(spaced))
    })?;
    let trailing = timed(&catalog, rounds, |round| {
        let number = called(round);
        let digits = 4 + (round % 4) as usize;
        Ok(SearchQuery::default().number(&number[number.len() - digits..]))
    })?;
    let extension_month = timed(&catalog, rounds, |round| {
        let r = mix(round ^ 0xE7);
        let extension = 1_000 + r % EXTENSIONS;
        let year = 2021 + ((r >> 20) % years) as i32;
        let month = 1 + ((r >> 30) % 12) as u32;
        Ok(SearchQuery::default()
            .scope(Scope::Extension(ExtensionId::new(extension)))
            .period(Period::month(year, month).map_err(|e| e.to_string())?))
    })?;
    let outcome = timed(&catalog, rounds, |round| {
        let flows = ["in", "out"];
        let results = ["answered", "busy", "answered", "not answered"];
        Ok(SearchQuery::default()
            .flow(flows[(round % 2) as usize])
            .result(results[(round / 2 % 4) as usize])
            .min_duration(if round % 8 < 4 { 60 + round * 30 } else { 0 }))
    })?;
    // Not a goal, for the record: the company's own number, in every call (the worst case of
    // a number search: every match is sorted by time for the first page).
    let everywhere = timed(&catalog, rounds.min(3), |_| {
        Ok(SearchQuery::default().number("74951234560"))
    })?;
    let bytes: u64 = ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            std::fs::metadata(PathBuf::from(name)).ok().map(|m| m.len())
        })
        .sum();
    Ok(json!({
        "measure": "catalog-search",
        "records": records,
        "rounds": rounds,
        "full_number": full,
        "trailing_digits": trailing,
        "extension_month": extension_month,
        "flow_result_duration": outcome,
        "company_number_in_every_call": everywhere,
        "catalog_bytes": bytes,
        "bytes_per_record": bytes as f64 / records as f64,
        "peak_rss_kib": peak_rss_kib(),
    }))
}

/// Calls of the person erased in each round, spread over a year.
const PERSON_CALLS: u64 = 250;

/// Erasure of one person's number from the catalog, `rounds` times: each round lists
/// [`PERSON_CALLS`] calls of a new person (through `add_listed`, one every 35 hours of 2023),
/// marks them purged from the PBX long ago and not kept (so that erasing them asks nothing of
/// the PBX or the target: what is timed is the catalog's work — finding them by the number
/// index, checking the holds, removing each row with its numbers, tombstone and audit entry —
/// and the audit segment written to a local target), then erases them. A hold on another
/// number makes every record's hold check real.
fn erase(args: &[String]) -> Result<Value, String> {
    use record_backup::{Archive, ArchiveOptions, ErasureOptions, HoldOn, Target};
    use telphin_records::{ClientBuilder, ClientId, Credentials};

    let path = PathBuf::from(flag(args, "--path").ok_or("--path FILE is needed")?);
    let rounds = number(args, "--rounds", 5)? as u64;
    let template = template()?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_micros();
    let target_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // A client that is never called: nothing erased here is on the PBX.
    let client = ClientBuilder::new(Credentials::client_credentials("bench", "unused"))
        .base_url("http://127.0.0.1:9")
        .build_async()
        .map_err(|e| e.to_string())?;
    let catalog = Catalog::open(&path).map_err(|e| e.to_string())?;
    if catalog.holds(false).map_err(|e| e.to_string())?.is_empty() {
        catalog
            .add_hold(
                &HoldOn::Number("+7 499 000-00-01".to_owned()),
                "bench: another person's dispute",
                None,
                "bench",
            )
            .map_err(|e| e.to_string())?;
    }
    // As an operator runs it: every entry signed, a signed checkpoint at the end of each
    // erasure, the act kept in the catalog before the first record and written to a folder.
    let catalog = catalog
        .signing_audit_with(record_backup::AuditSigningKey::generate().map_err(|e| e.to_string())?);
    let acts = target_dir.path().join("acts");
    std::fs::create_dir_all(&acts).map_err(|e| e.to_string())?;
    let archive = Archive::new(
        client,
        Target::local(target_dir.path()).map_err(|e| e.to_string())?,
        catalog,
        ArchiveOptions::default().operator("bench").act_dir(&acts),
    );
    let first_2023 = 1_672_531_200_i64;
    let (mut dry_ms, mut erase_ms, mut erased) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let person = format!("7499777{:04}", (stamp as u64 + round) % 10_000);
        let mut calls = Vec::new();
        let mut uuids = Vec::new();
        for i in 0..PERSON_CALLS {
            let mut record =
                serde_json::to_value(call(i, &template)?).map_err(|e| e.to_string())?;
            let uuid = format!("30-E{stamp:020X}{round:04X}{i:07X}");
            let at = first_2023 + (i as i64) * 35 * 3_600 + (mix(i) % 3_600) as i64;
            let time = telphin_records::chrono::DateTime::from_timestamp(at, 0)
                .ok_or("a time out of range")?
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            record["record_uuid"] = uuid.clone().into();
            record["init_time_gmt"] = time.clone().into();
            record["start_time_gmt"] = time.into();
            record["from_username"] = person.clone().into();
            record["source_number"] = person.clone().into();
            record["ani_number"] = person.clone().into();
            calls.push(serde_json::from_value::<Record>(record).map_err(|e| e.to_string())?);
            uuids.push(uuid);
        }
        archive
            .catalog()
            .add_listed(&calls)
            .map_err(|e| e.to_string())?;
        {
            let connection = rusqlite::Connection::open(&path).map_err(|e| e.to_string())?;
            let mut update = connection
                .prepare(
                    "UPDATE record SET deleted_from_pbx_at = '2024-06-01T00:00:00.000000Z' \
                     WHERE record_uuid = ?1",
                )
                .map_err(|e| e.to_string())?;
            for uuid in &uuids {
                update.execute([uuid]).map_err(|e| e.to_string())?;
            }
        }
        let options =
            ErasureOptions::new("bench: erasure request", "bench").key(b"bench key".to_vec());
        let started = Instant::now();
        let dry = runtime
            .block_on(archive.erase(
                &person,
                telphin_records::Scope::client(ClientId::Me),
                &options,
            ))
            .map_err(|e| e.to_string())?;
        dry_ms.push(started.elapsed().as_secs_f64() * 1e3);
        if dry.act.records.len() as u64 != PERSON_CALLS {
            return Err(format!(
                "a dry run found {} of the person's {PERSON_CALLS} calls",
                dry.act.records.len()
            ));
        }
        let options = options.dry_run(false);
        let started = Instant::now();
        let report = runtime
            .block_on(archive.erase(
                &person,
                telphin_records::Scope::client(ClientId::Me),
                &options,
            ))
            .map_err(|e| e.to_string())?;
        erase_ms.push(started.elapsed().as_secs_f64() * 1e3);
        erased.push(report.act.records.len() as f64);
        if report.act.checkpoint.is_none() {
            return Err("the erasure's act carries no signed checkpoint".to_owned());
        }
        if report.act.records.len() as u64 != PERSON_CALLS || report.is_partial() {
            return Err(format!(
                "erased {} of {PERSON_CALLS}",
                report.act.records.len()
            ));
        }
    }
    let records = archive
        .catalog()
        .search(&SearchQuery::default())
        .map_err(|e| e.to_string())?
        .total()
        .map_err(|e| e.to_string())?;
    Ok(json!({
        "measure": "catalog-erase",
        "records": records,
        "rounds": rounds,
        "calls_per_person": PERSON_CALLS,
        "dry_run_ms": spread(&dry_ms),
        "erase_ms": spread(&erase_ms),
        "erased": spread(&erased),
        "peak_rss_kib": peak_rss_kib(),
    }))
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate(&args),
        Some("search") => search(&args),
        Some("erase") => erase(&args),
        _ => Err("generate|search|erase --path FILE --records N [--rounds R]".to_owned()),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("telphin-bench-catalog: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
