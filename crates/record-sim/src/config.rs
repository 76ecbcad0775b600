//! How a simulator behaves: its data, its limits and the faults it injects.

use std::time::Duration;

/// The simulator's configuration. `SimConfig::default()` is a realistic PBX with no faults.
///
/// ```
/// use std::time::Duration;
/// use record_sim::SimConfig;
///
/// let config = SimConfig {
///     seed: 7,
///     record_count: 500,
///     rate_limit_period: Duration::from_secs(2),
///     ..SimConfig::default()
/// };
/// ```
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Everything generated (ids, records, file bytes, credentials, faults) derives from it.
    pub seed: u64,
    /// About how many records over 2024, besides the 24 boundary records.
    pub record_count: usize,
    /// The size of one extra record's file, for streaming tests (generated on the fly).
    pub huge_file_size: Option<u64>,
    /// Caps every other record's file size (a long call's file is over 3 MB otherwise), so
    /// that benchmarks of many files measure requests, not bytes.
    pub max_file_size: Option<u64>,
    /// How long an access token lives.
    pub token_lifetime: Duration,
    /// Requests per rate-limit period and client.
    pub rate_limit: u64,
    /// The rate-limit period (an hour in production).
    pub rate_limit_period: Duration,
    /// How long a statistics request takes (the concurrent-statistics guard holds meanwhile).
    pub stats_latency: Duration,
    /// How long after an archive request a new one is refused unless it was downloaded.
    pub archive_cooldown: Duration,
    /// The faults to inject.
    pub faults: Faults,
    /// Live mode: calls keep arriving while the simulator runs (off by default).
    pub live: Option<crate::live::LiveConfig>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            record_count: 3000,
            huge_file_size: None,
            max_file_size: None,
            token_lifetime: Duration::from_secs(3600),
            rate_limit: 100_000,
            rate_limit_period: Duration::from_secs(3600),
            stats_latency: Duration::ZERO,
            archive_cooldown: Duration::from_secs(3600),
            faults: Faults::default(),
            live: None,
        }
    }
}

/// Faults injected at random (deterministically from the seed) into API requests.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Added to every request before it is answered.
    pub latency: Duration,
    /// Percentage (0–100) of API requests answered with 500, 502 or 503.
    pub server_error_percent: u8,
    /// Percentage (0–100) of file downloads (from the API or a storage link) whose connection
    /// drops in the middle of the body.
    pub drop_percent: u8,
    /// Percentage (0–100) of file downloads (from the API or a storage link) whose body is
    /// shorter than its `Content-Length`.
    pub truncate_percent: u8,
    /// Every this many API requests, a burst of 429 `rate_limit_exceeded` answers begins.
    pub burst_429_every: Option<u64>,
    /// How many answers a 429 burst lasts.
    pub burst_429_length: u64,
    /// Every this many API requests, every token issued so far expires.
    pub expire_tokens_every: Option<u64>,
    /// Cuts every list answer to its first this many records, silently, as a server that
    /// pages its answers would (statistics still count every record).
    pub list_cap: Option<usize>,
    /// Widens every list answer by this much on each side of the window asked for, as a server
    /// with loose window bounds would: records near a window's edges come in two answers
    /// (statistics still count the window exactly).
    pub list_overreach: Option<Duration>,
}

/// A fault to inject into the next matching requests, set at run time with
/// [`crate::SimHandle::inject`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this status (500, 502, 503, ...) and a JSON error body.
    Status(u16),
    /// Answer 401, as for an expired token.
    Unauthorized,
    /// Answer 429 `rate_limit_exceeded` with `X-RateLimit-Reset` of this many seconds.
    RateLimited {
        /// The reset header's value.
        reset_secs: u64,
    },
    /// Serve a file download, but break the connection after this many bytes.
    DropAfter(u64),
    /// Serve a file download whose body ends after this many bytes, short of `Content-Length`.
    TruncateAfter(u64),
    /// Answer a token request with 500 (the token route only).
    TokenError,
    /// Carry the request out (delete, archive, ...), then break the connection before the
    /// answer's body: the client cannot tell whether it took effect.
    LoseAnswer,
    /// Carry the request out, then never send a byte of the answer, as a server that acted and
    /// then hung: the client's read timeout is what ends it. Counted with status 0.
    StallAnswer,
    /// Serve the request as usual: scheduled before another fault of the same route, it makes
    /// that fault hit a later request (the second list request of a listing, say).
    Pass,
}

/// A scheduled fault: applied to the next `times` requests of `route` (any route if `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    /// The route name (see [`crate::Counters`]), or any.
    pub route: Option<String>,
    /// The fault.
    pub fault: Fault,
    /// How many requests it applies to.
    pub times: u32,
}
