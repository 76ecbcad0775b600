//! What the tests of secrets in logs share: the secrets a transport sends, noted on the wire;
//! a check that none of them (nor 8 characters of one) stands in a text; a scenario that uses
//! every kind of secret.

use std::sync::{Arc, Mutex};

use telphin_records::{
    AsyncBody, AsyncTransport, BlockingBody, BlockingTransport, ClientId, DownloadOptions,
    DownloadSource, Order, Period, Scope, TransportError, http,
};

use crate::{Env, async_trait};

/// Secrets seen on the wire: every `Authorization` value, and every storage link fetched.
#[derive(Clone, Default)]
pub struct Seen(pub Arc<Mutex<Vec<String>>>);

impl Seen {
    /// Notes the secrets of `request`.
    pub fn note(&self, request: &http::Request<Vec<u8>>) {
        let mut seen = self.0.lock().unwrap();
        if let Some(value) = request.headers().get(http::header::AUTHORIZATION) {
            let value = value.to_str().unwrap();
            seen.push(value.split_once(' ').map_or(value, |(_, v)| v).to_owned());
        }
        // A storage link's key: the host and the `/storage/` prefix are not secret.
        if let Some(key) = request.uri().path().strip_prefix("/storage/") {
            seen.push(format!("storage/{key}"));
        }
    }
}

/// A transport that notes the secrets of each request, then sends it with `inner`.
pub struct Noting<T> {
    /// The transport that sends.
    pub inner: T,
    /// Where the secrets go.
    pub seen: Seen,
}

impl<T: BlockingTransport> BlockingTransport for Noting<T> {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.seen.note(&request);
        self.inner.send(request)
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        self.seen.note(&request);
        self.inner.send_streaming(request)
    }
}

#[async_trait]
impl<T: AsyncTransport> AsyncTransport for Noting<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.seen.note(&request);
        self.inner.send(request).await
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        self.seen.note(&request);
        self.inner.send_streaming(request).await
    }
}

/// Fails if any secret, or any 8 consecutive characters of one, stands in `text`: a dump that
/// splits a secret over lines still shows pieces of it.
pub fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        let pieces: Vec<String> = if chars.len() <= 8 {
            vec![secret.clone()]
        } else {
            chars.windows(8).map(|w| w.iter().collect()).collect()
        };
        for piece in pieces {
            assert!(
                !text.contains(&piece),
                "{what} shows {piece:?} of a secret:\n{}",
                text.lines()
                    .filter(|l| l.contains(&piece))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
}

/// The app and PBX secrets of the simulator.
pub fn credentials_secrets(env: &Env) -> Vec<String> {
    let c = env.sim.credentials();
    vec![
        c.client.client_secret.clone(),
        c.extension.client_secret.clone(),
        c.pbx_password.clone(),
    ]
}

/// Lists, fetches a storage link and downloads through it, replays a 401, and fails once.
pub fn blocking_scenario<T: BlockingTransport>(
    env: &Env,
    client: &telphin_records::BlockingClient<T>,
) {
    let scope = Scope::client(ClientId::Me);
    let march = Period::month(2024, 3).unwrap();
    let records = client.list(scope, march, Order::Asc).unwrap();
    let uuid = &records[0].record_uuid;
    let options = DownloadOptions::from_source(DownloadSource::StorageLink);
    client
        .download(scope, uuid, &mut Vec::new(), options.clone())
        .unwrap();
    env.sim.expire_tokens();
    client.stats(scope, march).unwrap();
    env.sim
        .inject(Some("storage_file"), record_sim::Fault::Status(500), 4);
    let error = client
        .download(scope, uuid, &mut Vec::new(), options.clone())
        .unwrap_err();
    tracing::info!(%error, "the scenario's expected failure");
}
