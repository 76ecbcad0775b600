#![no_main]
//! Window statistics, of any shape.
use libfuzzer_sys::fuzz_target;
use record_api::{Endpoint, RecordStats};

fuzz_target!(|data: &[u8]| {
    let stats = RecordStats::new(
        telphin_records_fuzz::scope(),
        telphin_records_fuzz::window(),
    );
    if let Err(error) = stats.decode(&telphin_records_fuzz::ok(data)) {
        telphin_records_fuzz::assert_short(&error);
    }
});
