#![no_main]
//! A record id: parses or fails short; what parses prints back to itself.
use libfuzzer_sys::fuzz_target;
use record_model::RecordUuid;

fuzz_target!(|text: &str| {
    match text.parse::<RecordUuid>() {
        Ok(uuid) => assert_eq!(uuid.to_string().parse::<RecordUuid>().ok(), Some(uuid)),
        Err(error) => telphin_records_fuzz::assert_short(&error),
    }
});
