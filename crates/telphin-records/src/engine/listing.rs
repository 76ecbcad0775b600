//! A listing of any period as a stream of records: which window to open next, which records
//! to hand out (each once, in order, inside the period), and the completeness guard.
//!
//! The executor opens each window's list with the streaming transport, feeds its body to
//! [`Listing::chunk`] as it arrives, and hands out what [`Listing::next`] yields. Memory holds
//! one record and one chunk, the ids of the one-second overlap between two windows, and a
//! 16-byte key per record handed out from the window being read: a server that repeats a record
//! anywhere in an answer, in any order, cannot make the listing hand it out twice.

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, TimeDelta, Utc};
use record_api::{Error, ListDecoder, ListRecords, RecordStats, Scope};
use record_model::{DateRange, Order, Period, QueryWindow, Record, RecordUuid, WindowStats};

use crate::list::{ListOptions, ListPosition, WindowSize};

/// What the executor does next.
// A record is handed out by value on the hot path; boxing it would add an allocation per record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum ListStep {
    /// Open this list with the streaming transport, then call [`Listing::opened`].
    Open(ListRecords),
    /// Read the next chunk of the open body: [`Listing::chunk`], [`Listing::ended`] or
    /// [`Listing::failed`].
    Read,
    /// Call this (one at a time), then [`Listing::counted`].
    Stats(RecordStats),
    /// Hand this out.
    Yield(Result<Record, Error>),
    /// The listing is over.
    Done,
}

/// A window still to list.
#[derive(Debug, Clone, Copy)]
struct Part {
    window: QueryWindow,
    /// A half (or a re-try) of a window whose count disagreed: records handed out before are
    /// skipped by key.
    retry: bool,
    /// Whether this window was already listed again once at the smallest size.
    rechecked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Opening,
    Reading,
    Counting,
    Over,
}

/// The window being read.
#[derive(Debug, Default)]
struct Reading {
    decoder: ListDecoder,
    ended: bool,
    handed_out: u64,
    /// Keys of the distinct records of this window in its answer: those handed out, those
    /// passed over, and those the window before handed out.
    keys: HashSet<u128>,
    /// Elements of the answer that did not decode (each handed out as an error).
    undecodable: u64,
    /// Records handed out at the instant this window shares with the next one.
    shared: Vec<RecordUuid>,
}

/// The state of one listing.
pub(crate) struct Listing {
    scope: Scope,
    period: Period,
    order: Order,
    guard: bool,
    queue: VecDeque<Part>,
    phase: Phase,
    reading: Reading,
    /// The instant the last finished window shares with the next, and its records handed out.
    boundary: Option<(DateTime<Utc>, Vec<RecordUuid>)>,
    /// Keys of records handed out from windows being listed again.
    skip: HashSet<u128>,
    /// Records of the first window still to pass over when resuming.
    resume_skip: u64,
    pending: Option<Result<Record, Error>>,
}

impl Listing {
    pub(crate) fn new(scope: Scope, period: Period, options: &ListOptions) -> Self {
        let mut range = period.query_range();
        let mut boundary = None;
        let mut resume_skip = 0;
        if let Some(position) = &options.resume {
            let from = position.window;
            let resumed = match options.order {
                Order::Asc => DateRange::new(from.start(), range.end()),
                Order::Desc => DateRange::new(range.start(), from.end()),
            };
            if let Ok(resumed) = resumed {
                range = resumed;
                boundary.clone_from(&position.boundary);
                resume_skip = position.handed_out;
            }
        }
        let mut windows = windows_of(range, options.window_size);
        if options.order == Order::Desc {
            windows.reverse();
        }
        Listing {
            scope,
            period,
            order: options.order,
            guard: options.guard,
            queue: windows
                .into_iter()
                .map(|window| Part {
                    window,
                    retry: false,
                    rechecked: false,
                })
                .collect(),
            phase: Phase::Idle,
            reading: Reading::default(),
            boundary,
            skip: HashSet::new(),
            resume_skip,
            pending: None,
        }
    }

    /// The windows still to open, in order (the first may be the one being read).
    #[cfg(feature = "async-client")]
    pub(crate) fn upcoming(&self) -> impl Iterator<Item = QueryWindow> + '_ {
        self.queue.iter().map(|part| part.window)
    }

    /// The list request of `window`.
    pub(crate) fn request(&self, window: QueryWindow) -> ListRecords {
        ListRecords::new(self.scope, window).order(self.order)
    }

    /// Where the listing is, or `None` once it is over without error.
    pub(crate) fn position(&self) -> Option<ListPosition> {
        let part = self.queue.front()?;
        let reading = matches!(self.phase, Phase::Reading | Phase::Counting | Phase::Over);
        Some(ListPosition {
            window: part.window,
            handed_out: if reading { self.reading.handed_out } else { 0 } + self.resume_skip,
            boundary: self.boundary.clone(),
        })
    }

    /// The next thing to do.
    pub(crate) fn next(&mut self) -> ListStep {
        if let Some(item) = self.pending.take() {
            return ListStep::Yield(item);
        }
        loop {
            match self.phase {
                Phase::Over => return ListStep::Done,
                Phase::Opening | Phase::Counting => {
                    // The executor asked again without reporting the open or the count.
                    return self.fail(Error::Config(
                        "a listing was asked for its next step before its last one was reported"
                            .to_owned(),
                    ));
                }
                Phase::Idle => {
                    let Some(part) = self.queue.front() else {
                        self.phase = Phase::Over;
                        return ListStep::Done;
                    };
                    if !part.retry {
                        self.skip.clear();
                    }
                    self.reading = Reading::default();
                    self.phase = Phase::Opening;
                    return ListStep::Open(self.request(part.window));
                }
                Phase::Reading => match self.reading.decoder.next_record() {
                    Some(Ok(record)) => {
                        if let Some(record) = self.accept(record) {
                            return ListStep::Yield(Ok(record));
                        }
                    }
                    Some(Err(error @ Error::UndecodableRecord { .. })) => {
                        self.reading.undecodable += 1;
                        return ListStep::Yield(Err(error));
                    }
                    Some(Err(error)) => return self.fail(error),
                    None if !self.reading.ended => return ListStep::Read,
                    None => {
                        if let Err(error) = self.reading.decoder.finish() {
                            return self.fail(error);
                        }
                        match self.queue.front() {
                            Some(part) if self.guard => {
                                self.phase = Phase::Counting;
                                return ListStep::Stats(RecordStats::new(self.scope, part.window));
                            }
                            _ => self.window_done(),
                        }
                    }
                },
            }
        }
    }

    /// The window's list was opened (its body is kept by the executor), or could not be.
    pub(crate) fn opened(&mut self, result: Result<(), Error>) {
        match result {
            Ok(()) => self.phase = Phase::Reading,
            Err(error) => self.stop(error),
        }
    }

    /// The next bytes of the body.
    pub(crate) fn chunk(&mut self, bytes: &[u8]) {
        self.reading.decoder.push(bytes);
    }

    /// The body ended.
    pub(crate) fn ended(&mut self) {
        self.reading.ended = true;
    }

    /// The body broke off: the listing stops; [`position`](Self::position) tells where.
    pub(crate) fn failed(&mut self, error: Error) {
        self.stop(error);
    }

    /// The statistics of the window just read.
    pub(crate) fn counted(&mut self, result: Result<WindowStats, Error>) {
        let stats = match result {
            Ok(stats) => stats,
            Err(error) => return self.stop(error),
        };
        // The server's count against the distinct records of the window its answer held.
        let listed = self.reading.keys.len() as u64 + self.reading.undecodable;
        if listed == stats.count {
            return self.window_done();
        }
        let Some(part) = self.queue.pop_front() else {
            return self.stop(Error::Config("a listing lost its window".to_owned()));
        };
        tracing::debug!(
            start = %part.window.start_datetime(),
            end = %part.window.end_datetime(),
            listed,
            expected = stats.count,
            "a window's list disagrees with its statistics; listing it again in parts"
        );
        self.skip.extend(self.reading.keys.drain());
        self.phase = Phase::Idle;
        if let Some((first, second)) = halves(part.window) {
            let (a, b) = match self.order {
                Order::Asc => (first, second),
                Order::Desc => (second, first),
            };
            for window in [b, a] {
                self.queue.push_front(Part {
                    window,
                    retry: true,
                    rechecked: false,
                });
            }
        } else if !part.rechecked {
            self.queue.push_front(Part {
                retry: true,
                rechecked: true,
                ..part
            });
        } else {
            self.queue.push_front(part);
            self.stop(Error::IncompleteListing {
                window: part.window,
                listed,
                expected: stats.count,
            });
        }
    }

    /// Whether `record` is handed out: inside the window asked for and the period, not handed
    /// out before. A record the server put in an answer of a window it is not in is left to
    /// the window it is in, and a record it repeats within an answer, in any order, is handed
    /// out the first time: a server that repeats records cannot make the listing hand one out
    /// twice.
    fn accept(&mut self, record: Record) -> Option<Record> {
        let at = record.init_time_gmt.instant();
        let window = self.queue.front().map(|part| part.window)?;
        let key = key_of(&record.record_uuid);
        if !holds(window, at) || !self.reading.keys.insert(key) {
            return None;
        }
        if !self.period.contains(at) {
            return None;
        }
        // Handed out by the window before (at the second they share, or at any other time
        // the server now gives it).
        if let Some((_, uuids)) = &self.boundary
            && uuids.contains(&record.record_uuid)
        {
            return None;
        }
        if self.skip.contains(&key) {
            return None;
        }
        self.reading.handed_out += 1;
        if in_second(self.shared_instant(window), at) {
            self.reading.shared.push(record.record_uuid.clone());
        }
        if self.resume_skip > 0 {
            // Handed out before the listing was resumed.
            self.resume_skip -= 1;
            return None;
        }
        Some(record)
    }

    /// The instant a window shares with the next one in the listing's order.
    fn shared_instant(&self, window: QueryWindow) -> DateTime<Utc> {
        match self.order {
            Order::Asc => window.end(),
            Order::Desc => window.start(),
        }
    }

    fn window_done(&mut self) {
        if let Some(part) = self.queue.pop_front() {
            let shared = std::mem::take(&mut self.reading.shared);
            self.boundary = Some((self.shared_instant(part.window), shared));
        }
        self.reading = Reading::default();
        self.phase = Phase::Idle;
    }

    fn fail(&mut self, error: Error) -> ListStep {
        self.phase = Phase::Over;
        ListStep::Yield(Err(error))
    }

    fn stop(&mut self, error: Error) {
        self.phase = Phase::Over;
        self.pending = Some(Err(error));
    }
}

/// The windows that cover `range` with the chosen size, each starting where the previous one
/// ended (the records of that instant are in both, and handed out once).
fn windows_of(range: DateRange, size: WindowSize) -> Vec<QueryWindow> {
    let step = match size {
        WindowSize::Longest => return range.windows().collect(),
        WindowSize::Week => TimeDelta::days(7),
        WindowSize::Day => TimeDelta::days(1),
    };
    let mut windows = Vec::new();
    let mut start = range.start();
    loop {
        let end = (start + step).min(range.end());
        match QueryWindow::new(start, end) {
            Ok(window) => windows.push(window),
            // A day or a week always fits the API's rule; fall back to the longest if not.
            Err(_) => return range.windows().collect(),
        }
        if end >= range.end() {
            return windows;
        }
        start = end;
    }
}

/// Whether a record at `at` belongs to `window`: the API's times are whole seconds, so the
/// window's last second is in it whole.
fn holds(window: QueryWindow, at: DateTime<Utc>) -> bool {
    window.start() <= at && at < window.end() + TimeDelta::seconds(1)
}

/// Whether `at` falls within the second that begins at `second`: the second two windows share.
fn in_second(second: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    second <= at && at < second + TimeDelta::seconds(1)
}

/// `window` in two halves sharing their middle second, or `None` when it is too short to split.
fn halves(window: QueryWindow) -> Option<(QueryWindow, QueryWindow)> {
    let seconds = (window.end() - window.start()).num_seconds();
    if seconds < 2 {
        return None;
    }
    let middle = window.start() + TimeDelta::seconds(seconds / 2);
    let first = QueryWindow::new(window.start(), middle).ok()?;
    let second = QueryWindow::new(middle, window.end()).ok()?;
    Some((first, second))
}

/// A 128-bit key of a record id: collisions are out of reach for any number of records.
fn key_of(uuid: &RecordUuid) -> u128 {
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        uuid.as_str().hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use record_model::ClientId;

    fn record(uuid: &str, at: &str) -> String {
        format!(
            r#"{{"record_uuid": "30-{uuid}", "call_uuid": "c", "client_owner_id": 30,
            "duration": 0, "extension_id": 1, "extension_name": "n", "extension_type": "phone",
            "flow": "in", "init_time_gmt": "{at}", "record_file_size": 1, "result": "answered"}}"#
        )
    }

    fn body(records: &[(&str, &str)]) -> Vec<u8> {
        let items: Vec<String> = records.iter().map(|(u, t)| record(u, t)).collect();
        format!("[{}]", items.join(",")).into_bytes()
    }

    /// Runs `listing` to its end, answering each opened window with `answer(window)` and each
    /// statistics request with `count(window)`; returns the uuids handed out, the windows opened
    /// and the final error, if any.
    fn drive(
        mut listing: Listing,
        answer: impl Fn(QueryWindow) -> Vec<u8>,
        count: impl Fn(QueryWindow) -> u64,
    ) -> (Vec<String>, Vec<QueryWindow>, Option<Error>) {
        let (mut uuids, mut opened, mut error) = (Vec::new(), Vec::new(), None);
        let mut pending: Vec<u8> = Vec::new();
        loop {
            match listing.next() {
                ListStep::Open(endpoint) => {
                    opened.push(endpoint.window());
                    pending = answer(endpoint.window());
                    listing.opened(Ok(()));
                }
                ListStep::Read => {
                    // Three bytes at a time: records arrive across chunk boundaries.
                    if pending.is_empty() {
                        listing.ended();
                    } else {
                        let rest = pending.split_off(pending.len().min(3));
                        listing.chunk(&pending);
                        pending = rest;
                    }
                }
                ListStep::Stats(endpoint) => {
                    let window = endpoint_window(&endpoint);
                    listing.counted(Ok(WindowStats {
                        count: count(window),
                        size: 0,
                    }));
                }
                ListStep::Yield(Ok(record)) => uuids.push(record.record_uuid.to_string()),
                ListStep::Yield(Err(e)) => error = Some(e),
                ListStep::Done => return (uuids, opened, error),
            }
        }
    }

    fn endpoint_window(endpoint: &RecordStats) -> QueryWindow {
        use record_api::Endpoint;
        let query = endpoint.request().query;
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        QueryWindow::parse(&get("start_datetime"), &get("end_datetime")).unwrap()
    }

    fn pbx() -> Scope {
        Scope::client(ClientId::Me)
    }

    const SHARED: &str = "2024-02-29 23:59:59";

    fn quarter() -> Period {
        DateRange::parse("2024-01-01 00:00:00", "2024-03-31 23:59:59")
            .unwrap()
            .into()
    }

    /// The two windows of the quarter share `SHARED`: a record at that very instant is in both
    /// answers; one a fraction later only in the second.
    fn two_windows(window: QueryWindow, order: Order) -> Vec<u8> {
        let mut records = two_windows_records(window);
        if order == Order::Desc {
            records.reverse();
        }
        body(&records)
    }

    fn two_windows_records(window: QueryWindow) -> Vec<(&'static str, &'static str)> {
        if window.start_datetime() == "2024-01-01 00:00:00" {
            vec![("0A", "2024-01-05 10:00:00.5"), ("0B", SHARED)]
        } else {
            vec![
                ("0B", SHARED),
                ("0C", "2024-02-29 23:59:59.5"),
                ("0D", "2024-03-31 23:59:59"),
            ]
        }
    }

    #[test]
    fn a_record_at_the_shared_instant_is_handed_out_once_in_either_order() {
        let options = ListOptions::new(Order::Asc);
        let (uuids, opened, error) = drive(
            Listing::new(pbx(), quarter(), &options),
            |w| two_windows(w, Order::Asc),
            |_| 0,
        );
        assert_eq!(error.map(|e| e.to_string()), None);
        assert_eq!(uuids, ["30-0A", "30-0B", "30-0C", "30-0D"]);
        assert_eq!(opened.len(), 2);
        assert_eq!(opened[0].end_datetime(), SHARED);

        let options = ListOptions::new(Order::Desc);
        let (uuids, opened, _) = drive(
            Listing::new(pbx(), quarter(), &options),
            |w| two_windows(w, Order::Desc),
            |_| 0,
        );
        assert_eq!(uuids, ["30-0D", "30-0C", "30-0B", "30-0A"]);
        assert_eq!(opened[0].start_datetime(), SHARED, "the last window first");
    }

    #[test]
    fn a_record_a_server_puts_in_two_windows_answers_is_handed_out_once() {
        for order in [Order::Asc, Order::Desc] {
            // Both answers hold "0E" (January, the first window's) and "0F" (March, the second's).
            let answer = |w: QueryWindow| {
                let mut records = two_windows_records(w);
                records.push(("0E", "2024-01-20 08:00:00"));
                records.push(("0F", "2024-03-03 08:00:00"));
                body(&records)
            };
            let options = ListOptions::new(order);
            let (mut uuids, _, error) =
                drive(Listing::new(pbx(), quarter(), &options), answer, |_| 0);
            assert_eq!(error.map(|e| e.to_string()), None);
            uuids.sort();
            assert_eq!(
                uuids,
                ["30-0A", "30-0B", "30-0C", "30-0D", "30-0E", "30-0F"]
            );
        }
    }

    #[test]
    fn an_executor_that_skips_reporting_a_step_gets_an_error_not_a_silent_end() {
        let options = ListOptions::new(Order::Asc);
        let mut listing = Listing::new(pbx(), quarter(), &options);
        assert!(matches!(listing.next(), ListStep::Open(_)));
        // `opened` was never called.
        assert!(matches!(
            listing.next(),
            ListStep::Yield(Err(Error::Config(_)))
        ));
        assert!(matches!(listing.next(), ListStep::Done));
    }

    #[test]
    fn records_at_an_excluded_end_are_left_out() {
        let march = Period::month(2024, 3).unwrap();
        let options = ListOptions::new(Order::Asc);
        let (uuids, _, _) = drive(
            Listing::new(pbx(), march, &options),
            |_| {
                body(&[
                    ("01", "2024-03-31 23:59:59.99"),
                    ("02", "2024-04-01 00:00:00"),
                ])
            },
            |_| 0,
        );
        assert_eq!(uuids, ["30-01"]);
    }

    #[test]
    fn the_guard_splits_a_cut_window_and_hands_out_each_record_once() {
        // Eight records over March; the "server" answers at most three of a window's records.
        let all: Vec<(String, String)> = (1..=8)
            .map(|day| {
                (
                    format!("{day:02}"),
                    format!("2024-03-{:02} 12:00:00", day * 3),
                )
            })
            .collect();
        let inside = |w: QueryWindow| -> Vec<(String, String)> {
            all.iter()
                .filter(|(_, t)| {
                    let at = record_model::WireTime::parse(t).unwrap().instant();
                    w.start() <= at && at <= w.end()
                })
                .cloned()
                .collect()
        };
        let month = DateRange::parse("2024-03-01 00:00:00", "2024-03-31 23:59:59").unwrap();
        let options = ListOptions::new(Order::Asc).completeness_guard(true);
        let (uuids, opened, error) = drive(
            Listing::new(pbx(), month.into(), &options),
            |w| {
                let records = inside(w);
                let cut: Vec<(&str, &str)> = records
                    .iter()
                    .take(3)
                    .map(|(u, t)| (u.as_str(), t.as_str()))
                    .collect();
                body(&cut)
            },
            |w| inside(w).len() as u64,
        );
        assert_eq!(error.map(|e| e.to_string()), None);
        let want: Vec<String> = (1..=8).map(|d| format!("30-{d:02}")).collect();
        assert_eq!(uuids, want);
        assert!(opened.len() > 3, "the window was split: {}", opened.len());
    }

    #[test]
    fn the_guard_gives_up_on_a_second_that_stays_cut() {
        let crowded = [
            ("01", "2024-03-10 12:00:00.1"),
            ("02", "2024-03-10 12:00:00.2"),
        ];
        let day = Period::day(chrono::NaiveDate::from_ymd_opt(2024, 3, 10).unwrap()).unwrap();
        let options = ListOptions::new(Order::Asc).completeness_guard(true);
        let (uuids, _, error) = drive(
            Listing::new(pbx(), day, &options),
            |w| {
                let t = crowded[0].1;
                let at = record_model::WireTime::parse(t).unwrap().instant();
                if w.start() <= at && at <= w.end() {
                    body(&crowded[..1])
                } else {
                    body(&[])
                }
            },
            |w| {
                let at = record_model::WireTime::parse(crowded[0].1)
                    .unwrap()
                    .instant();
                if w.start() <= at && at <= w.end() {
                    2
                } else {
                    0
                }
            },
        );
        assert_eq!(
            uuids,
            ["30-01"],
            "handed out once, not again after each split"
        );
        match error {
            Some(Error::IncompleteListing {
                window,
                listed,
                expected,
            }) => {
                assert_eq!((listed, expected), (1, 2));
                assert!((window.end() - window.start()).num_seconds() <= 1);
            }
            other => panic!("{other:?}"),
        }
    }
    /// A small deterministic generator (xorshift) for the hostile answers below.
    struct Dice(u64);

    impl Dice {
        fn roll(&mut self, sides: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % sides as u64) as usize
        }
    }

    /// The times the hostile server's records are at: both sides of the windows' shared second,
    /// its fractions, and the quarter's ends (some just outside it).
    const TIMES: [&str; 9] = [
        "2023-12-31 23:59:59.5",
        "2024-01-01 00:00:00",
        "2024-01-17 08:30:00.25",
        "2024-02-29 23:59:58.9",
        SHARED,
        "2024-02-29 23:59:59.75",
        "2024-03-15 12:00:00",
        "2024-03-31 23:59:59.99",
        "2024-04-01 00:00:00",
    ];

    #[test]
    fn every_record_once_whatever_a_server_repeats_and_in_any_order() {
        for seed in 1..=150_u64 {
            let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            // The records as they are: an id and one time each.
            let truth: Vec<(String, &str)> = (0..1 + dice.roll(24))
                .map(|i| (format!("{i:04X}"), TIMES[dice.roll(TIMES.len())]))
                .collect();
            let answers = std::cell::RefCell::new(Dice(seed));
            let in_window = |w: QueryWindow| -> Vec<(String, &str)> {
                truth
                    .iter()
                    .filter(|(_, t)| holds(w, record_model::WireTime::parse(t).unwrap().instant()))
                    .cloned()
                    .collect()
            };
            // Each answer: the window's records, some of them again, records of other windows
            // and of outside the quarter, in a shuffled order.
            let answer = |w: QueryWindow| {
                let mut dice = answers.borrow_mut();
                let mut records = in_window(w);
                for _ in 0..dice.roll(2 * truth.len() + 1) {
                    records.push(truth[dice.roll(truth.len())].clone());
                }
                for i in (1..records.len()).rev() {
                    records.swap(i, dice.roll(i + 1));
                }
                let borrowed: Vec<(&str, &str)> =
                    records.iter().map(|(u, t)| (u.as_str(), *t)).collect();
                body(&borrowed)
            };
            let count = |w: QueryWindow| in_window(w).len() as u64;
            let mut want: Vec<String> = truth
                .iter()
                .filter(|(_, t)| {
                    quarter().contains(record_model::WireTime::parse(t).unwrap().instant())
                })
                .map(|(u, _)| format!("30-{u}"))
                .collect();
            want.sort();
            for order in [Order::Asc, Order::Desc] {
                for guard in [false, true] {
                    for size in [WindowSize::Longest, WindowSize::Week] {
                        let options = ListOptions::new(order)
                            .completeness_guard(guard)
                            .window_size(size);
                        let listing = Listing::new(pbx(), quarter(), &options);
                        let (mut uuids, _, error) = drive(listing, answer, count);
                        let case = format!("seed {seed}, {order:?}, guard {guard}, {size:?}");
                        assert_eq!(error.map(|e| e.to_string()), None, "{case}");
                        uuids.sort();
                        assert_eq!(uuids, want, "{case}");
                    }
                }
            }
        }
    }
}
