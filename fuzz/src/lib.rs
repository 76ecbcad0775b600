//! What the fuzz targets share: answers made of fuzz input, and the checks every decoder must
//! pass whatever it is given (no panic, short errors).

use record_api::http;
use record_model::{ClientId, QueryWindow, RecordUuid};

/// A `200` answer with `body`.
pub fn ok(body: &[u8]) -> http::Response<Vec<u8>> {
    answer(200, body)
}

/// An answer with `status` and `body`.
pub fn answer(status: u16, body: &[u8]) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(body.to_vec());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    response
}

/// The scope and window every endpoint here is built with.
pub fn scope() -> record_api::Scope {
    record_api::Scope::client(ClientId::Me)
}

/// A fixed window.
pub fn window() -> QueryWindow {
    QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").expect("a valid window")
}

/// A fixed record id.
pub fn uuid() -> RecordUuid {
    "30-624835FEEE0E11E6A19D331E4D6A0606"
        .parse()
        .expect("a valid id")
}

/// Whatever went wrong, the message stays short: no input is quoted whole.
pub fn assert_short(error: &impl std::fmt::Display) {
    let shown = error.to_string();
    assert!(shown.len() < 4096, "an error of {} bytes", shown.len());
}

pub mod listing;
