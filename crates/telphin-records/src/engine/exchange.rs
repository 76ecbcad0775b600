//! One request to completion: authorize → send → decode, or decide retry / reauthorize /
//! return. The executor carries out each [`Step`] and reports what happened.

use std::time::{Duration, Instant};

use record_api::{
    ApiRequest, AuthKind, Body, Endpoint, Error, FormValue, RetryPolicy, TransportError, http,
    rate_limit_of,
};
use record_model::RateLimit;

use super::attempts::{After, Attempts};
use super::tokens::{AuthNeed, Authorized, TokenState};
use crate::core::Core;

/// What the executor does next.
#[derive(Debug)]
pub(crate) enum Step<O> {
    /// Obtain an authorization (single flight), then call [`Exchange::authorized`].
    Authorize(AuthNeed),
    /// Send this request with the buffered transport, then call [`Exchange::received`].
    Send(http::Request<Vec<u8>>),
    /// Wait, then call [`Exchange::start`].
    Sleep(Duration),
    /// The call is over.
    Done(Result<Answer<O>, Error>),
}

/// What follows a streamed answer's head.
#[derive(Debug)]
pub(crate) enum Opened<O> {
    /// A success: stream the kept body.
    Stream,
    /// Read the first bytes of the kept body, then call [`Exchange::error_body`].
    ReadErrorBody(http::response::Parts),
    /// Go on with this step.
    Next(Step<O>),
}

/// A successful answer: what it decoded to, and the rate-limit headers it carried.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Answer<O> {
    /// The decoded answer.
    pub output: O,
    /// The `X-RateLimit-*` headers of this answer.
    pub rate_limit: RateLimit,
}

/// The state of one call of an endpoint.
pub(crate) struct Exchange<'a, E: Endpoint> {
    core: &'a Core,
    endpoint: &'a E,
    request: ApiRequest,
    attempts: Attempts,
}

impl<'a, E: Endpoint> Exchange<'a, E> {
    pub(crate) fn new(core: &'a Core, endpoint: &'a E, policy: RetryPolicy) -> Self {
        let request = endpoint.request();
        // A token request answered 401 has bad credentials: no new token can cure that.
        let can_refresh =
            TokenState::can_refresh(&core.credentials) && request.auth != AuthKind::None;
        let attempts = Attempts::new(policy, request.idempotent, can_refresh);
        Exchange {
            core,
            endpoint,
            request,
            attempts,
        }
    }

    /// The span the executor runs the call in.
    pub(crate) fn span(&self) -> tracing::Span {
        call_span(&self.request)
    }

    /// Begins an attempt.
    pub(crate) fn start(&mut self, now: Instant) -> Step<E::Output> {
        tracing::Span::current().record("attempt", self.attempts.attempt());
        if self.request.auth == AuthKind::None {
            return self.authorized(Ok(Authorized::none()));
        }
        Step::Authorize(self.attempts.need(self.request.auth, now))
    }

    /// The authorization is known (or could not be had).
    pub(crate) fn authorized(&mut self, result: Result<Authorized, Error>) -> Step<E::Output> {
        let (core, request) = (self.core, &self.request);
        let rendered = self
            .attempts
            .authorized(result, |authorization| core.render(request, authorization));
        match rendered {
            Ok(request) => Step::Send(request),
            Err(error) => Step::Done(Err(self.redact(error))),
        }
    }

    /// The transport answered (or failed).
    pub(crate) fn received(
        &mut self,
        result: Result<http::Response<Vec<u8>>, TransportError>,
        now: Instant,
    ) -> Step<E::Output> {
        let mut rate_limit = RateLimit::default();
        let generation = self.attempts.generation();
        let decoded = result.map_err(Error::from).and_then(|response| {
            self.core
                .observe(generation, response.status(), response.headers());
            rate_limit = rate_limit_of(response.headers());
            self.endpoint.decode(&response)
        });
        let error = match decoded {
            Ok(output) => return Step::Done(Ok(Answer { output, rate_limit })),
            Err(error) => self.redact(error),
        };
        if error.is_not_found()
            && self.attempts.may_have_acted()
            && let Some(output) = self.endpoint.already_done()
        {
            tracing::info!(
                "an earlier attempt's answer was lost and the resource is gone now: done"
            );
            return Step::Done(Ok(Answer { output, rate_limit }));
        }
        match self.attempts.after(&error, self.core) {
            After::Return => Step::Done(Err(error)),
            After::Retry(after) => {
                tracing::debug!(%error, wait_ms = after.as_millis() as u64, "retrying");
                Step::Sleep(after)
            }
            After::Reauthorize => {
                tracing::debug!("token refused; fetching a new one");
                self.start(now)
            }
        }
    }

    /// The streaming transport answered with a head (the executor keeps the body), or failed.
    pub(crate) fn opened(
        &mut self,
        head: Result<http::response::Parts, TransportError>,
        now: Instant,
    ) -> Opened<E::Output> {
        match head {
            Ok(parts) if parts.status.is_success() => {
                self.core
                    .observe(self.attempts.generation(), parts.status, &parts.headers);
                Opened::Stream
            }
            Ok(parts) => Opened::ReadErrorBody(parts),
            Err(error) => Opened::Next(self.received(Err(error), now)),
        }
    }

    /// The first bytes (up to [`ERROR_BODY_LIMIT`](super::ERROR_BODY_LIMIT)) of a streamed
    /// answer that was not a success.
    pub(crate) fn error_body(
        &mut self,
        parts: http::response::Parts,
        prefix: Vec<u8>,
        now: Instant,
    ) -> Step<E::Output> {
        match self.received(Ok(http::Response::from_parts(parts, prefix)), now) {
            // A non-success answer the endpoint decodes as a success has no body to stream.
            Step::Done(Ok(_)) => Step::Done(Err(super::not_opened())),
            step => step,
        }
    }

    /// `error` without any secret this call sent.
    fn redact(&self, error: Error) -> Error {
        let mut secrets = self.core.secrets();
        secrets.extend(self.attempts.secret());
        if let Body::Form(fields) = &self.request.body {
            secrets.extend(fields.iter().filter_map(|(_, value)| match value {
                FormValue::Secret(secret) => Some(secret.expose()),
                _ => None,
            }));
        }
        error.redact(&secrets)
    }
}

/// The secret an authorization carries.
pub(crate) fn secret_of(authorization: &record_api::Authorization) -> Option<&str> {
    match authorization {
        record_api::Authorization::Bearer(token) => Some(token.expose()),
        record_api::Authorization::Basic { password, .. } => Some(password.expose()),
        _ => None,
    }
}

/// The span of one call: operation, scope kind, attempt and status — never a secret.
pub(crate) fn call_span(request: &ApiRequest) -> tracing::Span {
    let scope = match request.path.first().map(String::as_str) {
        Some("client") => "client",
        Some("extension_group") => "extension_group",
        Some("extension") => "extension",
        Some("oauth") => "token",
        _ => "other",
    };
    tracing::info_span!(
        "telphin_records.call",
        operation = request.operation,
        scope,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use record_api::{DeleteRecord, Deletion, ListRecords, RequestArchive, Scope};
    use record_model::{ArchiveRequest, ClientId, QueryWindow};

    use crate::Credentials;
    use crate::engine::scenario::{broken, core, response, uuid};

    fn bearer(token: &str) -> Authorized {
        crate::engine::scenario::bearer(token, 7)
    }

    fn lost() -> Result<http::Response<Vec<u8>>, TransportError> {
        Err(broken())
    }

    fn send<O: std::fmt::Debug>(step: Step<O>) -> http::Request<Vec<u8>> {
        match step {
            Step::Send(request) => request,
            other => panic!("expected a send, got {other:?}"),
        }
    }

    /// Starts an attempt and sends it with the bearer `token`.
    fn attempt<E: Endpoint>(exchange: &mut Exchange<'_, E>, token: &str) -> http::Request<Vec<u8>>
    where
        E::Output: std::fmt::Debug,
    {
        let _ = exchange.start(Instant::now());
        send(exchange.authorized(Ok(bearer(token))))
    }

    fn delete() -> DeleteRecord {
        DeleteRecord::new(Scope::client(ClientId::Me), uuid())
    }

    fn done<O: std::fmt::Debug>(step: Step<O>) -> Result<Answer<O>, Error> {
        match step {
            Step::Done(result) => result,
            other => panic!("expected the end, got {other:?}"),
        }
    }

    #[test]
    fn a_call_authorizes_sends_and_keeps_its_answers_rate_limit() {
        let core = core();
        let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").unwrap();
        let endpoint = ListRecords::new(Scope::client(ClientId::Me), window);
        let mut exchange = Exchange::new(&core, &endpoint, RetryPolicy::default());
        let now = Instant::now();
        let Step::Authorize(need) = exchange.start(now) else {
            panic!("a bearer call authorizes first")
        };
        assert_eq!(need.refused, None);
        let request = send(exchange.authorized(Ok(bearer("tok-1"))));
        assert_eq!(request.headers()["authorization"], "Bearer tok-1");
        let answer = done(exchange.received(response(200, "[]"), now)).unwrap();
        assert!(answer.output.is_empty());
        assert_eq!(answer.rate_limit.remaining, Some(41));
    }

    #[test]
    fn a_401_reauthorizes_once_naming_the_refused_token() {
        let (core, endpoint) = (core(), delete());
        let mut exchange = Exchange::new(&core, &endpoint, RetryPolicy::default());
        let now = Instant::now();
        attempt(&mut exchange, "old");
        let Step::Authorize(need) = exchange.received(response(401, ""), now) else {
            panic!("reauthorize")
        };
        assert_eq!(need.refused, Some(7));
        let _ = send(exchange.authorized(Ok(bearer("new"))));
        assert!(done(exchange.received(response(401, ""), now)).is_err());
    }

    #[test]
    fn a_retried_delete_that_finds_the_record_gone_succeeded() {
        let (core, endpoint) = (core(), delete());
        let mut exchange = Exchange::new(&core, &endpoint, RetryPolicy::default());
        let now = Instant::now();
        attempt(&mut exchange, "t");
        assert!(matches!(exchange.received(lost(), now), Step::Sleep(_)));
        attempt(&mut exchange, "t");
        let answer = done(exchange.received(response(404, "{}"), now)).unwrap();
        assert_eq!(answer.output, Deletion::AlreadyGone);
    }

    #[test]
    fn a_first_404_stays_an_error() {
        let (core, endpoint) = (core(), delete());
        let mut exchange = Exchange::new(&core, &endpoint, RetryPolicy::default());
        attempt(&mut exchange, "t");
        let error = done(exchange.received(response(404, "{}"), Instant::now())).unwrap_err();
        assert!(error.is_not_found());
    }

    #[test]
    fn an_echoed_secret_never_reaches_the_error() {
        let core = core();
        let window = QueryWindow::parse("2024-01-01 00:00:00", "2024-01-31 23:59:59").unwrap();
        let archive = ArchiveRequest::new(window, ["ops@example.org"]).unwrap();
        let endpoint = RequestArchive::new(ClientId::Me, archive);
        let mut exchange = Exchange::new(&core, &endpoint, RetryPolicy::default());
        attempt(&mut exchange, "bearer-t0ken");
        let body = r#"{"message": "bad token bearer-t0ken of app app-s3cret"}"#;
        let error = done(exchange.received(response(400, body), Instant::now())).unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains("t0ken") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn a_request_that_cannot_be_built_is_final() {
        let core = crate::ClientBuilder::new(Credentials::access_token("bad\ntoken"))
            .base_url("http://127.0.0.1:9")
            .core()
            .unwrap();
        let endpoint = delete();
        let mut exchange = Exchange::new(&core, &endpoint, RetryPolicy::default());
        let _ = exchange.start(Instant::now());
        let authorized = Authorized {
            authorization: record_api::Authorization::Bearer(record_api::Secret::new("a\nb")),
            generation: 0,
        };
        let error = done(exchange.authorized(Ok(authorized))).unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error}");
    }
}
