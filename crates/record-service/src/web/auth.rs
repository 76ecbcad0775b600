//! Who may look: accounts with argon2id hashes, sessions in HttpOnly SameSite=Strict cookies,
//! and failed logins slowed by address and by name. Locks here are never held across an
//! `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use record_backup::chrono_tz::Tz;
use sha2::{Digest as _, Sha256};

use crate::config::{WebSettings, parse_tz};

/// The cookie that carries a session.
pub(crate) const SESSION_COOKIE: &str = "telphin_session";

/// Failures within this time count towards the next delay.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);
/// The longest delay before a login is checked.
const MAX_DELAY: Duration = Duration::from_secs(16);
/// The failure records kept at most (the oldest are forgotten first).
const MAX_FAILURE_KEYS: usize = 10_000;

/// An account.
struct Account {
    hash: String,
    tz: Tz,
}

/// Who is looking.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    /// The account's name (`local` without accounts).
    pub(crate) name: String,
    /// Their time zone.
    pub(crate) tz: Tz,
    /// Whether they logged in (there are accounts).
    pub(crate) logged_in: bool,
}

struct Session {
    user: String,
    expires: Instant,
}

/// The accounts and the live sessions.
pub(crate) struct Gate {
    accounts: HashMap<String, Account>,
    default_tz: Tz,
    session_length: Duration,
    pub(crate) secure_cookies: bool,
    /// SHA-256 of the cookie's token → its session.
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    /// A name or an address → (failures, last failure).
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// A hash to check against when the name is unknown: the same work either way.
    decoy: String,
    /// Password checks at once: each takes 19 MiB, so a burst of logins cannot take the
    /// service's memory.
    checks: Arc<tokio::sync::Semaphore>,
}

/// Password checks that may run at once.
const CHECKS_AT_ONCE: usize = 2;

/// How a login ended.
pub(crate) enum Login {
    /// The cookie's token.
    Opened(String),
    Refused,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Gate {
    pub(crate) fn new(settings: &WebSettings) -> Gate {
        let default_tz = parse_tz(&settings.tz).unwrap_or(Tz::UTC);
        let accounts = settings
            .users
            .iter()
            .map(|user| {
                let tz = user
                    .tz
                    .as_deref()
                    .and_then(|tz| parse_tz(tz).ok())
                    .unwrap_or(default_tz);
                (
                    user.name.clone(),
                    Account {
                        hash: user.password_hash.clone(),
                        tz,
                    },
                )
            })
            .collect();
        Gate {
            accounts,
            default_tz,
            session_length: settings.session,
            secure_cookies: settings.secure_cookies,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            decoy: hash_password("not the password of anyone").unwrap_or_default(),
            checks: Arc::new(tokio::sync::Semaphore::new(CHECKS_AT_ONCE)),
        }
    }

    /// Whether the page needs a login (accounts are configured).
    pub(crate) fn needs_login(&self) -> bool {
        !self.accounts.is_empty()
    }

    /// The viewer of a request: its session's user, or the local viewer without accounts.
    pub(crate) fn viewer(&self, token: Option<&str>) -> Option<Viewer> {
        if !self.needs_login() {
            return Some(Viewer {
                name: "local".to_owned(),
                tz: self.default_tz,
                logged_in: false,
            });
        }
        let token = token?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, session| session.expires > now);
        let session = sessions.get(&digest(token))?;
        let account = self.accounts.get(&session.user)?;
        Some(Viewer {
            name: session.user.clone(),
            tz: account.tz,
            logged_in: true,
        })
    }

    /// Ends the session of `token`.
    pub(crate) fn logout(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&digest(token));
    }

    /// How long this login waits before its password is checked: twice as long after each
    /// recent failure from the address or for the name (0.5 s, 1 s, 2 s … 16 s).
    fn delay(&self, name: &str, address: &str) -> Duration {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let recent = |key: &str| {
            failures
                .get(key)
                .filter(|(_, last)| last.elapsed() < FAILURE_MEMORY)
                .map_or(0, |(count, _)| *count)
        };
        let count = recent(&format!("name:{name}")).max(recent(&format!("addr:{address}")));
        if count == 0 {
            return Duration::ZERO;
        }
        (Duration::from_millis(500) * 2u32.saturating_pow(count.min(6) - 1)).min(MAX_DELAY)
    }

    fn failed(&self, name: &str, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_FAILURE_KEYS {
            failures.retain(|_, (_, last)| last.elapsed() < FAILURE_MEMORY);
        }
        if failures.len() >= MAX_FAILURE_KEYS
            && let Some(oldest) = failures
                .iter()
                .min_by_key(|(_, (_, last))| *last)
                .map(|(key, _)| key.clone())
        {
            failures.remove(&oldest);
        }
        for key in [format!("name:{name}"), format!("addr:{address}")] {
            let entry = failures.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= FAILURE_MEMORY {
                entry.0 = 0;
            }
            entry.0 = entry.0.saturating_add(1);
            entry.1 = Instant::now();
        }
    }

    fn succeeded(&self, name: &str, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&format!("name:{name}"));
        failures.remove(&format!("addr:{address}"));
    }

    /// Checks a login: waits as recent failures ask, checks the password off the async
    /// threads (argon2id takes tens of milliseconds and 19 MiB), and opens a session.
    pub(crate) async fn login(
        self: &Arc<Self>,
        name: &str,
        password: &str,
        address: &str,
    ) -> Login {
        let delay = self.delay(name, address);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let gate = Arc::clone(self);
        let (checked_name, password) = (name.to_owned(), password.to_owned());
        // The permit goes with the check: a login abandoned while it runs still frees it
        // when the check ends, and one waiting for a permit holds nothing.
        let Ok(permit) = Arc::clone(&self.checks).acquire_owned().await else {
            return Login::Refused;
        };
        let good = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let hash = gate
                .accounts
                .get(&checked_name)
                .map_or(gate.decoy.as_str(), |account| account.hash.as_str());
            let known = gate.accounts.contains_key(&checked_name);
            verify_password(hash, &password) && known
        })
        .await
        .unwrap_or(false);
        if !good {
            self.failed(name, address);
            return Login::Refused;
        }
        self.succeeded(name, address);
        let Some(token) = new_token() else {
            return Login::Refused;
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.insert(
            digest(&token),
            Session {
                user: name.to_owned(),
                expires: Instant::now() + self.session_length,
            },
        );
        Login::Opened(token)
    }

    /// The `Set-Cookie` value of a new session.
    pub(crate) fn session_cookie(&self, token: &str) -> String {
        format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            self.session_length.as_secs(),
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that ends a session in the browser.
    pub(crate) fn cleared_cookie(&self) -> String {
        format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            if self.secure_cookies { "; Secure" } else { "" }
        )
    }
}

/// 32 random bytes, hex.
fn new_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The argon2id hash of `password` in PHC form (OWASP's parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher as _, SaltString};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| format!("no randomness for a salt: {error}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| error.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// The value of the cookie `name` in a `Cookie` header.
pub(crate) fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hash_checks_its_password_only_and_is_argon2id() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct hors"));
        assert!(!verify_password("garbage", "correct horse"));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let header = "lang=ru; telphin_session=abc; other=1";
        assert_eq!(cookie(header, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(header, "lang"), Some("ru"));
        assert_eq!(cookie(header, "missing"), None);
    }
}
