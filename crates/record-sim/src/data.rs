//! The simulated PBX: a client, its groups and extensions, and a year of records, all derived
//! from the seed.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

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

/// One record of the simulated PBX, kept compact (about 130 bytes) so that millions fit: its
/// other fields are drawn again from `seed` whenever the record is written.
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
    /// Seed of the record's file bytes.
    pub file_seed: u64,
    /// Seed of the record's other fields.
    seed: u64,
    /// The extension's short number and kind, for writing the record.
    extension: (u16, &'static str),
    client_id: u64,
    /// The other party's number, when a test chose it (otherwise drawn from `seed`).
    pub(crate) caller: Option<Box<str>>,
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
    let seed = rng.next_u64();
    let file_seed = rng.next_u64();
    let number = extension.number.parse().unwrap_or_default();
    let mut record = SimRecord {
        uuid: String::new(),
        init_time: time,
        size: 0,
        extension_id: extension.id,
        group: extension.group,
        file_seed,
        seed,
        extension: (number, extension.kind),
        client_id,
        caller: None,
    };
    let head = Head::draw(&mut Rng::new(seed), client_id);
    record.uuid = head.uuid;
    record.size = head.size;
    record
}

/// The first fields drawn from a record's seed: all that is kept of it.
struct Head {
    uuid: String,
    call_uuid: String,
    result: &'static str,
    duration: u64,
    size: u64,
}

impl Head {
    fn draw(rng: &mut Rng, client_id: u64) -> Head {
        let uuid = format!("{client_id}-{}", rng.hex(32, true));
        let call_uuid = rng.hex(32, false);
        let result = *rng.pick(RESULTS);
        let duration = if result == "answered" {
            rng.range(3, 1800)
        } else {
            rng.range(0, 3)
        };
        let size = 4096 + duration * 2000 + rng.range(0, 2000);
        Head {
            uuid,
            call_uuid,
            result,
            duration,
            size,
        }
    }
}

/// The fields of a record drawn from its seed, in the order the list writes them.
struct Drawn {
    fields: Vec<(&'static str, Value)>,
}

impl SimRecord {
    /// Changes the record's file size.
    pub(crate) fn set_size(&mut self, size: u64) {
        self.size = size;
    }

    /// The undocumented `file_name` field.
    pub fn file_name(&self) -> String {
        self.file_name_of(&self.uuid)
    }

    /// The record as the list route writes it.
    pub fn json(&self) -> Value {
        let mut out = Vec::new();
        self.write_json(&mut out);
        serde_json::from_slice(&out).unwrap_or(Value::Null)
    }

    /// Appends the record's JSON object to `out`, as the list route writes it.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        let drawn = self.draw();
        out.push(b'{');
        for (i, (name, value)) in drawn.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            match (*name, value) {
                ("record_uuid", _) => push_str(out, &self.uuid),
                ("record_file_size", _) => out.extend_from_slice(self.size.to_string().as_bytes()),
                (_, Value::String(text)) => push_str(out, text),
                (_, other) => out.extend_from_slice(other.to_string().as_bytes()),
            }
        }
        out.push(b'}');
    }

    fn draw(&self) -> Drawn {
        let mut rng = Rng::new(self.seed);
        let rng = &mut rng;
        let client_id = self.client_id;
        let time = self.init_time;
        let (number, kind) = self.extension;
        let number = number.to_string();
        let Head {
            uuid,
            call_uuid,
            result,
            duration,
            size,
        } = Head::draw(rng, client_id);
        let answered = result == "answered";
        let flow = if rng.chance(5) {
            "transfer"
        } else if rng.chance(50) {
            "in"
        } else {
            "out"
        };
        let domain = "sipproxy.telphin.ru";
        let extension_name = format!("{client_id:05}*{number}@{domain}");
        let drawn = format!("7495{:07}", rng.range(0, 10_000_000));
        let external = self.caller.as_deref().map_or(drawn, str::to_owned);
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
        let (from, to) = if flow == "out" {
            (number.clone(), external.clone())
        } else {
            (external.clone(), number.clone())
        };
        // A transferred call was dialled to one extension (`to_username`) and reached the next
        // one (`dest_number`).
        let dest = if flow == "transfer" {
            number
                .parse::<u64>()
                .map_or_else(|_| to.clone(), |n| (n + 1).to_string())
        } else {
            to.clone()
        };
        let opt = |present: bool, value: String| if present { json!(value) } else { Value::Null };
        let mut fields = Vec::with_capacity(32);
        // `ani_number` may be null or absent.
        match rng.range(0, 20) {
            0 => {}
            1..=4 => fields.push(("ani_number", Value::Null)),
            _ => fields.push(("ani_number", json!(did.clone()))),
        }
        fields.extend([
            ("application", application),
            ("call_uuid", json!(call_uuid)),
            ("client_owner_id", json!(client_id)),
            ("dest_domain", opt(rng.chance(80), domain.to_owned())),
            ("dest_number", opt(rng.chance(90), dest)),
            ("did_domain", opt(flow == "in", domain.to_owned())),
            ("did_number", opt(flow == "in", did.clone())),
            ("duration", json!(duration)),
            ("ext_number_reg", opt(rng.chance(50), did)),
            ("extension_group_owner_id", json!(self.group)),
            ("extension_id", json!(self.extension_id)),
            ("extension_name", json!(extension_name)),
            ("extension_type", json!(kind)),
            ("file_name", json!(self.file_name_of(&uuid))),
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
        ]);
        Drawn { fields }
    }

    fn file_name_of(&self, uuid: &str) -> String {
        let whole = self.init_time.format("%Y-%m-%d_%H-%M-%S");
        format!("{whole}_{uuid}.mp3")
    }
}

/// Appends `text` as a JSON string.
fn push_str(out: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}
