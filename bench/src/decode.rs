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

/// Decodes each element of the list and drops it at once, as a record stream does.
fn time_each<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<f64, String> {
    struct Each<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Each<T> {
        type Value = usize;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
            let mut n = 0;
            while let Some(item) = seq.next_element::<T>()? {
                black_box(item);
                n += 1;
            }
            Ok(n)
        }
    }
    let started = Instant::now();
    let mut de = serde_json::Deserializer::from_slice(payload);
    let n = serde::Deserializer::deserialize_seq(&mut de, Each::<T>(std::marker::PhantomData))
        .map_err(|e| e.to_string())?;
    black_box(n);
    Ok(started.elapsed().as_secs_f64())
}

fn time<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> Result<f64, String> {
    let started = Instant::now();
    let decoded: Vec<T> = decode_list(payload).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    black_box(decoded);
    Ok(elapsed)
}

/// The decoding timed, in a function of its own so that profilers can single it out
/// (`valgrind --toggle-collect='*decode_list*'`).
#[inline(never)]
fn decode_list<T: for<'de> Deserialize<'de>>(payload: &[u8]) -> serde_json::Result<Vec<T>> {
    serde_json::from_slice(payload)
}

/// Decodes each element as the SDK's list stream does: the payload pushed in chunks of 64 KiB
/// into `ListDecoder`, each record taken and dropped.
fn time_sdk(payload: &[u8]) -> Result<f64, String> {
    let started = Instant::now();
    let mut decoder = telphin_records::layers::record_api::ListDecoder::new();
    let mut n = 0;
    for chunk in payload.chunks(64 << 10) {
        decoder.push(chunk);
        while let Some(record) = decoder.next_record() {
            black_box(record.map_err(|e| e.to_string())?);
            n += 1;
        }
    }
    decoder.finish().map_err(|e| e.to_string())?;
    black_box(n);
    Ok(started.elapsed().as_secs_f64())
}

/// Decodes the payload `--repeat` times with one `--variant` in
/// this process, and reports the best and the median time: `record`, `plain` or `value` into a
/// `Vec` (dropped after the clock stops), or `record-each` / `plain-each`, each element decoded
/// and dropped as a record stream does. Each variant runs in a process of its own: decoding one
/// type leaves the allocator in a state that slows or speeds the next.
pub fn run(args: &[String]) -> Result<String, String> {
    let records = number(args, "--records", 10_000)?;
    let repeat = number(args, "--repeat", 9)?.max(1);
    let variant = crate::measure::flag(args, "--variant").unwrap_or("record");
    let payload = payload(records);
    let once = || -> Result<f64, String> {
        match variant {
            "record" => time::<Record>(&payload),
            "plain" => time::<Plain>(&payload),
            "value" => time::<Value>(&payload),
            "record-each" => time_each::<Record>(&payload),
            "plain-each" => time_each::<Plain>(&payload),
            "record-sdk" => time_sdk(&payload),
            other => Err(format!("unknown variant {other}")),
        }
    };
    once()?; // warm-up, not counted
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        times.push(once()? * 1e3);
    }
    let best = times.iter().copied().fold(f64::MAX, f64::min);
    let mib = payload.len() as f64 / (1 << 20) as f64;
    Ok(json!({
        "measure": "decode",
        "variant": variant,
        "records": records,
        "payload_bytes": payload.len(),
        "best_ms": best,
        "ms": spread(&times),
        "best_mib_s": mib / (best / 1e3),
    })
    .to_string())
}
