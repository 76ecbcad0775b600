//! What both clients share: configuration, credentials, rendering, rate-limit bookkeeping.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use record_api::{
    ApiRequest, Authorization, BaseUrl, Error, RetryPolicy, http, rate_limit_of, render,
};
use record_model::RateLimit;

use crate::Credentials;

pub(crate) struct Core {
    pub(crate) base: BaseUrl,
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryPolicy,
    pub(crate) concurrency: usize,
    pub(crate) token_margin: Duration,
    /// The slowest a download's body may arrive.
    pub(crate) min_rate: Option<crate::download::MinRate>,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    last_rate_limit: Mutex<Option<RateLimit>>,
    /// The newest token generation the server accepted (any answer but 401).
    accepted_token: AtomicU64,
}

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base.as_str())
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .field("user_agent", &self.user_agent)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl Core {
    pub(crate) fn new(
        base: BaseUrl,
        credentials: Credentials,
        retry: RetryPolicy,
        concurrency: usize,
        user_agent: Option<String>,
        allow_insecure_http: bool,
        token_margin: Duration,
    ) -> Self {
        Core {
            min_rate: None,
            base,
            credentials,
            retry,
            concurrency,
            token_margin,
            user_agent,
            allow_insecure_http,
            last_rate_limit: Mutex::new(None),
            accepted_token: AtomicU64::new(0),
        }
    }

    /// The slowest a download's body may arrive (none: no floor).
    pub(crate) fn with_min_rate(mut self, min_rate: Option<crate::download::MinRate>) -> Self {
        self.min_rate = min_rate;
        self
    }

    pub(crate) fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    pub(crate) fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }

    /// The secrets of the credentials, to keep out of error messages.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match &self.credentials {
            Credentials::ClientCredentials { client_secret, .. } => vec![client_secret.expose()],
            Credentials::Password {
                client_secret,
                password,
                ..
            } => vec![client_secret.expose(), password.expose()],
            Credentials::AccessToken(token) => vec![token.expose()],
            Credentials::PbxLogin { password, .. } => vec![password.expose()],
        }
    }

    pub(crate) fn render(
        &self,
        request: &ApiRequest,
        authorization: &Authorization,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        render(
            request,
            &self.base,
            authorization,
            self.user_agent.as_deref(),
        )
    }

    /// Records an answer to a request sent with the token of `generation` (0: none): its status
    /// in the call's span, its rate-limit headers, and that the server took the token.
    pub(crate) fn observe(
        &self,
        generation: u64,
        status: http::StatusCode,
        headers: &http::HeaderMap,
    ) {
        tracing::Span::current().record("status", status.as_u16());
        if generation != 0 && status != http::StatusCode::UNAUTHORIZED {
            self.accepted_token.fetch_max(generation, Ordering::Relaxed);
        }
        let info = rate_limit_of(headers);
        if info.is_known() {
            let mut last = self
                .last_rate_limit
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *last = Some(info);
        }
    }

    /// Whether the server accepted the token of `generation`, or a newer one: the credentials
    /// are known to work, and a 401 on it means it expired.
    pub(crate) fn token_proven(&self, generation: u64) -> bool {
        generation != 0 && self.accepted_token.load(Ordering::Relaxed) >= generation
    }

    pub(crate) fn last_rate_limit(&self) -> Option<RateLimit> {
        *self
            .last_rate_limit
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
