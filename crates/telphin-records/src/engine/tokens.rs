//! The token cache as plain state: what to send, when to fetch, what to forget.
//!
//! Both executors keep it behind a lock held while fetching, so one token request serves every
//! caller waiting for it (single flight): a caller that started waiting before a token was
//! obtained uses that token, whatever its advertised lifetime, until the server refuses it.

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
    /// Run this token request, then report it with [`TokenState::fetched`].
    Fetch(TokenRequest),
}

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
    next_generation: u64,
    margin: Duration,
}

impl TokenState {
    pub(crate) fn new(margin: Duration) -> Self {
        TokenState {
            current: None,
            refresh_token: None,
            refreshing: false,
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
                let refresh = self
                    .refresh_token
                    .as_ref()
                    .and_then(|token| credentials.refresh_request(token));
                self.refreshing = refresh.is_some();
                match refresh.or_else(|| credentials.grant_request()) {
                    Some(request) => Ok(TokenStep::Fetch(request)),
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

    /// The outcome of a [`TokenStep::Fetch`]: `Ok` to ask [`next`](Self::next) again, `Err` to
    /// give up. Any failed refresh forgets the refresh token, so the next fetch uses the
    /// primary grant; a failed primary grant is final.
    pub(crate) fn fetched(
        &mut self,
        result: Result<Token, Error>,
        now: Instant,
    ) -> Result<(), Error> {
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
            Err(error) => Err(error),
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

    #[test]
    fn a_burst_shares_one_token_even_with_a_zero_lifetime() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        // Every caller of the burst asked before the token arrived.
        assert!(matches!(
            state.next(&creds(), &need(t0), t0).unwrap(),
            TokenStep::Fetch(_)
        ));
        let later = t0 + Duration::from_millis(5);
        state.fetched(Ok(token(Some(0), None)), later).unwrap();
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
            TokenStep::Fetch(_)
        ));
    }

    #[test]
    fn a_trusted_lifetime_is_renewed_before_expiry() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let _ = state.next(&creds(), &need(t0), t0).unwrap();
        state.fetched(Ok(token(Some(3600), None)), t0).unwrap();
        let t1 = t0 + Duration::from_secs(3000);
        assert!(matches!(
            state.next(&creds(), &need(t1), t1).unwrap(),
            TokenStep::Ready(_)
        ));
        let t2 = t0 + Duration::from_secs(3560);
        assert!(matches!(
            state.next(&creds(), &need(t2), t2).unwrap(),
            TokenStep::Fetch(_)
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
            let _ = state.next(&creds(), &need(t0), t0).unwrap();
            state
                .fetched(Ok(token(Some(3600), Some("refresh-me"))), t0)
                .unwrap();
            let t1 = t0 + Duration::from_secs(4000);
            let TokenStep::Fetch(refresh) = state.next(&creds(), &need(t1), t1).unwrap() else {
                panic!("expired")
            };
            assert!(grant_type(&refresh).contains("grant_type=refresh_token"));
            assert!(state.fetched(Err(failure), t1).is_ok(), "not final");
            let TokenStep::Fetch(primary) = state.next(&creds(), &need(t1), t1).unwrap() else {
                panic!("a fetch")
            };
            assert!(grant_type(&primary).contains("grant_type=password"));
            // The primary grant failing is final.
            let error = Error::Transport(TransportError::new(TransportErrorKind::Io, true));
            assert!(state.fetched(Err(error), t1).is_err());
        }
    }

    #[test]
    fn a_refusal_of_an_older_token_keeps_the_newer_one() {
        let mut state = TokenState::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let _ = state.next(&creds(), &need(t0), t0).unwrap();
        state.fetched(Ok(token(Some(3600), None)), t0).unwrap();
        let _ = state.next(
            &creds(),
            &AuthNeed {
                refused: Some(1),
                ..need(t0)
            },
            t0,
        );
        state.fetched(Ok(token(Some(3600), None)), t0).unwrap();
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
