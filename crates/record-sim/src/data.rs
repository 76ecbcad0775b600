//! The simulated PBX: a client, its groups and extensions, and a year of records, all derived
//! from the seed.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};

use crate::rng::Rng;
use crate::wire;

/// One extension of the simulated PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Its numeric id.
    pub id: u64,
    /// Its short number, e.g. `101`.
    pub number: String,
    /// `phone`, `queue`, `ivr` or `fax`.
    pub kind: &'static str,
    /// The group it belongs to, if any.
    pub group: Option<u64>,
}

/// One record of the simulated PBX; `json` is exactly what the list route returns for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRecord {
    /// `record_uuid`.
    pub uuid: String,
    /// `init_time_gmt`, at full precision.
    pub init_time: NaiveDateTime,
    /// `record_file_size`.
    pub size: u64,
    /// `extension_id`.
    pub extension_id: u64,
    /// `extension_group_owner_id`.
    pub group: Option<u64>,
    /// `file_name`.
    pub file_name: String,
    /// Seed of the record's file bytes.
    pub file_seed: u64,
    /// The record as the API writes it.
    pub json: Value,
}

/// The generated PBX.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The client's numeric id.
    pub client_id: u64,
    /// The extension groups' ids.
    pub groups: Vec<u64>,
    /// The extensions.
    pub extensions: Vec<Extension>,
    /// The records, in ascending `init_time`.
    pub records: Vec<SimRecord>,
}

const SCREEN_NAMES: &[&str] = &[
    "Иван Петров",
    "Zoë Müller",
    "李雷",
    "José Álvarez",
    "Ольга Смирнова",
    "ACME Ltd",
];
const RESULTS: &[&str] = &[
    "answered",
    "answered",
    "answered",
    "not answered",
    "busy",
    "answered elsewhere",
    "failed",
    "rejected",
    "voicemail",
];
const DISPOSITIONS: &[&str] = &[
    "callee_bye",
    "caller_bye",
    "caller_cancel",
    "callee_refuse",
    "internal_cancel",
];
const CAUSES: &[&str] = &[
    "NORMAL_CLEARING",
    "USER_BUSY",
    "NO_ANSWER",
    "ORIGINATOR_CANCEL",
];

impl Dataset {
    /// Generates the PBX of `seed` with about `record_count` records over 2024 (plus boundary
    /// records at every month's first and last second).
    pub fn generate(seed: u64, record_count: usize) -> Dataset {
        let mut rng = Rng::new(seed);
        let client_id = 10_000 + rng.range(0, 90_000);
        let groups: Vec<u64> = (0..3).map(|i| client_id * 10 + i + 1).collect();
        let kinds: [(&str, &'static str, Option<usize>); 8] = [
            ("101", "phone", Some(0)),
            ("102", "phone", Some(0)),
            ("103", "phone", Some(1)),
            ("104", "phone", Some(1)),
            ("105", "phone", None),
            ("201", "queue", Some(1)),
            ("301", "ivr", None),
            ("401", "fax", Some(2)),
        ];
        let extensions: Vec<Extension> = kinds
            .iter()
            .enumerate()
            .map(|(i, (number, kind, group))| Extension {
                id: client_id * 100 + i as u64 + 1,
                number: (*number).to_owned(),
                kind,
                group: group.map(|g| groups[g]),
            })
            .collect();

        let year_start = date_time(2024, 1, 1, 0, 0, 0);
        let year_seconds = 366 * 86_400;
        let mut records = Vec::with_capacity(record_count + 24);
        for _ in 0..record_count {
            let seconds = rng.range(0, year_seconds) as i64;
            let centis = rng.range(0, 100) as i64;
            let time =
                year_start + Duration::seconds(seconds) + Duration::milliseconds(centis * 10);
            let extension = rng.pick(&extensions).clone();
            records.push(make_record(&mut rng, client_id, &extension, time));
        }
        // Boundary records: the last fraction of every month's last second, and the very first
        // instant of every month.
        for month in 1..=12u32 {
            let first = date_time(2024, month, 1, 0, 0, 0);
            let extension = rng.pick(&extensions).clone();
            records.push(make_record(&mut rng, client_id, &extension, first));
            let next = if month == 12 {
                date_time(2025, 1, 1, 0, 0, 0)
            } else {
                date_time(2024, month + 1, 1, 0, 0, 0)
            };
            let centis = rng.range(1, 100) as i64;
            let last = next - Duration::seconds(1) + Duration::milliseconds(centis * 10);
            let extension = rng.pick(&extensions).clone();
            records.push(make_record(&mut rng, client_id, &extension, last));
        }
        records.sort_by(|a, b| {
            a.init_time
                .cmp(&b.init_time)
                .then_with(|| a.uuid.cmp(&b.uuid))
        });
        Dataset {
            client_id,
            groups,
            extensions,
            records,
        }
    }

    /// The extension with `id`.
    pub fn extension(&self, id: u64) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.id == id)
    }
}

fn date_time(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|day| day.and_hms_opt(h, mi, s))
        .unwrap_or_default()
}

/// A record of `extension` at `time`, every other field drawn from `rng`.
pub(crate) fn make_record(
    rng: &mut Rng,
    client_id: u64,
    extension: &Extension,
    time: NaiveDateTime,
) -> SimRecord {
    let uuid = format!("{client_id}-{}", rng.hex(32, true));
    let call_uuid = rng.hex(32, false);
    let result = *rng.pick(RESULTS);
    let answered = result == "answered";
    let duration = if answered {
        rng.range(3, 1800)
    } else {
        rng.range(0, 3)
    };
    let size = 4096 + duration * 2000 + rng.range(0, 2000);
    let flow = if rng.chance(5) {
        "transfer"
    } else if rng.chance(50) {
        "in"
    } else {
        "out"
    };
    let domain = "sipproxy.telphin.ru";
    let extension_name = format!("{client_id:05}*{}@{domain}", extension.number);
    let external = format!("7495{:07}", rng.range(0, 10_000_000));
    let did = format!("7495{:07}", rng.range(0, 10_000_000));
    let ring = rng.range(0, 30) as i64;
    let start_time = answered.then(|| time + Duration::seconds(ring));
    let hangup_time = if rng.chance(3) {
        None
    } else {
        Some(time + Duration::seconds(ring + duration as i64))
    };
    let disposition = match rng.range(0, 10) {
        0 => Value::Null,
        1 => json!(""),
        _ => json!(*rng.pick(DISPOSITIONS)),
    };
    let application = match rng.range(0, 10) {
        0 => json!("callcenter"),
        1 => json!("callback"),
        2 => json!("intercept"),
        _ => Value::Null,
    };
    let screen_name = if rng.chance(60) {
        json!(*rng.pick(SCREEN_NAMES))
    } else {
        Value::Null
    };
    let whole = |t: NaiveDateTime| t.format("%Y-%m-%d_%H-%M-%S").to_string();
    let file_name = format!("{}_{}.mp3", whole(time), &uuid);
    let (from, to) = if flow == "out" {
        (extension.number.clone(), external.clone())
    } else {
        (external.clone(), extension.number.clone())
    };
    let opt = |present: bool, value: String| if present { json!(value) } else { Value::Null };
    let mut map = Map::new();
    // `ani_number` may be null or absent.
    match rng.range(0, 20) {
        0 => {}
        1..=4 => {
            map.insert("ani_number".into(), Value::Null);
        }
        _ => {
            map.insert("ani_number".into(), json!(did.clone()));
        }
    }
    let fields = [
        ("application", application),
        ("call_uuid", json!(call_uuid)),
        ("client_owner_id", json!(client_id)),
        ("dest_domain", opt(rng.chance(80), domain.to_owned())),
        ("dest_number", opt(rng.chance(90), to.clone())),
        ("did_domain", opt(flow == "in", domain.to_owned())),
        ("did_number", opt(flow == "in", did.clone())),
        ("duration", json!(duration)),
        ("ext_number_reg", opt(rng.chance(50), did)),
        ("extension_group_owner_id", json!(extension.group)),
        ("extension_id", json!(extension.id)),
        ("extension_name", json!(extension_name)),
        ("extension_type", json!(extension.kind)),
        ("file_name", json!(file_name.clone())),
        ("flow", json!(flow)),
        ("from_domain", opt(rng.chance(80), domain.to_owned())),
        ("from_screen_name", screen_name),
        ("from_username", opt(rng.chance(90), from.clone())),
        (
            "hangup_cause",
            opt(rng.chance(90), (*rng.pick(CAUSES)).to_owned()),
        ),
        ("hangup_disposition", disposition),
        ("hangup_time_gmt", json!(hangup_time.map(wire::seconds))),
        ("init_time_gmt", json!(wire::centis(time))),
        ("record_file_size", json!(size)),
        ("record_transfer", json!(flow == "transfer")),
        ("record_uuid", json!(uuid.clone())),
        ("result", json!(result)),
        ("source_domain", opt(rng.chance(80), domain.to_owned())),
        ("source_number", opt(rng.chance(90), from)),
        ("start_time_gmt", json!(start_time.map(wire::seconds))),
        ("to_domain", opt(rng.chance(80), domain.to_owned())),
        ("to_username", opt(rng.chance(90), to)),
    ];
    for (name, value) in fields {
        map.insert(name.to_owned(), value);
    }
    SimRecord {
        uuid,
        init_time: time,
        size,
        extension_id: extension.id,
        group: extension.group,
        file_name,
        file_seed: rng.next_u64(),
        json: Value::Object(map),
    }
}

impl SimRecord {
    /// Changes the record's file size, in its JSON too.
    pub(crate) fn set_size(&mut self, size: u64) {
        self.size = size;
        if let Value::Object(map) = &mut self.json {
            map.insert("record_file_size".to_owned(), json!(size));
        }
    }
}
