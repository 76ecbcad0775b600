#![no_main]
//! A record list decoded as it arrives, in chunks of any size: never a panic, errors stay
//! short, and a body that is a JSON array gives exactly its elements, whatever the chunking.
use libfuzzer_sys::fuzz_target;
use record_api::ListDecoder;
use record_model::Record;

fuzz_target!(|data: &[u8]| {
    let Some((&size, body)) = data.split_first() else {
        return;
    };
    let size = usize::from(size % 64) + 1;
    let mut decoder = ListDecoder::new();
    let mut items = Vec::new();
    for chunk in body.chunks(size) {
        decoder.push(chunk);
        while let Some(item) = decoder.next_record() {
            items.push(item);
        }
    }
    let end = decoder.finish();
    for item in &items {
        if let Err(error) = item {
            telphin_records_fuzz::assert_short(error);
        }
    }
    if let Ok(elements) = serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(body) {
        assert!(end.is_ok(), "a JSON array ends well: {end:?}");
        assert_eq!(items.len(), elements.len());
        for (item, element) in items.iter().zip(elements) {
            let whole = serde_json::from_str::<Record>(element.get());
            assert_eq!(item.is_ok(), whole.is_ok());
            if let (Ok(streamed), Ok(whole)) = (item, whole) {
                assert_eq!(streamed, &whole);
            }
        }
    }
});
