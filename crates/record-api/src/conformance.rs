//! The transport conformance kit (feature `conformance`): one call runs a suite of cases
//! against your [`BlockingTransport`] or [`AsyncTransport`], each case against its own small
//! HTTP/1.1 server on `127.0.0.1` that behaves well — or as a hostile or broken server does.
//!
//! The cases are the ordinary ones an HTTP client must get right (kept-alive connections,
//! chunked bodies with extensions and trailers, gzip, interim answers, bodiless answers,
//! `Connection: close`, HTTP/1.0, no redirect followed, error statuses as answers, proxies in
//! both forms) and the ways a server can hurt its client: endless head lines, chunk lines and
//! trailers, a head that drips in, a request acted on and then never answered, sloppy framing,
//! a timeout in the middle of a chunked body, a gzip bomb, a silent TLS server. Each case
//! names what it checks in [`Case::describe`].
//!
//! ```no_run
//! use record_api::conformance::{Case, Kit, PeakAlloc};
//!
//! // The cases that bound memory read this allocator's count of bytes in use.
//! #[global_allocator]
//! static ALLOCATED: PeakAlloc = PeakAlloc;
//!
//! # fn make(_: &record_api::conformance::Setup) -> record_api::testing::TestTransport { todo!() }
//! #[test]
//! fn my_transport_conforms() {
//!     Kit::new()
//!         .count_memory(&ALLOCATED, 1 << 20)
//!         .skip(Case::ProxyTunnel, "this transport has no proxy support")
//!         .run_blocking(|setup| make(setup))
//!         .assert_passed();
//! }
//! ```
//!
//! Run it from a test file of its own: the cases run one after another, and the memory they
//! count is the whole process's.

mod cases;
mod server;

use std::fmt;
use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

pub use peak_alloc::PeakAlloc;

use crate::{AsyncBody, AsyncTransport, BlockingBody, BlockingTransport, TransportError};

/// What the kit asks of the transport it builds for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Setup {
    /// How long opening a connection may take, TLS handshake included.
    pub connect_timeout: Duration,
    /// How long one read may wait.
    pub read_timeout: Duration,
    /// The plain-HTTP proxy every request must go through (`http://127.0.0.1:port`), or none:
    /// then the transport connects directly, whatever the environment says.
    pub proxy: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(5),
            proxy: None,
        }
    }
}

/// The kit: which cases to skip, and how memory is counted.
#[derive(Default)]
pub struct Kit {
    skips: Vec<(Case, &'static str)>,
    memory: Option<(&'static PeakAlloc, usize)>,
    bounds: Vec<(Case, usize)>,
}

impl fmt::Debug for Kit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kit")
            .field("skips", &self.skips)
            .field("memory_bound", &self.memory.map(|(_, bound)| bound))
            .field("bounds", &self.bounds)
            .finish()
    }
}

impl Kit {
    /// Every case, none skipped, memory not counted.
    pub fn new() -> Self {
        Kit::default()
    }

    /// Skips `case`, for a reason the report shows: what the transport documents it does not
    /// support.
    pub fn skip(mut self, case: Case, why: &'static str) -> Self {
        self.skips.push((case, why));
        self
    }

    /// Counts the bytes in use with `allocator` (install it as the test binary's
    /// `#[global_allocator]`): the cases that feed the transport an endless line or a gzip
    /// bomb then fail when the bytes in use grew by more than `bound` while the transport
    /// read. Without it, those cases check only that the transport gives up.
    pub fn count_memory(mut self, allocator: &'static PeakAlloc, bound: usize) -> Self {
        self.memory = Some((allocator, bound));
        self
    }

    /// A tighter bound than [`count_memory`](Self::count_memory)'s for one case: e.g. the
    /// documented limit of a head line plus the reader's buffer for
    /// [`Case::EndlessHeadLine`].
    pub fn memory_bound(mut self, case: Case, bound: usize) -> Self {
        self.bounds.push((case, bound));
        self
    }

    /// The allocator and the bound for `case`, when memory is counted.
    fn memory_for(&self, case: Case) -> Option<(&'static PeakAlloc, usize)> {
        let (allocator, bound) = self.memory?;
        let bound = self
            .bounds
            .iter()
            .find(|(bounded, _)| *bounded == case)
            .map_or(bound, |(_, bound)| *bound);
        Some((allocator, bound))
    }

    /// Runs every case against the transports `make` builds, one per case.
    pub fn run_blocking<T: BlockingTransport>(&self, make: impl Fn(&Setup) -> T) -> Report {
        let run = self.run(|setup| Blocking(make(setup)));
        let mut run = std::pin::pin!(run);
        match run.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(report) => report,
            // A blocking transport never leaves a case waiting.
            Poll::Pending => Report {
                results: vec![(
                    Case::KeepAlive,
                    Outcome::Failed("a blocking transport left a case pending".into()),
                )],
                took: vec![Duration::ZERO],
            },
        }
    }

    /// Runs every case against the transports `make` builds, one per case: await it in your
    /// runtime's test.
    pub async fn run_async<T: AsyncTransport>(&self, make: impl Fn(&Setup) -> T) -> Report {
        self.run(|setup| Async(make(setup))).await
    }

    async fn run<U: Under>(&self, make: impl Fn(&Setup) -> U) -> Report {
        let mut results = Vec::new();
        let mut took = Vec::new();
        for &case in Case::ALL {
            let started = std::time::Instant::now();
            let outcome = match self.skips.iter().find(|(skipped, _)| *skipped == case) {
                Some((_, why)) => Outcome::Skipped(why),
                None => {
                    let context = cases::Context {
                        make: &make,
                        memory: self.memory_for(case),
                    };
                    match cases::run(case, &context).await {
                        Ok(cases::Ran::Passed) => Outcome::Passed,
                        Ok(cases::Ran::NotHere(why)) => Outcome::Skipped(why),
                        Err(why) => Outcome::Failed(why),
                    }
                }
            };
            results.push((case, outcome));
            took.push(started.elapsed());
        }
        Report { results, took }
    }
}

macro_rules! cases {
    ($($name:ident => $text:literal,)*) => {
        /// A case of the kit; [`describe`](Case::describe) says what it checks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Case {
            $(#[doc = $text] $name,)*
        }

        impl Case {
            /// Every case, in the order the kit runs them.
            pub const ALL: &'static [Case] = &[$(Case::$name,)*];

            /// What the case checks, in a sentence.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Case::$name => $text,)*
                }
            }
        }
    };
}

cases! {
    KeepAlive =>
        "Three requests go over one kept-alive connection.",
    Chunked =>
        "A chunked body with extensions and trailers is decoded, and its connection reused.",
    EmptyGzip =>
        "An empty answer labelled `Content-Encoding: gzip` (a 204, say) is an empty answer, not a broken gzip stream.",
    Gzip =>
        "A gzip body is decoded, whole and streamed.",
    Interim =>
        "Interim 1xx answers are skipped.",
    NoBody =>
        "HEAD, 204 and 304 answers have no body, and the connection carries the next request.",
    ConnectionClose =>
        "A body delimited by the connection's close is read whole, and the connection not reused.",
    Http10 =>
        "An HTTP/1.0 answer is read, and its connection not reused.",
    Redirect =>
        "A redirect is returned as it is, not followed.",
    ErrorStatus =>
        "Error statuses are answers, with their bodies, not transport errors.",
    EndlessHeadLine =>
        "A response head line that never ends is refused within a bounded read (finding 1).",
    EndlessChunkLine =>
        "A chunk-size line that never ends is refused within a bounded read (finding 1).",
    EndlessTrailer =>
        "Trailers that never end are refused within a bounded read (finding 1).",
    EndlessChunkEnd =>
        "Bytes that never end where a chunk's CRLF is due are refused within a bounded read (finding 1).",
    NoResendAfterStall =>
        "A DELETE the server received on a kept connection and never answered is not sent again by the transport (finding 2): the error says it may have been sent.",
    NoResendAfterHalfHead =>
        "A DELETE answered with half a head and a close is not sent again (finding 2).",
    NoResendAfterInvalidHead =>
        "A DELETE answered with an invalid head is not sent again (finding 2).",
    NoResendAfterClose =>
        "A DELETE the server received and closed the kept connection on is not sent again by the transport (finding 2).",
    DrippingHead =>
        "A head that drips in one byte at a time ends within the connect and read timeouts (finding 3).",
    SilentTlsServer =>
        "A TLS server that never speaks fails within the connect timeout, as a timeout, before the request was sent (finding 4).",
    SignedLength =>
        "`Content-Length: +5` is refused (finding 9).",
    ChunkedThenGzip =>
        "`Transfer-Encoding: chunked, gzip` is not decoded as a chunked body (finding 9).",
    SignedChunkSize =>
        "A chunk size with a sign (`+5`) is refused (finding 9).",
    Http10Chunked =>
        "An HTTP/1.0 answer with a chunked body does not keep its connection (finding 9).",
    LengthAndChunked =>
        "An answer with both Content-Length and Transfer-Encoding does not keep its connection (finding 9).",
    KeepAliveThenClose =>
        "`Connection: keep-alive` then `Connection: close`: the connection is closed (finding 9).",
    TimeoutMidBody =>
        "A read timeout in the middle of a chunked body loses no byte and never hands out framing as data (finding 10).",
    GzipBomb =>
        "A small gzip answer that decodes to 1 GiB is refused without buffering it (finding 11).",
    BracketedHostWithSuffix =>
        "A URL whose host is `[::1]` followed by more text is refused, never sent to `::1` (finding 13).",
    ProxyAbsoluteForm =>
        "Plain-HTTP requests go to the proxy in absolute form.",
    ProxyTunnel =>
        "`https` requests go through the proxy's CONNECT tunnel.",
    ProxyWithoutCredentials =>
        "A URL's `user:password@` never reaches a proxy's request line (absolute form carries the host only).",
    OneFramingHeader =>
        "A request carries one framing header: a caller's `Transfer-Encoding` or `Content-Length` never goes out beside the transport's own.",
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The transport did what the case checks.
    Passed,
    /// Not run: the reason given to [`Kit::skip`], or why this machine cannot run it.
    Skipped(&'static str),
    /// The transport did something else, as said.
    Failed(String),
}

/// What the kit found, case by case.
#[derive(Debug, Clone)]
pub struct Report {
    results: Vec<(Case, Outcome)>,
    /// How long each case took.
    took: Vec<Duration>,
}

impl Report {
    /// Each case and how it ended.
    pub fn results(&self) -> &[(Case, Outcome)] {
        &self.results
    }

    /// The cases that failed.
    pub fn failures(&self) -> impl Iterator<Item = (Case, &str)> {
        self.results
            .iter()
            .filter_map(|(case, outcome)| match outcome {
                Outcome::Failed(why) => Some((*case, why.as_str())),
                _ => None,
            })
    }

    /// Panics with every failure when any case failed: for a test.
    #[track_caller]
    #[allow(clippy::panic)] // a test's assertion
    pub fn assert_passed(&self) {
        let failures: Vec<String> = self
            .failures()
            .map(|(case, why)| format!("{case:?} ({}): {why}", case.describe()))
            .collect();
        if !failures.is_empty() {
            panic!(
                "{} of {} conformance cases failed:\n{}",
                failures.len(),
                self.results.len(),
                failures.join("\n")
            );
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ((case, outcome), took) in self.results.iter().zip(&self.took) {
            let ms = took.as_millis();
            match outcome {
                Outcome::Passed => writeln!(f, "pass  {case:?} ({ms} ms)")?,
                Outcome::Skipped(why) => writeln!(f, "skip  {case:?}: {why}")?,
                Outcome::Failed(why) => writeln!(f, "FAIL  {case:?} ({ms} ms): {why}")?,
            }
        }
        Ok(())
    }
}

/// A streamed body of either kind.
enum Body {
    Blocking(BlockingBody),
    Async(Box<dyn AsyncBody>),
}

impl Body {
    /// The next piece of the body, `None` at its end.
    async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        match self {
            Body::Blocking(reader) => {
                let mut buf = vec![0; 16 * 1024];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => return Ok(None),
                        Ok(n) => return Ok(Some(buf[..n].to_vec())),
                        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(error) => return Err(format!("{:?}: {error}", error.kind())),
                    }
                }
            }
            Body::Async(body) => match body.next_chunk().await {
                Ok(chunk) => Ok(chunk.map(|bytes| bytes.to_vec())),
                Err(error) => Err(describe(&error)),
            },
        }
    }
}

use std::io::Read as _;

/// A transport error as a case reports it.
fn describe(error: &TransportError) -> String {
    let source = std::error::Error::source(error).map_or(String::new(), |s| format!(": {s}"));
    format!("{:?} error{source}", error.kind())
}

/// The transport under test, of either kind.
trait Under {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError>;

    async fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Body>, TransportError>;
}

struct Blocking<T>(T);

impl<T: BlockingTransport> Under for Blocking<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.0.send(request)
    }

    async fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Body>, TransportError> {
        Ok(self.0.send_streaming(request)?.map(Body::Blocking))
    }
}

struct Async<T>(T);

impl<T: AsyncTransport> Under for Async<T> {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        self.0.send(request).await
    }

    async fn open(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Body>, TransportError> {
        Ok(self.0.send_streaming(request).await?.map(Body::Async))
    }
}
