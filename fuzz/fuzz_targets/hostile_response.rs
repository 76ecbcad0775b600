#![no_main]
//! The blocking transport's reader against a hostile server: an arbitrarily long line (one byte
//! repeated up to 1 MiB), arbitrarily chunked reads, read timeouts anywhere. Oracles: the
//! reader never holds more framing than its limits (checked after every read, and by
//! `debug_assert!` in every line read), and chunking and timeouts change nothing: the body
//! read in pieces with timeouts is the body read in one go.
use libfuzzer_sys::fuzz_target;
use transport_blocking::fuzzing::{Hostile, read_hostile};

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let head = data[0] & 1 == 1;
    let plan_len = usize::from(data[1] % 16) + 1;
    let long = u64::from(data[2]) << 12;
    let long_at = usize::from(data[3]);
    let Some((plan, response)) = data[4..].split_at_checked(plan_len) else {
        return;
    };
    let (pieces, pieces_done) = read_hostile(Hostile::new(response, long_at, long, plan), head, 3);
    let (whole, whole_done) = read_hostile(Hostile::new(response, long_at, long, &[255]), head, 0);
    if whole_done && !plan.contains(&0) {
        assert!(pieces_done, "chunking broke a body read whole");
        assert_eq!(pieces, whole, "chunking changed the body");
    }
    if pieces_done && whole_done {
        assert_eq!(pieces, whole, "timeouts changed the body");
    }
    // With timeouts, what was handed out is never other than the body: a prefix of it.
    if whole_done {
        assert!(whole.starts_with(&pieces) || pieces == whole, "framing handed out as data");
    }
});
