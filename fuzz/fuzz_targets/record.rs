#![no_main]
//! One record: decodes or fails short; absent fields stay absent through a round trip.
use libfuzzer_sys::fuzz_target;
use record_model::Record;

fuzz_target!(|data: &[u8]| {
    match serde_json::from_slice::<Record>(data) {
        Ok(record) => {
            let text = serde_json::to_vec(&record).expect("a record serialises");
            let again: Record = serde_json::from_slice(&text).expect("and decodes again");
            assert_eq!(again, record);
        }
        Err(error) => telphin_records_fuzz::assert_short(&error),
    }
});
