//! A file served from memory in 64 KiB chunks, for instruction counts that do not depend on
//! how much a socket happens to hold at each read: the SDK's download next to the same body
//! copied to a sink by hand, through the same transport.

use std::io::Read;

use telphin_records::bytes::Bytes;
use telphin_records::{
    AsyncBody, AsyncTransport, BlockingBody, BlockingTransport, ClientBuilder, ClientId,
    Credentials, DownloadOptions, DownloadSource, RecordUuid, Scope, TransportError, http,
};

const CHUNK: usize = 64 << 10;

/// Answers a token request with a token, and anything else with the file.
pub struct MemoryFile(Bytes);

impl MemoryFile {
    fn answer<B>(
        &self,
        request: &http::Request<Vec<u8>>,
        body: impl FnOnce(Bytes) -> B,
    ) -> http::Response<B> {
        let file = if request.uri().path().ends_with("/oauth/token") {
            Bytes::from_static(br#"{"access_token": "t0ken", "expires_in": 3600}"#)
        } else {
            self.0.clone()
        };
        let mut answer = http::Response::new(body(file.clone()));
        answer.headers_mut().insert(
            http::header::CONTENT_LENGTH,
            http::HeaderValue::from(file.len()),
        );
        answer
    }
}

impl BlockingTransport for MemoryFile {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        Ok(self.answer(&request, |file| file.to_vec()))
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        Ok(self.answer(&request, |file| Box::new(Chunks(file)) as BlockingBody))
    }
}

#[async_trait::async_trait]
impl AsyncTransport for MemoryFile {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        BlockingTransport::send(self, request)
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        Ok(self.answer(&request, |file| {
            Box::new(Chunks(file)) as Box<dyn AsyncBody>
        }))
    }
}

/// The rest of a body, handed out 64 KiB at a time.
struct Chunks(Bytes);

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(CHUNK);
        buf[..n].copy_from_slice(&self.0.split_to(n));
        Ok(n)
    }
}

#[async_trait::async_trait]
impl AsyncBody for Chunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        let n = self.0.len().min(CHUNK);
        Ok((n > 0).then(|| self.0.split_to(n)))
    }
}

/// Downloads of a file of `bytes` from memory, by the SDK or by hand.
pub struct MemoryDownload {
    blocking: telphin_records::BlockingClient<MemoryFile>,
    asynchronous: telphin_records::Client<MemoryFile>,
    runtime: tokio::runtime::Runtime,
    uuid: RecordUuid,
}

impl MemoryDownload {
    /// Both clients over a file of `bytes` in memory.
    pub fn new(bytes: usize) -> Result<MemoryDownload, String> {
        let file = || MemoryFile(Bytes::from(vec![7u8; bytes]));
        let builder = ClientBuilder::new(Credentials::client_credentials("id", "s3cret"))
            .base_url("http://127.0.0.1:9");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(MemoryDownload {
            blocking: builder
                .clone()
                .build_blocking_with(file())
                .map_err(|e| e.to_string())?,
            asynchronous: builder
                .build_async_with(file())
                .map_err(|e| e.to_string())?,
            runtime,
            uuid: "30-624835FEEE0E11E6A19D331E4D6A0606"
                .parse()
                .map_err(|e| format!("{e}"))?,
        })
    }

    /// Downloads the file once with `variant`: the bytes received.
    pub fn call(&self, variant: &str) -> Result<u64, String> {
        let pbx = Scope::client(ClientId::Me);
        let options = DownloadOptions::from_source(DownloadSource::Api);
        let request = || http::Request::new(Vec::new());
        match variant {
            "sdk-blocking" => Ok(self
                .blocking
                .download(pbx, &self.uuid, &mut std::io::sink(), options)
                .map_err(|e| e.to_string())?
                .bytes),
            "raw-blocking" => {
                let answer =
                    BlockingTransport::send_streaming(self.blocking.transport(), request())
                        .map_err(|e| e.to_string())?;
                std::io::copy(&mut answer.into_body(), &mut std::io::sink())
                    .map_err(|e| e.to_string())
            }
            "sdk-async" => {
                let sink = &mut tokio::io::sink();
                let download = self.asynchronous.download(pbx, &self.uuid, sink, options);
                Ok(self
                    .runtime
                    .block_on(download)
                    .map_err(|e| e.to_string())?
                    .bytes)
            }
            "raw-async" => self.runtime.block_on(async {
                let transport = self.asynchronous.transport();
                let answer = AsyncTransport::send_streaming(transport, request())
                    .await
                    .map_err(|e| e.to_string())?;
                let mut body = answer.into_body();
                let mut bytes = 0;
                while let Some(chunk) = body.next_chunk().await.map_err(|e| e.to_string())? {
                    tokio::io::AsyncWriteExt::write_all(&mut tokio::io::sink(), &chunk)
                        .await
                        .map_err(|e| e.to_string())?;
                    bytes += chunk.len() as u64;
                }
                Ok(bytes)
            }),
            other => Err(format!("unknown variant {other}")),
        }
    }
}
