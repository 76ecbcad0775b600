#![no_main]
//! The wire time: parses or fails short; what parses prints back to itself.
use libfuzzer_sys::fuzz_target;
use record_model::WireTime;

fuzz_target!(|text: &str| {
    match WireTime::parse(text) {
        Ok(time) => assert_eq!(WireTime::parse(&time.to_string()).ok(), Some(time)),
        Err(error) => telphin_records_fuzz::assert_short(&error),
    }
});
