//! Live mode: calls keep arriving while the simulator runs. Each call's record becomes
//! listable when the call ends, and a `hangup` event can be posted to a callback URL, as the
//! platform's event callbacks do (form-urlencoded fields, the record's id in `RecID`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::rng::{Rng, mix};
use crate::state::{SimState, lock};

/// How calls arrive in live mode.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Calls ending per second (at most 1000).
    pub calls_per_second: f64,
    /// How long each call lasts: its record is listable this long after its `init_time_gmt`.
    pub call_length: Duration,
    /// Where `hangup` events are posted (an `http://` URL), if anywhere; it can be set later
    /// with [`SimHandle::set_callback`](crate::SimHandle::set_callback).
    pub callback_url: Option<String>,
    /// Whether calls arrive from the start (otherwise after
    /// [`SimHandle::resume_calls`](crate::SimHandle::resume_calls)).
    pub running: bool,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            calls_per_second: 2.0,
            call_length: Duration::from_secs(30),
            callback_url: None,
            running: true,
        }
    }
}

/// A call of live mode, once ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCall {
    /// Its record's `record_uuid`.
    pub record_uuid: String,
    /// Its record's `init_time_gmt` (UTC).
    pub started: DateTime<Utc>,
    /// When it ended, which is when its record became listable (UTC).
    pub ended: DateTime<Utc>,
}

/// What live mode has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveCounters {
    /// Calls ended (records added).
    pub calls: u64,
    /// `hangup` events delivered (answered 2xx).
    pub events_delivered: u64,
    /// `hangup` events that failed (no connection, or another status).
    pub events_failed: u64,
}

/// The live mode's mutable part.
#[derive(Debug, Default)]
pub(crate) struct LiveState {
    pub(crate) running: bool,
    pub(crate) callback_url: Option<String>,
    pub(crate) calls: Vec<LiveCall>,
    pub(crate) counters: LiveCounters,
}

/// Runs live mode until the simulator's state is dropped by everyone else.
pub(crate) async fn run(state: std::sync::Weak<SimState>, config: LiveConfig) {
    let rate = config.calls_per_second.clamp(0.001, 1000.0);
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut serial = mix(0x11FE);
    loop {
        ticks.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        // Under the live lock from the check to the count: once `pause_calls` returns, no
        // call is added any more.
        let (event, callback) = {
            let mut live = lock(&state.live);
            if !live.running {
                continue;
            }
            serial = mix(serial ^ state.config.seed);
            let (call, event) = end_call(&state, serial, config.call_length);
            live.calls.push(call);
            live.counters.calls += 1;
            (event, live.callback_url.clone())
        };
        if let (Some(url), Some(event)) = (callback, event) {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let delivered = post_form(&url, &event).await.is_ok();
                let mut live = lock(&state.live);
                if delivered {
                    live.counters.events_delivered += 1;
                } else {
                    live.counters.events_failed += 1;
                }
            });
        }
    }
}

/// Adds the record of a call that ends now; gives the call and its `hangup` event's form.
fn end_call(state: &SimState, serial: u64, length: Duration) -> (LiveCall, Option<String>) {
    let mut rng = Rng::new(serial);
    let extension = &state.extensions[(serial % state.extensions.len() as u64) as usize];
    let ended = DateTime::<Utc>::from(std::time::SystemTime::now());
    let length = chrono::Duration::from_std(length).unwrap_or_default();
    let started = ended - length;
    let mut record =
        crate::data::make_record(&mut rng, state.client_id, extension, started.naive_utc());
    if let Some(cap) = state.config.max_file_size {
        record.set_size(record.size.min(cap));
    }
    let call = LiveCall {
        record_uuid: record.uuid.clone(),
        started,
        ended,
    };
    let event = form(&[
        ("EventType", "hangup"),
        ("CallID", &format!("{:032x}", u128::from(mix(serial)))),
        ("CallerIDNum", "74950000000"),
        (
            "CalledExtension",
            &format!("{}@sipproxy.telphin.ru", extension.number),
        ),
        ("CalledExtensionID", &extension.id.to_string()),
        ("CallFlow", "in"),
        ("CallStatus", "ANSWER"),
        ("EventTime", &ended.timestamp_micros().to_string()),
        (
            "Duration",
            &(length.num_microseconds().unwrap_or(0)).to_string(),
        ),
        ("RecID", &record.uuid),
    ]);
    let mut records = state.records_mut();
    let at = records.partition_point(|r| {
        (r.init_time, r.uuid.as_str()) < (record.init_time, record.uuid.as_str())
    });
    records.insert(at, record);
    (call, Some(event))
}

/// `key=value&…`, form-urlencoded.
fn form(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in fields {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        for byte in value.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    out.push(byte as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    out
}

/// POSTs `body` (form-urlencoded) to an `http://host:port/path` URL; `Ok` on a 2xx answer.
async fn post_form(url: &str, body: &str) -> std::io::Result<()> {
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an http:// URL");
    let rest = url.strip_prefix("http://").ok_or_else(invalid)?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let connect = tokio::net::TcpStream::connect(authority);
    let mut stream = tokio::time::timeout(Duration::from_secs(5), connect)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: \
         application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let status = answer.get(9..12).unwrap_or_default();
    if status.first() == Some(&b'2') {
        Ok(())
    } else {
        Err(std::io::Error::other("the callback did not answer 2xx"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded() {
        assert_eq!(
            form(&[("A", "x y"), ("B", "1@sip&z")]),
            "A=x+y&B=1%40sip%26z"
        );
    }
}
