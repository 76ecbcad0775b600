//! The record collection: list, delete a window, statistics.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};

use chrono::Datelike;
use http::StatusCode;
use serde_json::{Value, json};

use super::reply::Reply;
use super::{Incoming, query};
use crate::data::SimRecord;
use crate::state::{CachedList, LIST_CACHE_BYTES, Level, SimState, in_window, lock};
use crate::wire;

/// Whether `record` belongs to `level`.
pub(crate) fn visible(record: &SimRecord, level: Level) -> bool {
    match level {
        Level::Client(_) => true,
        Level::Group(group) => record.group == Some(group),
        Level::Extension(extension) => record.extension_id == extension,
    }
}

pub(crate) fn list(state: &SimState, level: Level, incoming: &Incoming<'_>) -> Reply {
    let (start, end) = match query::window(&incoming.query) {
        Ok(window) => window,
        Err(reply) => return reply,
    };
    let descending = match query::get(&incoming.query, "order") {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(other) => {
            return Reply::bad_request(
                "invalid_params",
                &format!("order must be asc or desc, got {other:?}"),
            );
        }
    };
    let key = format!(
        "{level:?} {start} {end} {descending} {:?}",
        state.config.faults.list_cap
    );
    let (start, end) = match state.config.faults.list_overreach {
        Some(overreach) => match chrono::TimeDelta::from_std(overreach) {
            Ok(delta) => (start - delta, end + delta),
            Err(_) => (start, end),
        },
        None => (start, end),
    };
    if let Some(cached) = lock(&state.list_cache).get(&key) {
        return Reply::cached_json(Arc::clone(cached));
    }
    let mut selected: Vec<SimRecord> = {
        let records = state.records();
        let first = records.partition_point(|r| r.init_time < start);
        let after = records.partition_point(|r| r.init_time <= end);
        records[first..after.max(first)]
            .iter()
            .filter(|r| visible(r, level))
            .cloned()
            .collect()
    };
    if descending {
        selected.reverse();
    }
    if let Some(cap) = state.config.faults.list_cap {
        selected.truncate(cap);
    }
    if selected.len() * 1100 <= LIST_CACHE_BYTES {
        // Small enough to keep: written once, served from memory until the records change.
        let mut json = Vec::with_capacity(selected.len() * 1100 + 2);
        json.push(b'[');
        for (i, record) in selected.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            record.write_json(&mut json);
        }
        json.push(b']');
        let cached = Arc::new(CachedList {
            json: Bytes::from(json),
            gzip: std::sync::OnceLock::new(),
        });
        lock(&state.list_cache).insert(key, Arc::clone(&cached));
        return Reply::cached_json(cached);
    }
    Reply::json_stream(list_body(selected))
}

/// How many records one chunk of a list body holds.
const RECORDS_PER_CHUNK: usize = 256;

/// The JSON array of `records`, written chunk by chunk as the body is sent: a list of
/// 400,000 records never sits in memory as text.
fn list_body(records: Vec<SimRecord>) -> impl Stream<Item = Bytes> + Send + 'static {
    let records = Arc::new(records);
    let chunks = records.len().div_ceil(RECORDS_PER_CHUNK).max(1);
    stream::iter(0..chunks).map(move |chunk| {
        let start = chunk * RECORDS_PER_CHUNK;
        let end = (start + RECORDS_PER_CHUNK).min(records.len());
        let mut out = Vec::with_capacity((end - start) * 1100 + 2);
        if chunk == 0 {
            out.push(b'[');
        }
        for (i, record) in records[start..end].iter().enumerate() {
            if start + i > 0 {
                out.push(b',');
            }
            record.write_json(&mut out);
        }
        if chunk + 1 == chunks {
            out.push(b']');
        }
        Bytes::from(out)
    })
}

pub(crate) fn delete_window(state: &SimState, level: Level, incoming: &Incoming<'_>) -> Reply {
    let (start, end) = match query::window(&incoming.query) {
        Ok(window) => window,
        Err(reply) => return reply,
    };
    state
        .records_mut()
        .retain(|r| !(visible(r, level) && in_window(r, start, end)));
    Reply::empty(StatusCode::NO_CONTENT)
}

/// Releases the statistics guard however the request ends.
struct StatsGuard<'a> {
    state: &'a SimState,
    client: u64,
}

impl Drop for StatsGuard<'_> {
    fn drop(&mut self) {
        self.state.end_stats(self.client);
    }
}

pub(crate) async fn stats(state: &SimState, level: Level, incoming: &Incoming<'_>) -> Reply {
    let (start, end) = match query::window(&incoming.query) {
        Ok(window) => window,
        Err(reply) => return reply,
    };
    if !state.begin_stats(state.client_id) {
        return Reply::error(
            StatusCode::TOO_MANY_REQUESTS,
            None,
            "Stats request already exists, concurrent request not allowed",
        );
    }
    let _guard = StatsGuard {
        state,
        client: state.client_id,
    };
    if !state.config.stats_latency.is_zero() {
        tokio::time::sleep(state.config.stats_latency).await;
    }
    let (count, size) = state
        .records()
        .iter()
        .filter(|r| visible(r, level) && in_window(r, start, end))
        .fold((0u64, 0u64), |(c, s), r| (c + 1, s + r.size));
    Reply::json(StatusCode::OK, json!({"count": count, "size": size}))
}

pub(crate) fn monthly(state: &SimState, level: Level, incoming: &Incoming<'_>) -> Reply {
    if !matches!(level, Level::Client(_)) {
        return Reply::error(StatusCode::NOT_FOUND, None, "Not found");
    }
    let end = match query::get(&incoming.query, "end_datetime") {
        None => None,
        Some(text) => match wire::parse_month_end(text) {
            Some(end) => Some(end),
            None => {
                return Reply::bad_request(
                    "invalid_params",
                    "end_datetime must be YYYY-MM-DD HH:MM:SS, YYYY-MM-DD or YYYY-MM",
                );
            }
        },
    };
    let mut months: BTreeMap<(i32, u32), (u64, u64)> = BTreeMap::new();
    for record in state.records().iter() {
        if end.is_some_and(|end| record.init_time > end) {
            continue;
        }
        let key = (record.init_time.year(), record.init_time.month());
        let entry = months.entry(key).or_default();
        entry.0 += 1;
        entry.1 += record.size;
    }
    let body = months
        .into_iter()
        .map(|((year, month), (count, size))| {
            json!({
                "year_month": format!("{year:04}-{month:02}"),
                "call_records_count": count,
                "call_records_size": size,
            })
        })
        .collect();
    Reply::json(StatusCode::OK, Value::Array(body))
}
