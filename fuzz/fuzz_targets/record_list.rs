#![no_main]
//! A record list answer: decodes or fails short; what decodes survives a round trip.
use libfuzzer_sys::fuzz_target;
use record_api::{Endpoint, ListRecords};
use record_model::Record;

fuzz_target!(|data: &[u8]| {
    let list = ListRecords::new(
        telphin_records_fuzz::scope(),
        telphin_records_fuzz::window(),
    );
    match list.decode(&telphin_records_fuzz::ok(data)) {
        Ok(records) => {
            for record in records {
                let value = serde_json::to_value(&record).expect("a record serialises");
                let again: Record = serde_json::from_value(value).expect("and decodes again");
                assert_eq!(again, record);
            }
        }
        Err(error) => telphin_records_fuzz::assert_short(&error),
    }
});
