//! Compile-time checks: the clients are `Send + Sync`, and their futures are `Send`, so they
//! can be shared across threads and spawned on a multi-threaded runtime.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly by design

use telphin_records::layers::transport_async::ReqwestTransport;
use telphin_records::layers::transport_blocking::HttpTransport;
use telphin_records::{
    ArchiveRequest, BlockingClient, Client, ClientId, DateRange, DownloadOptions, Order,
    QueryWindow, RecordUuid, Scope,
};

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>(_: &T) {}

#[test]
fn clients_are_send_and_sync() {
    send_sync::<BlockingClient<HttpTransport>>();
    send_sync::<Client<ReqwestTransport>>();
    send_sync::<telphin_records::Error>();
    send_sync::<telphin_records::Credentials>();
    send_sync::<telphin_records::ClientBuilder>();
    fn send_only<T: Send>() {}
    send_only::<telphin_records::BlockingDownload>();
    send_only::<telphin_records::Download>();
}

#[test]
fn async_futures_are_send() {
    // The futures are built and checked, never polled: no server is needed.
    let client: Client<ReqwestTransport> = telphin_records::ClientBuilder::new(
        telphin_records::Credentials::client_credentials("id", "secret"),
    )
    .base_url("http://127.0.0.1:9")
    .build_async()
    .unwrap();
    let scope = Scope::client(ClientId::Me);
    let range = DateRange::parse("2024-01-01 00:00:00", "2024-12-31 23:59:59").unwrap();
    let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").unwrap();
    let uuid: RecordUuid = "1-AB".parse().unwrap();
    let archive = ArchiveRequest::new(window, ["a@b.org"]).unwrap();
    let mut sink: Vec<u8> = Vec::new();
    send(&client.list(scope, range, Order::Asc));
    send(&client.list_window(scope, window, Order::Asc));
    send(&client.stats(scope, range));
    send(&client.delete_range(scope, range));
    send(&client.delete_record(scope, &uuid));
    send(&client.storage_link(scope, &uuid));
    send(&client.request_archive(ClientId::Me, &archive));
    send(&client.monthly_stats(ClientId::Me, None));
    send(&client.open_download(scope, &uuid, DownloadOptions::default()));
    send(&client.download(scope, &uuid, &mut sink, DownloadOptions::default()));
    send(&client.download_to_path(scope, &uuid, "x.mp3", DownloadOptions::default()));
    send(
        &client.execute(&telphin_records::layers::record_api::StorageUrl::new(
            scope,
            uuid.clone(),
        )),
    );
    let march = telphin_records::Period::month(2024, 3).unwrap();
    send(&client.list(scope, march, Order::Desc));
    send(
        &client
            .with_retry_policy(telphin_records::RetryPolicy::never())
            .stats(scope, march),
    );
}
