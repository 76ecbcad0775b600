//! One call's progress through retries and re-authorization, decided without I/O: the piece
//! that [`Exchange`](super::Exchange) and [`Transfer`](super::Transfer) share.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use record_api::{
    AuthKind, Authorization, Decision, Error, RetryPolicy, TransportError, TransportErrorKind,
};

use super::tokens::{AuthNeed, Authorized};

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Return the error.
    Return,
    /// Wait, then send again.
    Retry(Duration),
    /// Forget the refused token, obtain another, send again.
    Reauthorize,
}

/// The attempts of one call: its retry count, the authorization it sent, the token the server
/// refused, and whether an earlier attempt may have acted on the server.
///
/// A 401 is cured by a new token: the first one is always replayed with a token fetched (or
/// shared) after it, and a 401 on that newer token once more. When the server had accepted the
/// refused token (or a newer one), or the token this call saw refused before, the credentials
/// work and tokens expire: they may expire again and again under a long burst of calls —
/// before any call made with the newest one has come back — so such a 401 is replayed up to
/// [`EXPIRED_REPLAYS`] times in all. A 401 on a token no newer than one refused before is
/// returned.
#[derive(Debug)]
pub(crate) struct Attempts {
    policy: RetryPolicy,
    idempotent: bool,
    can_refresh: bool,
    attempt: u32,
    authorized: Authorized,
    /// The token the server refused, until the next authorization forgets it.
    refused: Option<u64>,
    /// The tokens the server refused so far in this call: how many, and the newest.
    refusals: (u8, u64),
    may_have_acted: bool,
}

/// How many 401s a call replays while its credentials are unproven: one, then one more on a
/// newer token.
const REPLAYS: u8 = 2;

/// How many 401s on tokens the server had accepted (expired ones) a call replays.
pub(crate) const EXPIRED_REPLAYS: u8 = 10;

impl Attempts {
    pub(crate) fn new(policy: RetryPolicy, idempotent: bool, can_refresh: bool) -> Self {
        Attempts {
            policy,
            idempotent,
            can_refresh,
            attempt: 1,
            authorized: Authorized::none(),
            refused: None,
            refusals: (0, 0),
            may_have_acted: false,
        }
    }

    /// The number of the current attempt, 1 for the first.
    pub(crate) fn attempt(&self) -> u32 {
        self.attempt
    }

    /// What the next attempt needs to be authorized, asked at `now`.
    pub(crate) fn need(&mut self, kind: AuthKind, now: Instant) -> AuthNeed {
        AuthNeed {
            kind,
            refused: self.refused.take(),
            asked_at: now,
        }
    }

    /// Keeps the authorization obtained (to tell which token a 401 refused) and renders the
    /// request with it.
    pub(crate) fn authorized<R>(
        &mut self,
        result: Result<Authorized, Error>,
        render: impl FnOnce(&Authorization) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let authorized = result?;
        let rendered = render(&authorized.authorization);
        self.authorized = authorized;
        rendered
    }

    /// The secret the last attempt sent, to keep out of its errors.
    pub(crate) fn secret(&self) -> Option<&str> {
        super::exchange::secret_of(&self.authorized.authorization)
    }

    /// Whether an earlier attempt may have been carried out by the server.
    pub(crate) fn may_have_acted(&self) -> bool {
        self.may_have_acted
    }

    /// The token the last attempt was sent with (0: none).
    pub(crate) fn generation(&self) -> u64 {
        self.authorized.generation
    }

    /// Decides what follows `error`; `core` tells whether the server took the refused token
    /// before.
    pub(crate) fn after(&mut self, error: &Error, core: &crate::core::Core) -> After {
        self.may_have_acted |= may_have_acted(error);
        if matches!(error, Error::Unauthorized(_)) && self.can_refresh {
            let generation = self.authorized.generation;
            let (count, newest) = self.refusals;
            // Expiries: the server took the refused token, or took the token this call saw
            // refused before (for other calls, before it expired under them).
            let expiring =
                core.token_proven(generation) || (count > 0 && core.token_proven(newest));
            let limit = match expiring {
                true => EXPIRED_REPLAYS,
                false => REPLAYS,
            };
            if count == 0 || (count < limit && generation > newest) {
                self.refusals = (count + 1, generation);
                self.refused = Some(generation);
                return After::Reauthorize;
            }
        }
        self.decide(error)
    }

    /// Decides what follows a body that broke off or ended short: for the retry policy, a
    /// transport failure of a request that was sent.
    pub(crate) fn after_body(&mut self) -> After {
        self.decide(&Error::Transport(TransportError::new(
            TransportErrorKind::Protocol,
            true,
        )))
    }

    fn decide(&mut self, error: &Error) -> After {
        match self
            .policy
            .decide(self.attempt, error, self.idempotent, jitter())
        {
            Decision::Retry { after } => {
                self.attempt += 1;
                After::Retry(after)
            }
            Decision::Stop => After::Return,
        }
    }
}

/// Whether the request that failed with `error` may have been carried out by the server.
fn may_have_acted(error: &Error) -> bool {
    match error {
        Error::Transport(transport) => transport.may_have_been_sent(),
        Error::Api(api) => api.status.is_server_error(),
        _ => false,
    }
}

/// A random number in `[0, 1)` for backoff jitter, from the standard library's hasher keys.
fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::scenario::{bearer, core, unauthorized};
    use record_api::http;

    /// Sends an attempt with the token of `generation`.
    fn sent_with(attempts: &mut Attempts, generation: u64) {
        let authorized = bearer("t0ken", generation);
        let _ = attempts.need(AuthKind::Bearer, Instant::now());
        attempts.authorized(Ok(authorized), |_| Ok(())).unwrap();
    }

    #[test]
    fn a_401_is_replayed_and_once_more_on_a_newer_token_only() {
        let core = core();
        let mut attempts = Attempts::new(RetryPolicy::default(), true, true);
        sent_with(&mut attempts, 3);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Reauthorize);
        assert_eq!(
            attempts.need(AuthKind::Bearer, Instant::now()).refused,
            Some(3),
            "the refused token is named once"
        );
        sent_with(&mut attempts, 4);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Reauthorize);
        sent_with(&mut attempts, 5);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Return);

        // A second 401 on the very token refused before is final.
        let mut attempts = Attempts::new(RetryPolicy::default(), true, true);
        sent_with(&mut attempts, 3);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Reauthorize);
        sent_with(&mut attempts, 3);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Return);
    }

    #[test]
    fn expired_tokens_are_replayed_while_each_refusal_is_of_a_newer_one() {
        let core = core();
        let mut attempts = Attempts::new(RetryPolicy::default(), true, true);
        for generation in 1..=u64::from(EXPIRED_REPLAYS) {
            // The server took each token before refusing it: it expired.
            core.observe(generation, http::StatusCode::OK, &http::HeaderMap::new());
            sent_with(&mut attempts, generation);
            assert_eq!(attempts.after(&unauthorized(), &core), After::Reauthorize);
        }
        let last = u64::from(EXPIRED_REPLAYS) + 1;
        core.observe(last, http::StatusCode::OK, &http::HeaderMap::new());
        sent_with(&mut attempts, last);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Return);
    }

    #[test]
    fn a_token_refused_here_and_taken_by_other_calls_had_expired() {
        let core = core();
        let mut attempts = Attempts::new(RetryPolicy::default(), true, true);
        for generation in 1..=u64::from(EXPIRED_REPLAYS) {
            // Refused for this call before any call with it came back...
            sent_with(&mut attempts, generation);
            assert_eq!(attempts.after(&unauthorized(), &core), After::Reauthorize);
            // ... and taken by other calls sent before it expired.
            core.observe(generation, http::StatusCode::OK, &http::HeaderMap::new());
        }
        sent_with(&mut attempts, u64::from(EXPIRED_REPLAYS) + 1);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Return);
    }

    #[test]
    fn a_fixed_token_is_not_refreshed() {
        let core = core();
        let mut attempts = Attempts::new(RetryPolicy::default(), true, false);
        assert_eq!(attempts.after(&unauthorized(), &core), After::Return);
    }

    #[test]
    fn retries_count_attempts_up_to_the_policy() {
        let core = core();
        let policy = RetryPolicy::default().with_max_attempts(3);
        let mut attempts = Attempts::new(policy, true, true);
        let failure = || Error::Transport(TransportError::new(TransportErrorKind::Io, true));
        assert!(matches!(attempts.after(&failure(), &core), After::Retry(_)));
        assert!(attempts.may_have_acted());
        assert!(matches!(attempts.after_body(), After::Retry(_)));
        assert_eq!(attempts.after(&failure(), &core), After::Return);
        assert_eq!(attempts.attempt(), 3);
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
