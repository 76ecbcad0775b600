//! Decoding one list answer: `Record` next to a plain serde struct of the same fields and to
//! `serde_json::Value`, on the same payload, interleaved round by round.

use std::hint::black_box;
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};
use telphin_records::Record;

use crate::measure::{number, spread};

/// The same fields as `Record`, with the types a hand-written client would use: strings for
/// times, ids and enums, unknown fields dropped.
#[derive(Deserialize)]
#[allow(dead_code)] // read by serde only
struct Plain {
    ani_number: Option<String>,
    application: Option<String>,
    call_uuid: String,
    client_owner_id: u64,
    dest_domain: Option<String>,
    dest_number: Option<String>,
    did_domain: Option<String>,
    did_number: Option<String>,
    duration: u64,
    ext_number_reg: Option<String>,
    extension_group_owner_id: Option<u64>,
    extension_id: u64,
    extension_name: String,
    extension_type: String,
    file_name: Option<String>,
    flow: String,
    from_domain: Option<String>,
    from_screen_name: Option<String>,
    from_username: Option<String>,
    hangup_cause: Option<String>,
    hangup_disposition: Option<String>,
    hangup_time_gmt: Option<String>,
    init_time_gmt: String,
    record_file_size: u64,
    record_transfer: Option<bool>,
    record_uuid: String,
    result: String,
    source_domain: Option<String>,
    source_number: Option<String>,
    start_time_gmt: Option<String>,
    to_domain: Option<String>,
    to_username: Option<String>,
}

/// A list answer of `records` records, as the simulator writes it.
pub fn payload(records: usize) -> Vec<u8> {
    let data = record_sim::Dataset::generate(7, records);
    let list: Vec<Value> = data
        .records
        .iter()
        .take(records)
        .map(|r| r.json())
        .collect();
    serde_json::to_vec(&list).unwrap_or_default()
}

fn time<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<f64, String> {
    let started = Instant::now();
    let decoded: Vec<T> = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    black_box(decoded);
    Ok(elapsed)
}

pub fn run(args: &[String]) -> Result<String, String> {
    let records = number(args, "--records", 10_000)?;
    let rounds = number(args, "--rounds", 15)?;
    let payload = payload(records);
    // One warm-up round, not counted.
    time::<Record>(&payload)?;
    time::<Plain>(&payload)?;
    let (mut record, mut plain, mut value, mut ratio) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        // Alternate which variant goes first, three times each, and keep each one's best: the
        // allocator's state after one decode disturbs the next.
        let (mut r, mut p) = (f64::MAX, f64::MAX);
        for turn in 0..3 {
            if (round + turn) % 2 == 0 {
                r = r.min(time::<Record>(&payload)?);
                p = p.min(time::<Plain>(&payload)?);
            } else {
                p = p.min(time::<Plain>(&payload)?);
                r = r.min(time::<Record>(&payload)?);
            }
        }
        record.push(r * 1e3);
        plain.push(p * 1e3);
        ratio.push(p / r);
    }
    // `Value` last, so that its many small allocations do not disturb the pair above.
    for _ in 0..rounds {
        value.push(time::<Value>(&payload)? * 1e3);
    }
    let mib = payload.len() as f64 / (1 << 20) as f64;
    let per_second = |ms: &Vec<f64>| -> Vec<f64> { ms.iter().map(|m| mib / (m / 1e3)).collect() };
    Ok(json!({
        "measure": "decode",
        "records": records,
        "payload_bytes": payload.len(),
        "rounds": rounds,
        "record_ms": spread(&record),
        "plain_ms": spread(&plain),
        "value_ms": spread(&value),
        "record_mib_s": spread(&per_second(&record)),
        "plain_mib_s": spread(&per_second(&plain)),
        "throughput_record_over_plain": spread(&ratio),
    })
    .to_string())
}
