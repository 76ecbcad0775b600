#![no_main]
//! A listing against a server that repeats, shuffles and misplaces records: every record of the
//! period is handed out, each once.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| telphin_records_fuzz::listing::check(data));
