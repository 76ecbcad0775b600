//! What both clients share: configuration, credentials, rendering, rate-limit bookkeeping,
//! storage-link requests.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use record_api::{
    ApiRequest, Authorization, BaseUrl, DEFAULT_USER_AGENT, Error, RetryPolicy, http,
    rate_limit_of, render,
};
use record_model::{RateLimit, StorageLink};

use crate::Credentials;
use crate::auth::TokenState;

pub(crate) struct Core {
    pub(crate) base: BaseUrl,
    pub(crate) credentials: Credentials,
    pub(crate) retry: RetryPolicy,
    pub(crate) concurrency: usize,
    pub(crate) token_margin: Duration,
    user_agent: Option<String>,
    allow_insecure_http: bool,
    last_rate_limit: Mutex<Option<RateLimit>>,
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
            base,
            credentials,
            retry,
            concurrency,
            token_margin,
            user_agent,
            allow_insecure_http,
            last_rate_limit: Mutex::new(None),
        }
    }

    pub(crate) fn can_refresh(&self) -> bool {
        TokenState::can_refresh(&self.credentials)
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

    /// Records an answer's status in the call's span and keeps its rate-limit headers.
    pub(crate) fn observe(&self, status: http::StatusCode, headers: &http::HeaderMap) {
        tracing::Span::current().record("status", status.as_u16());
        let info = rate_limit_of(headers);
        if info.is_known() {
            let mut last = self
                .last_rate_limit
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *last = Some(info);
        }
    }

    pub(crate) fn last_rate_limit(&self) -> Option<RateLimit> {
        *self
            .last_rate_limit
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A `GET` of a storage link: no `Authorization` header, the link's own host. The link is a
    /// secret, so no error message repeats it.
    pub(crate) fn storage_request(
        &self,
        link: &StorageLink,
    ) -> Result<http::Request<Vec<u8>>, Error> {
        let url = link.expose_url();
        let refused = |why: &str| Error::Config(format!("cannot fetch the storage link: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| refused("it is not a URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_name = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let loopback = host_name.starts_with("127.")
            || host_name.starts_with("localhost")
            || host_name.starts_with("[::1]");
        match scheme {
            "https" => {}
            "http" if loopback || self.allow_insecure_http => {}
            "http" => return Err(refused("it uses plain http to a host that is not loopback")),
            _ => return Err(refused("its scheme is neither https nor http")),
        }
        http::Request::get(url)
            .header(http::header::ACCEPT, "audio/mpeg, */*")
            .header(http::header::ACCEPT_ENCODING, "gzip")
            .header(
                http::header::USER_AGENT,
                self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT),
            )
            .body(Vec::new())
            .map_err(|_| refused("it is not a valid URI"))
    }
}

/// The span of one call: operation, scope kind, attempt and status — never a secret.
pub(crate) fn call_span(request: &ApiRequest, scope_kind: &'static str) -> tracing::Span {
    tracing::info_span!(
        "telphin_records.call",
        operation = request.operation,
        scope = scope_kind,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}
