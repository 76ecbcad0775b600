//! A listing of a quarter through the blocking client against a server whose answers are made
//! of fuzz input. The server knows a few records, each with one time; each answer holds the
//! records of its window and, as the input says, some of them again, records of other windows
//! and of outside the quarter, in any order. Whatever it does, the listing hands out every
//! record of the quarter exactly once.

use std::collections::BTreeSet;
use std::sync::Mutex;

use record_api::testing::TestTransport;
use record_api::{Scope, TransportError, http};
use record_model::{ClientId, DateRange, Order, Period, QueryWindow, WireTime};
use telphin_records::{ClientBuilder, Credentials, ListOptions, WindowSize};

/// The times records are at: both sides of the second two windows share, its fractions, and
/// the quarter's ends (two just outside it).
const TIMES: [&str; 10] = [
    "2023-12-31 23:59:59.5",
    "2024-01-01 00:00:00",
    "2024-01-17 08:30:00.25",
    "2024-02-07 00:00:00",
    "2024-02-29 23:59:58.9",
    "2024-02-29 23:59:59",
    "2024-02-29 23:59:59.75",
    "2024-03-15 12:00:00",
    "2024-03-31 23:59:59.99",
    "2024-04-01 00:00:00",
];

/// The input, read a byte at a time (zeros once it is used up).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&first, rest)) => {
                self.0 = rest;
                first
            }
            None => 0,
        }
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::from(self.byte()) % bound.max(1)
    }
}

/// One record the server knows.
#[derive(Clone)]
struct Known {
    uuid: String,
    time: &'static str,
}

impl Known {
    fn at(&self) -> chrono::DateTime<chrono::Utc> {
        WireTime::parse(self.time).expect("a fixed time").instant()
    }

    fn json(&self) -> String {
        format!(
            r#"{{"record_uuid": "30-{}", "call_uuid": "c", "client_owner_id": 30, "duration": 0,
            "extension_id": 1, "extension_name": "n", "extension_type": "phone", "flow": "in",
            "init_time_gmt": "{}", "record_file_size": 1, "result": "answered"}}"#,
            self.uuid, self.time
        )
    }
}

/// Lists the quarter as `data` says and checks that every record of it is handed out once.
pub fn check(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.byte();
    let order = if flags & 1 == 0 {
        Order::Asc
    } else {
        Order::Desc
    };
    let size = if flags & 2 == 0 {
        WindowSize::Longest
    } else {
        WindowSize::Week
    };
    let guard = flags & 4 != 0;
    let known: Vec<Known> = (0..1 + input.below(32))
        .map(|i| Known {
            uuid: format!("{i:04X}"),
            time: TIMES[input.below(TIMES.len())],
        })
        .collect();
    let quarter =
        DateRange::parse("2024-01-01 00:00:00", "2024-03-31 23:59:59").expect("a fixed range");
    let want: BTreeSet<String> = known
        .iter()
        .filter(|record| quarter.contains(record.at()))
        .map(|record| format!("30-{}", record.uuid))
        .collect();

    let rest = Mutex::new(input.0.to_vec());
    let server = Server { known, rest };
    let transport = TestTransport::from_fn(move |request| server.answer(request));
    let client = ClientBuilder::new(Credentials::access_token("token"))
        .base_url("http://127.0.0.1:9")
        .build_blocking_with(transport)
        .expect("a valid client");
    let options = ListOptions::new(order)
        .window_size(size)
        .completeness_guard(guard);
    let mut seen = BTreeSet::new();
    let period: Period = quarter.into();
    for record in client.records(Scope::client(ClientId::Me), period, options) {
        let record = record.expect("a listing against this server does not fail");
        let uuid = record.record_uuid.to_string();
        assert!(seen.insert(uuid.clone()), "{uuid} was handed out twice");
    }
    assert_eq!(seen, want, "every record of the quarter, each once");
}

struct Server {
    known: Vec<Known>,
    rest: Mutex<Vec<u8>>,
}

impl Server {
    fn answer(
        &self,
        request: &http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let query = request.uri().query().unwrap_or_default();
        let get = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .map(|value| {
                    value
                        .replace("%20", " ")
                        .replace('+', " ")
                        .replace("%3A", ":")
                })
                .unwrap_or_default()
        };
        let window = QueryWindow::parse(&get("start_datetime"), &get("end_datetime"))
            .expect("the client asks for valid windows");
        // The server's window holds its last second whole, as the listing expects.
        let inside: Vec<&Known> = self
            .known
            .iter()
            .filter(|record| {
                let at = record.at();
                window.start() <= at && at < window.end() + chrono::TimeDelta::seconds(1)
            })
            .collect();
        let body = if request.uri().path().ends_with("/stats/") {
            format!(r#"{{"count": {}, "size": {}}}"#, inside.len(), inside.len())
        } else {
            let mut rest = self.rest.lock().expect("not poisoned");
            let mut input = Input(&rest);
            let mut records: Vec<&Known> = inside;
            for _ in 0..input.below(2 * self.known.len() + 1) {
                records.push(&self.known[input.below(self.known.len())]);
            }
            for i in (1..records.len()).rev() {
                records.swap(i, input.below(i + 1));
            }
            let used = rest.len() - input.0.len();
            rest.drain(..used);
            let items: Vec<String> = records.iter().map(|record| record.json()).collect();
            format!("[{}]", items.join(","))
        };
        Ok(http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.into_bytes())
            .expect("a valid answer"))
    }
}
