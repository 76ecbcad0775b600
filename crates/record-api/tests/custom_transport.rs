//! A custom transport written as a closure drives a list request end to end, with no network.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use record_api::testing::{TestTransport, response};
use record_api::{
    AsyncTransport, Authorization, BaseUrl, BlockingTransport, Endpoint, ListRecords, Scope,
    Secret, render,
};
use record_model::{ClientId, Order, QueryWindow};

const RECORD: &str = include_str!("../../record-model/tests/fixtures/full_record.json");

/// What a user's own transport would do: look at the request, answer it.
fn fake_server(
    request: &http::Request<Vec<u8>>,
) -> Result<http::Response<Vec<u8>>, record_api::TransportError> {
    let authorized = request
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap_or(""))
        == Some("Bearer token-1");
    if !authorized {
        return Ok(response(
            401,
            "application/json",
            br#"{"message": "no token"}"#.to_vec(),
        ));
    }
    let query = request.uri().query().unwrap_or("");
    assert!(query.contains("order=asc"), "{query}");
    Ok(response(
        200,
        "application/json",
        format!("[{RECORD}]").into_bytes(),
    ))
}

#[test]
fn a_closure_transport_lists_records() {
    let transport = TestTransport::from_fn(fake_server);
    let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-02-29 23:59:59").unwrap();
    let list = ListRecords::new(Scope::client(ClientId::Id(30)), window).order(Order::Asc);
    let base = BaseUrl::parse("https://apiproxy.telphin.ru").unwrap();
    let request = render(
        &list.request(),
        &base,
        &Authorization::Bearer(Secret::new("token-1")),
        None,
    )
    .unwrap();

    let records = list
        .decode(&BlockingTransport::send(&transport, request).unwrap())
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].record_uuid.as_str(),
        "30-624835FEEE0E11E6A19D331E4D6A0606"
    );

    let seen = transport.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].uri().path(), "/api/ver1.0/client/30/record/");
    assert_eq!(seen[0].headers()["accept-encoding"], "gzip");
}

#[test]
fn the_same_transport_serves_async_callers_and_dyn_users() {
    let transport: Box<dyn AsyncTransport> = Box::new(TestTransport::from_fn(fake_server));
    let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").unwrap();
    let list = ListRecords::new(Scope::client(ClientId::Me), window).order(Order::Asc);
    let base = BaseUrl::parse("http://127.0.0.1:9").unwrap();
    let request = render(
        &list.request(),
        &base,
        &Authorization::Bearer(Secret::new("token-1")),
        None,
    )
    .unwrap();
    let answer = pollster::block_on(transport.send(request)).unwrap();
    assert_eq!(list.decode(&answer).unwrap().len(), 1);
}

#[test]
fn a_queue_of_canned_answers_is_replayed_in_order() {
    let transport = TestTransport::new();
    transport.push_json(401, r#"{"message": "expired"}"#);
    transport.push_json(200, "[]");
    let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").unwrap();
    let list = ListRecords::new(Scope::client(ClientId::Me), window);
    let base = BaseUrl::parse("https://apiproxy.telphin.ru").unwrap();
    let send = || {
        let request = render(
            &list.request(),
            &base,
            &Authorization::Bearer(Secret::new("t")),
            None,
        )
        .unwrap();
        list.decode(&BlockingTransport::send(&transport, request).unwrap())
    };
    assert!(matches!(send(), Err(record_api::Error::Unauthorized(_))));
    assert!(send().unwrap().is_empty());
    assert!(
        BlockingTransport::send(&transport, http::Request::new(Vec::new())).is_err(),
        "queue is empty"
    );
}
