//! A transport that slows down the two moments a race needs: it answers token requests only
//! after a long pause, and pauses a successful list answer's body after its first chunk.

use std::time::Duration;

use telphin_records::bytes::Bytes;
use telphin_records::{AsyncBody, AsyncTransport, TransportError, http};

/// Wraps `T`: token answers come after [`TOKEN_PAUSE`], a list answer's body stops for
/// [`BODY_PAUSE`] after its first chunk. Everything else goes straight through.
#[derive(Debug)]
pub struct Pausing<T>(pub T);

/// How long a token request takes.
pub const TOKEN_PAUSE: Duration = Duration::from_millis(400);
/// How long a list answer's body stops after its first chunk.
pub const BODY_PAUSE: Duration = Duration::from_millis(60);

#[async_trait::async_trait]
impl<T: AsyncTransport> AsyncTransport for Pausing<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        if request.uri().path().ends_with("/oauth/token") {
            tokio::time::sleep(TOKEN_PAUSE).await;
        }
        self.0.send(request).await
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        let path = request.uri().path().trim_end_matches('/').to_owned();
        let list = request.method() == http::Method::GET && path.ends_with("/record");
        let answer = self.0.send_streaming(request).await?;
        if !list || !answer.status().is_success() {
            return Ok(answer);
        }
        Ok(answer.map(|body| Box::new(PausedBody { body, chunks: 0 }) as Box<dyn AsyncBody>))
    }
}

/// A body that stops after its first chunk.
struct PausedBody {
    body: Box<dyn AsyncBody>,
    chunks: u64,
}

#[async_trait::async_trait]
impl AsyncBody for PausedBody {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, TransportError> {
        if self.chunks == 1 {
            tokio::time::sleep(BODY_PAUSE).await;
        }
        self.chunks += 1;
        self.body.next_chunk().await
    }
}
