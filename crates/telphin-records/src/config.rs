//! One configuration for both clients, built step by step.

use std::time::Duration;

use record_api::{BaseUrl, Error, RetryPolicy};

use crate::Credentials;
use crate::core::Core;

/// Configures a [`BlockingClient`](crate::BlockingClient) or an async
/// [`Client`](crate::Client).
///
/// ```no_run
/// use std::time::Duration;
/// use telphin_records::{ClientBuilder, Credentials};
///
/// # fn demo() -> Result<(), telphin_records::Error> {
/// let client = ClientBuilder::new(Credentials::client_credentials("app-id", "app-secret"))
///     .base_url("https://apiproxy.telphin.ru")
///     .timeouts(Duration::from_secs(5), Duration::from_secs(30))
///     .rate_limit_wait_cap(Duration::from_secs(120))
///     .build_blocking()?;
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    credentials: Credentials,
    base_url: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    retry: RetryPolicy,
    concurrency: usize,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    token_margin: Duration,
    min_rate: Option<crate::download::MinRate>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("base_url", &record_api::without_userinfo(&self.base_url))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .field("user_agent", &self.user_agent)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("token_margin", &self.token_margin)
            .field("min_rate", &self.min_rate)
            .finish()
    }
}

impl ClientBuilder {
    /// A configuration for `credentials` against Telphin's production host.
    pub fn new(credentials: Credentials) -> Self {
        ClientBuilder {
            credentials,
            base_url: BaseUrl::TELPHIN.to_owned(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            concurrency: 4,
            user_agent: None,
            allow_insecure_http: false,
            token_margin: Duration::from_secs(60),
            min_rate: Some(crate::download::MinRate {
                bytes_per_second: 1024,
                window: Duration::from_secs(30),
            }),
        }
    }

    /// The API host, e.g. a reseller's; a path prefix is kept.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Timeouts of the built-in transports: `connect` to open a connection, `read` for each
    /// read. There is no total deadline: a long download is never cut off while data flows.
    pub fn timeouts(mut self, connect: Duration, read: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_timeout = read;
        self
    }

    /// The retry policy (see [`RetryPolicy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The longest wait for a rate limit to reset before returning
    /// [`Error::RateLimited`].
    pub fn rate_limit_wait_cap(mut self, cap: Duration) -> Self {
        self.retry = self.retry.with_rate_limit_wait_cap(cap);
        self
    }

    /// How many windows of a long period the async client requests at once (at least 1): its
    /// record streams open this many windows ahead of the one they read, unless
    /// [`ListOptions::read_ahead`](crate::ListOptions::read_ahead) says otherwise.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The `User-Agent` header, instead of `telphin-records/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Allows plain `http://` to hosts other than loopback. Credentials and tokens then cross
    /// the network unencrypted: only for trusted networks.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The slowest a download's body may arrive: at least `bytes_per_second` on average over
    /// every `window` (default 1 KiB/s over 30 s). A server that drips bytes to keep the
    /// connection alive — which no read timeout catches — is cut off with a retriable
    /// [`TransportErrorKind::Timeout`](record_api::TransportErrorKind::Timeout), and the
    /// download starts over as after a broken body. `0` turns the floor off.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use telphin_records::{ClientBuilder, Credentials};
    /// let builder = ClientBuilder::new(Credentials::client_credentials("id", "secret"))
    ///     .min_transfer_rate(4096, Duration::from_secs(20));
    /// ```
    pub fn min_transfer_rate(mut self, bytes_per_second: u64, window: Duration) -> Self {
        self.min_rate = (bytes_per_second > 0).then_some(crate::download::MinRate {
            bytes_per_second,
            window,
        });
        self
    }

    /// How long before its expiry a token is renewed.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_margin = margin;
        self
    }

    #[cfg_attr(not(any(feature = "blocking", feature = "async")), allow(dead_code))]
    pub(crate) fn timeouts_of(&self) -> (Duration, Duration) {
        (self.connect_timeout, self.read_timeout)
    }

    /// Checks the configuration and builds the part both clients share: whatever cannot work
    /// is refused here, the same way for both clients, before any request is sent.
    pub(crate) fn core(self) -> Result<Core, Error> {
        for (name, timeout) in [
            ("connect", self.connect_timeout),
            ("read", self.read_timeout),
        ] {
            if timeout.is_zero() {
                return Err(Error::Config(format!(
                    "a {name} timeout of zero would fail every request; give a positive duration"
                )));
            }
        }
        if self.min_rate.is_some_and(|floor| floor.window.is_zero()) {
            return Err(Error::Config(
                "min_transfer_rate: a window of zero would fail every download; give a \
                 positive duration"
                    .to_owned(),
            ));
        }
        self.credentials.check()?;
        let base = BaseUrl::parse(&self.base_url)?;
        if !base.is_https() && !base.is_loopback() && !self.allow_insecure_http {
            return Err(Error::PlainHttpRefused {
                base_url: base.as_str().to_owned(),
            });
        }
        Ok(Core::new(
            base,
            self.credentials,
            self.retry,
            self.concurrency,
            self.user_agent,
            self.allow_insecure_http,
            self.token_margin,
        )
        .with_min_rate(self.min_rate))
    }
}
