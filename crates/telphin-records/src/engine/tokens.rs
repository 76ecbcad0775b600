//! The token cache as plain state: what to send, when to fetch, what to forget.
//!
//! Single flight without a lock held across I/O: the first caller that needs a token is handed
//! [`TokenStep::Fetch`] and the state notes a fetch under way; every other caller is handed
//! [`TokenStep::Wait`] with the same [`Ticket`] and asks again once that fetch is over
//! ([`TokenState::outcome`]). The executors hold their lock only around these calls. A caller
//! that started waiting before a token was obtained uses that token, whatever its advertised
//! lifetime, until the server refuses it. A fetch whose caller vanished is
//! [`abandoned`](TokenState::abandoned), and the next caller fetches anew.

use std::time::{Duration, Instant};

use record_api::{AuthKind, Authorization, Error, Secret, Token, TokenRequest};

use crate::Credentials;

/// Below this advertised lifetime (`expires_in: 0`, `1`, …) a token's expiry is not trusted:
/// it is used until the server refuses it, instead of being fetched anew for every call.
pub(crate) const SHORTEST_TRUSTED_LIFETIME: Duration = Duration::from_secs(10);

/// What a request needs to be sent: an authorization of `kind`, asked for at `asked_at`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuthNeed {
    pub(crate) kind: AuthKind,
    /// The generation of a token the server just refused (401), to forget first.
    pub(crate) refused: Option<u64>,
    pub(crate) asked_at: Instant,
}

/// An authorization to send, and which token it is (0 when none).
#[derive(Debug, Clone)]
pub(crate) struct Authorized {
    pub(crate) authorization: Authorization,
    pub(crate) generation: u64,
}

impl Authorized {
    pub(crate) fn none() -> Self {
        Authorized {
            authorization: Authorization::None,
            generation: 0,
        }
    }
}

/// What the executor does next to authorize a request.
#[derive(Debug)]
pub(crate) enum TokenStep {
    /// Send with this.
    Ready(Authorized),
    /// Run this token request, then report it with [`TokenState::fetched`] (or
    /// [`TokenState::abandoned`] if it cannot finish).
    Fetch(TokenRequest, Ticket),
    /// Another caller is fetching: wait until [`TokenState::outcome`] of this ticket is known,
    /// then ask again.
    Wait(Ticket),
}

/// Which token fetch a caller runs or waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

/// A token in use, with when it was obtained and a number that tells tokens apart.
#[derive(Debug, Clone)]
struct Cached {
    token: Token,
    obtained_at: Instant,
    generation: u64,
}

/// The state of a client's authentication.
#[derive(Debug)]
pub(crate) struct TokenState {
    current: Option<Cached>,
    refresh_token: Option<Secret>,
    /// Whether the fetch under way uses the refresh token.
    refreshing: bool,
    /// The fetch under way, if any.
    fetching: Option<Ticket>,
    /// The last fetch that failed for good, and a copy of its error for its waiters.
    failed: Option<(Ticket, Error)>,
    next_ticket: u64,
    next_generation: u64,
    margin: Duration,
}

impl TokenState {
    pub(crate) fn new(margin: Duration) -> Self {
        TokenState {
            current: None,
            refresh_token: None,
            refreshing: false,
            fetching: None,
            failed: None,
            next_ticket: 1,
            next_generation: 1,
            margin,
        }
    }

    /// How to authorize a request with `need`, at `now`.
    pub(crate) fn next(
        &mut self,
        credentials: &Credentials,
        need: &AuthNeed,
        now: Instant,
    ) -> Result<TokenStep, Error> {
        if let Some(refused) = need.refused {
            self.invalidate(refused);
        }
        let ready = |authorization| {
            Ok(TokenStep::Ready(Authorized {
                authorization,
                generation: 0,
            }))
        };
        if need.kind == AuthKind::None {
            return ready(Authorization::None);
        }
        match credentials {
            Credentials::AccessToken(token) => ready(Authorization::Bearer(token.clone())),
            Credentials::PbxLogin { username, password } => {
                if need.kind == AuthKind::BearerOrBasic {
                    ready(Authorization::Basic {
                        username: username.clone(),
                        password: password.clone(),
                    })
                } else {
                    Err(Error::Config(
                        "the PBX login works for record file downloads only; use app \
                         credentials (client credentials or password grant) for this call"
                            .to_owned(),
                    ))
                }
            }
            Credentials::ClientCredentials { .. } | Credentials::Password { .. } => {
                if let Some(cached) = &self.current
                    && self.usable(cached, need.asked_at, now)
                {
                    return Ok(TokenStep::Ready(Authorized {
                        authorization: Authorization::Bearer(cached.token.access_token.clone()),
                        generation: cached.generation,
                    }));
                }
                if let Some(ticket) = self.fetching {
                    return Ok(TokenStep::Wait(ticket));
                }
                let refresh = self
                    .refresh_token
                    .as_ref()
                    .and_then(|token| credentials.refresh_request(token));
                self.refreshing = refresh.is_some();
                match refresh.or_else(|| credentials.grant_request()) {
                    Some(request) => {
                        let ticket = Ticket(self.next_ticket);
                        self.next_ticket += 1;
                        self.fetching = Some(ticket);
                        Ok(TokenStep::Fetch(request, ticket))
                    }
                    None => Err(Error::Config(
                        "these credentials cannot obtain a token".to_owned(),
                    )),
                }
            }
        }
    }

    /// A token obtained after the caller began to wait is the one its single flight fetched;
    /// a token whose lifetime is too short to trust is used until refused.
    fn usable(&self, cached: &Cached, asked_at: Instant, now: Instant) -> bool {
        let untrusted = cached
            .token
            .expires_in
            .is_some_and(|s| Duration::from_secs(s) < SHORTEST_TRUSTED_LIFETIME);
        untrusted
            || cached.obtained_at >= asked_at
            || cached.token.is_fresh(cached.obtained_at, now, self.margin)
    }

    /// The outcome of the fetch of `ticket`: `Ok` to ask [`next`](Self::next) again, `Err` to
    /// give up. Any failed refresh forgets the refresh token, so the next fetch uses the
    /// primary grant; a failed primary grant is final, for its waiters too.
    pub(crate) fn fetched(
        &mut self,
        ticket: Ticket,
        result: Result<Token, Error>,
        now: Instant,
    ) -> Result<(), Error> {
        if self.fetching == Some(ticket) {
            self.fetching = None;
        }
        let refreshing = std::mem::take(&mut self.refreshing);
        match result {
            Ok(token) => {
                if let Some(refresh) = &token.refresh_token {
                    self.refresh_token = Some(refresh.clone());
                }
                let generation = self.next_generation;
                self.next_generation += 1;
                self.current = Some(Cached {
                    token,
                    obtained_at: now,
                    generation,
                });
                Ok(())
            }
            Err(error) if refreshing => {
                tracing::debug!(%error, "refreshing the token failed; using the primary grant");
                self.refresh_token = None;
                Ok(())
            }
            Err(error) => {
                self.failed = Some((ticket, copy_of(&error)));
                Err(error)
            }
        }
    }

    /// What a caller waiting for `ticket` learns: `None` while that fetch is under way, its
    /// final error when it failed for good, `Ok` to ask [`next`](Self::next) again otherwise.
    pub(crate) fn outcome(&self, ticket: Ticket) -> Option<Result<(), Error>> {
        if self.fetching == Some(ticket) {
            return None;
        }
        match &self.failed {
            Some((failed, error)) if *failed == ticket => Some(Err(copy_of(error))),
            _ => Some(Ok(())),
        }
    }

    /// The fetch of `ticket` will never report (its caller's future was dropped): the next
    /// caller fetches anew.
    pub(crate) fn abandoned(&mut self, ticket: Ticket) {
        if self.fetching == Some(ticket) {
            self.fetching = None;
            self.refreshing = false;
        }
    }

    /// The server refused the token of `generation` (401): forget it unless another caller has
    /// already replaced it.
    fn invalidate(&mut self, generation: u64) {
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.generation == generation)
        {
            self.current = None;
        }
    }

    /// Whether a 401 can be cured by fetching a new token.
    pub(crate) fn can_refresh(credentials: &Credentials) -> bool {
        credentials.grant_request().is_some()
    }
}

/// A copy of a token request's final error for each caller that waited for it. The API's answer
/// is copied whole; a transport failure keeps its kind, host and cause (as text).
fn copy_of(error: &Error) -> Error {
    match error {
        Error::Unauthorized(e) => Error::Unauthorized(e.clone()),
        Error::Forbidden(e) => Error::Forbidden(e.clone()),
        Error::NotFound(e) => Error::NotFound(e.clone()),
        Error::Api(e) => Error::Api(e.clone()),
        Error::RateLimited {
            kind,
            reset_after,
            error,
        } => Error::RateLimited {
            kind: *kind,
            reset_after: *reset_after,
            error: error.clone(),
        },
        Error::InvalidInput(e) => Error::InvalidInput(e.clone()),
        Error::Config(message) => Error::Config(message.clone()),
        Error::Transport(e) => Error::Transport(e.copied()),
        other => Error::Config(format!("the token request failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use record_api::{Endpoint, TransportError, TransportErrorKind, http};

    fn token(expires_in: Option<u64>, refresh: Option<&str>) -> Token {
        let mut json = serde_json::json!({ "access_token": "tok" });
        if let Some(seconds) = expires_in {
            json["expires_in"] = seconds.into();
        }
        if let Some(refresh) = refresh {
            json["refresh_token"] = refresh.into();
        }
        serde_json::from_value(json).unwrap()
    }

    fn need(asked_at: Instant) -> AuthNeed {
        AuthNeed {
            kind: AuthKind::Bearer,
            refused: None,
            asked_at,
        }
    }

    fn grant_type(request: &TokenRequest) -> String {
        let body = record_api::render(
            &request.request(),
            &record_api::BaseUrl::parse("https://h.example").unwrap(),
            &Authorization::None,
            None,
        )
        .unwrap()
        .into_body();
        String::from_utf8(body).unwrap()
    }

    fn creds() -> Credentials {
        Credentials::password("id", "secret", "user", "pass")
    }

    /// Asks for a token when none is cached: this caller fetches.
    fn fetch(state: &mut TokenState, at: Instant) -> Ticket {
        match state.next(&creds(), &need(at), at).unwrap() {
            TokenStep::Fetch(_, ticket) => ticket,
            other => panic!("expected a fetch, got {other:?}"),
        }
    }

    #[test]
    fn callers_wait_for_the_fetch_under_way_and_learn_its_outcome() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let ticket = fetch(&mut state, t0);
        // Nobody else fetches while one fetch is under way.
        for _ in 0..3 {
            let TokenStep::Wait(waited) = state.next(&creds(), &need(t0), t0).unwrap() else {
                panic!("wait for the fetch under way")
            };
            assert_eq!(waited, ticket);
            assert!(state.outcome(ticket).is_none(), "still under way");
        }
        state
            .fetched(ticket, Ok(token(Some(3600), None)), t0)
            .unwrap();
        assert!(matches!(state.outcome(ticket), Some(Ok(()))));
        assert!(matches!(
            state.next(&creds(), &need(t0), t0).unwrap(),
            TokenStep::Ready(_)
        ));
    }

    #[test]
    fn a_failed_grant_fails_its_waiters_and_an_abandoned_one_frees_the_next_caller() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let ticket = fetch(&mut state, t0);
        let refused = record_api::error_for_status(
            http::StatusCode::UNAUTHORIZED,
            &http::HeaderMap::new(),
            br#"{"error": "invalid_client"}"#,
        )
        .unwrap();
        assert!(state.fetched(ticket, Err(refused), t0).is_err());
        let Some(Err(Error::Unauthorized(error))) = state.outcome(ticket) else {
            panic!("each waiter learns the refusal")
        };
        assert_eq!(error.code.as_deref(), Some("invalid_client"));

        // A fetch whose caller vanished never blocks the next one.
        let ticket = fetch(&mut state, t0);
        assert!(matches!(
            state.next(&creds(), &need(t0), t0).unwrap(),
            TokenStep::Wait(_)
        ));
        state.abandoned(ticket);
        assert!(matches!(state.outcome(ticket), Some(Ok(()))));
        let next = fetch(&mut state, t0);
        assert_ne!(next, ticket);
    }

    #[test]
    fn a_burst_shares_one_token_even_with_a_zero_lifetime() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        // Every caller of the burst asked before the token arrived.
        let ticket = fetch(&mut state, t0);
        let later = t0 + Duration::from_millis(5);
        state
            .fetched(ticket, Ok(token(Some(0), None)), later)
            .unwrap();
        for _ in 0..100 {
            assert!(matches!(
                state.next(&creds(), &need(t0), later).unwrap(),
                TokenStep::Ready(_)
            ));
        }
        // A zero lifetime is not trusted: the token serves later calls too, until refused.
        let much_later = later + Duration::from_secs(600);
        let TokenStep::Ready(authorized) =
            state.next(&creds(), &need(much_later), much_later).unwrap()
        else {
            panic!("expected the cached token");
        };
        let refused = AuthNeed {
            refused: Some(authorized.generation),
            ..need(much_later)
        };
        assert!(matches!(
            state.next(&creds(), &refused, much_later).unwrap(),
            TokenStep::Fetch(..)
        ));
    }

    #[test]
    fn a_trusted_lifetime_is_renewed_before_expiry() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let ticket = fetch(&mut state, t0);
        state
            .fetched(ticket, Ok(token(Some(3600), None)), t0)
            .unwrap();
        let t1 = t0 + Duration::from_secs(3000);
        assert!(matches!(
            state.next(&creds(), &need(t1), t1).unwrap(),
            TokenStep::Ready(_)
        ));
        let t2 = t0 + Duration::from_secs(3560);
        assert!(matches!(
            state.next(&creds(), &need(t2), t2).unwrap(),
            TokenStep::Fetch(..)
        ));
    }

    #[test]
    fn any_failed_refresh_falls_back_to_the_primary_grant() {
        let failures = [
            Error::Transport(TransportError::new(TransportErrorKind::Io, true)),
            record_api::error_for_status(
                http::StatusCode::BAD_REQUEST,
                &http::HeaderMap::new(),
                br#"{"error": "invalid_request"}"#,
            )
            .unwrap(),
            record_api::error_for_status(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                &http::HeaderMap::new(),
                b"",
            )
            .unwrap(),
        ];
        for failure in failures {
            let mut state = TokenState::new(Duration::from_secs(60));
            let t0 = Instant::now();
            let ticket = fetch(&mut state, t0);
            state
                .fetched(ticket, Ok(token(Some(3600), Some("refresh-me"))), t0)
                .unwrap();
            let t1 = t0 + Duration::from_secs(4000);
            let TokenStep::Fetch(refresh, ticket) = state.next(&creds(), &need(t1), t1).unwrap()
            else {
                panic!("expired")
            };
            assert!(grant_type(&refresh).contains("grant_type=refresh_token"));
            assert!(state.fetched(ticket, Err(failure), t1).is_ok(), "not final");
            let TokenStep::Fetch(primary, ticket) = state.next(&creds(), &need(t1), t1).unwrap()
            else {
                panic!("a fetch")
            };
            assert!(grant_type(&primary).contains("grant_type=password"));
            // The primary grant failing is final.
            let error = Error::Transport(TransportError::new(TransportErrorKind::Io, true));
            assert!(state.fetched(ticket, Err(error), t1).is_err());
        }
    }

    #[test]
    fn a_refusal_of_an_older_token_keeps_the_newer_one() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let ticket = fetch(&mut state, t0);
        state
            .fetched(ticket, Ok(token(Some(3600), None)), t0)
            .unwrap();
        let TokenStep::Fetch(_, ticket) = state
            .next(
                &creds(),
                &AuthNeed {
                    refused: Some(1),
                    ..need(t0)
                },
                t0,
            )
            .unwrap()
        else {
            panic!("the refused token is fetched anew")
        };
        state
            .fetched(ticket, Ok(token(Some(3600), None)), t0)
            .unwrap();
        let stale = AuthNeed {
            refused: Some(1),
            ..need(t0)
        };
        let TokenStep::Ready(authorized) = state.next(&creds(), &stale, t0).unwrap() else {
            panic!("the newer token stays")
        };
        assert_eq!(authorized.generation, 2);
    }
}
