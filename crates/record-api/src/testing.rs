//! A recording test transport (feature `test-util`): canned answers, every request kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::transport::{AsyncBody, BlockingBody, BufferedBody};
use crate::{AsyncTransport, BlockingTransport, TransportError};

type Handler = dyn Fn(&http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>
    + Send
    + Sync;

/// A transport for tests: answers from a closure or from a queue of canned responses, and
/// records every request it receives. Clones share the queue and the record.
///
/// ```
/// use record_api::testing::TestTransport;
/// use record_api::BlockingTransport;
///
/// let transport = TestTransport::new();
/// transport.push_json(200, "[]");
/// let response = transport.send(http::Request::new(Vec::new()))?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(transport.requests().len(), 1);
/// # Ok::<(), record_api::TransportError>(())
/// ```
#[derive(Clone, Default)]
pub struct TestTransport {
    state: Arc<Mutex<State>>,
    handler: Option<Arc<Handler>>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Result<http::Response<Vec<u8>>, TransportError>>,
    requests: Vec<http::Request<Vec<u8>>>,
}

impl std::fmt::Debug for TestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestTransport")
            .field("requests", &self.lock().requests.len())
            .finish()
    }
}

impl TestTransport {
    /// A transport that answers from its queue (an empty queue answers with a transport error).
    pub fn new() -> Self {
        TestTransport::default()
    }

    /// A transport that answers every request with `handler`.
    pub fn from_fn<F>(handler: F) -> Self
    where
        F: Fn(&http::Request<Vec<u8>>) -> Result<http::Response<Vec<u8>>, TransportError>
            + Send
            + Sync
            + 'static,
    {
        TestTransport {
            state: Arc::default(),
            handler: Some(Arc::new(handler)),
        }
    }

    /// Queues an answer.
    pub fn push(&self, response: Result<http::Response<Vec<u8>>, TransportError>) {
        self.lock().queue.push_back(response);
    }

    /// Queues an answer with `status` and a JSON body.
    pub fn push_json(&self, status: u16, body: &str) {
        self.push(Ok(response(
            status,
            "application/json",
            body.as_bytes().to_vec(),
        )));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<http::Request<Vec<u8>>> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a failing test; the data is still
        // usable for its report.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn answer(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let answer = match &self.handler {
            Some(handler) => handler(&request),
            None => self.lock().queue.pop_front().unwrap_or_else(|| {
                Err(TransportError::new(crate::TransportErrorKind::Other, false)
                    .with_source("TestTransport: no answer queued"))
            }),
        };
        self.lock().requests.push(request);
        answer
    }
}

/// A response with `status`, a `Content-Type` and a body.
pub fn response(status: u16, content_type: &str, body: Vec<u8>) -> http::Response<Vec<u8>> {
    let mut response = http::Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = http::HeaderValue::from_str(content_type) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, value);
    }
    response
}

impl BlockingTransport for TestTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.answer(request)
    }

    fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<BlockingBody>, TransportError> {
        let response = self.answer(request)?;
        Ok(response.map(|body| Box::new(std::io::Cursor::new(body)) as BlockingBody))
    }
}

#[async_trait::async_trait]
impl AsyncTransport for TestTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.answer(request)
    }

    async fn send_streaming(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Box<dyn AsyncBody>>, TransportError> {
        let response = self.answer(request)?;
        Ok(response.map(|body| Box::new(BufferedBody(Some(body.into()))) as Box<dyn AsyncBody>))
    }
}
