//! The token cache as plain state: what to send, when to fetch, what to forget. Both clients
//! keep it behind a lock held while fetching, so one token request serves every caller.

use std::time::{Duration, Instant};

use record_api::{AuthKind, Authorization, Error, Secret, Token, TokenRequest};

use crate::Credentials;

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
    next_generation: u64,
    margin: Duration,
}

/// What the client must do to authorize a request.
pub(crate) enum Authorize {
    /// Send it with this authorization; `generation` identifies the token (0 when none).
    Ready(Authorization, u64),
    /// Fetch a token with this request first.
    Fetch(TokenRequest),
}

impl TokenState {
    pub(crate) fn new(margin: Duration) -> Self {
        TokenState {
            current: None,
            refresh_token: None,
            next_generation: 1,
            margin,
        }
    }

    /// How to authorize a request of `kind` at `now`.
    pub(crate) fn authorize(
        &self,
        credentials: &Credentials,
        kind: AuthKind,
        now: Instant,
    ) -> Result<Authorize, Error> {
        if kind == AuthKind::None {
            return Ok(Authorize::Ready(Authorization::None, 0));
        }
        match credentials {
            Credentials::AccessToken(token) => {
                Ok(Authorize::Ready(Authorization::Bearer(token.clone()), 0))
            }
            Credentials::PbxLogin { username, password } => {
                if kind == AuthKind::BearerOrBasic {
                    Ok(Authorize::Ready(
                        Authorization::Basic {
                            username: username.clone(),
                            password: password.clone(),
                        },
                        0,
                    ))
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
                    && cached.token.is_fresh(cached.obtained_at, now, self.margin)
                {
                    let bearer = Authorization::Bearer(cached.token.access_token.clone());
                    return Ok(Authorize::Ready(bearer, cached.generation));
                }
                let refresh = self
                    .refresh_token
                    .as_ref()
                    .and_then(|token| credentials.refresh_request(token));
                match refresh.or_else(|| credentials.grant_request()) {
                    Some(request) => Ok(Authorize::Fetch(request)),
                    None => Err(Error::Config(
                        "these credentials cannot obtain a token".to_owned(),
                    )),
                }
            }
        }
    }

    /// Keeps a newly issued token, and gives the authorization it makes.
    pub(crate) fn store(&mut self, token: Token, now: Instant) -> (Authorization, u64) {
        if let Some(refresh) = &token.refresh_token {
            self.refresh_token = Some(refresh.clone());
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let authorization = Authorization::Bearer(token.access_token.clone());
        self.current = Some(Cached {
            token,
            obtained_at: now,
            generation,
        });
        (authorization, generation)
    }

    /// A token fetch failed: a refused refresh token is forgotten, so that the next attempt
    /// uses the primary grant. Returns whether that fallback is possible.
    pub(crate) fn fetch_failed(&mut self, error: &Error) -> bool {
        let refused = matches!(error, Error::Unauthorized(_));
        if refused && self.refresh_token.is_some() {
            self.refresh_token = None;
            return true;
        }
        false
    }

    /// The server refused the token of `generation` (401): forget it unless another caller has
    /// already replaced it.
    pub(crate) fn invalidate(&mut self, generation: u64) {
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
