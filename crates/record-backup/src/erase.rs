//! `erase`: every recording of one person's number destroyed wherever it is, with a deletion
//! act and an audit entry per recording; held recordings refused with the hold's reason.

use hmac::{KeyInit as _, Mac as _};
use telphin_records::Scope;
use telphin_records::layers::record_api::AsyncTransport;

use crate::act::DeletionAct;
use crate::archive::{Archive, Outcome};
use crate::catalog::Cause;
use crate::catalog::{Conditions, PersonNumber};
use crate::chain::AuditAction;
use crate::destroy::{ActRun, Journal};
use crate::digest::hex;
use crate::error::BackupError;

/// What an erasure is for, and how it runs.
#[derive(Clone)]
#[non_exhaustive]
pub struct ErasureOptions {
    /// Why (the request it answers); written to every tombstone, entry and the act.
    pub reason: String,
    /// Who acts.
    pub operator: String,
    /// Destroy nothing; the act says what would go.
    pub dry_run: bool,
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for ErasureOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErasureOptions")
            .field("reason", &self.reason)
            .field("operator", &self.operator)
            .field("dry_run", &self.dry_run)
            .field("key", &self.key.as_ref().map(|_| "<secret>"))
            .finish()
    }
}

impl ErasureOptions {
    /// An erasure for `reason` by `operator`, as a dry run until [`key`](Self::key) is given
    /// and [`dry_run(false)`](Self::dry_run) asked.
    pub fn new(reason: impl Into<String>, operator: impl Into<String>) -> Self {
        ErasureOptions {
            reason: reason.into(),
            operator: operator.into(),
            dry_run: true,
            key: None,
        }
    }

    /// The secret key of the number's hash kept in tombstones (HMAC-SHA256): the tombstone
    /// then proves which number was erased to whoever holds the key, and to nobody else.
    pub fn key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Whether to destroy nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// What an erasure did (or, dry, would do).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ErasureReport {
    /// The act: each record destroyed (or that would be), and those that were not.
    pub act: DeletionAct,
    /// Whether every matching record not held was destroyed.
    pub outcome: Outcome,
}

impl ErasureReport {
    /// Whether records were found but not destroyed (held, or refused).
    pub fn is_partial(&self) -> bool {
        !self.act.not_destroyed.is_empty() || !matches!(self.outcome, Outcome::Complete)
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Erases a person's data: every recording of the catalog where `number` appears in a
    /// number field — the same digits, or for 10 digits or more the same last 10 digits
    /// (`+7 495 …` and `8 495 …`) — is deleted from the PBX where it still is (with
    /// `scope`'s `DELETE`), its object deleted from the target, its row and numbers removed
    /// from the catalog, its month's manifest written again without it; a tombstone without
    /// personal data stays (id, time, size, SHA-256, the number's keyed hash, reason, who,
    /// when), and an audit entry proves each. A recording under a legal hold is not touched:
    /// the act lists it with the hold's reason.
    ///
    /// The number must name a person (7 digits or more); a real erasure needs the key of
    /// [`ErasureOptions::key`]. Both are checked before anything is read or sent.
    pub async fn erase(
        &self,
        number: &str,
        scope: Scope,
        options: &ErasureOptions,
    ) -> Result<ErasureReport, BackupError> {
        let person = PersonNumber::parse(number).map_err(BackupError::InvalidOption)?;
        let reason = options.reason.trim();
        if reason.is_empty() {
            return Err(BackupError::InvalidOption(
                "an erasure needs a reason (the request it answers)".to_owned(),
            ));
        }
        let number_hash = match (&options.key, options.dry_run) {
            (Some(key), _) => Some(keyed_hash(key, &person.digits)?),
            (None, true) => None,
            (None, false) => {
                return Err(BackupError::InvalidOption(
                    "an erasure needs the key of the number's hash kept in tombstones \
                     (ErasureOptions::key; TELPHIN_ERASURE_KEY for the command)"
                        .to_owned(),
                ));
            }
        };
        let cause = Cause {
            action: AuditAction::Erase,
            reason: reason.to_owned(),
            operator: options.operator.clone(),
            number_hash: number_hash.clone(),
        };
        let mut selection = Conditions::default();
        selection.with_number_between(&person.from, &person.until);
        if options.dry_run {
            let mut act = DeletionAct::new(
                AuditAction::Erase,
                true,
                &options.operator,
                reason,
                scope.to_string(),
            );
            act.number_hash = number_hash;
            let sweep = self
                .sweep(&selection, scope, &cause, &mut Journal::Dry(&mut act), None)
                .await?;
            return Ok(ErasureReport {
                act,
                outcome: sweep.outcome,
            });
        }
        let mut run = ActRun::new(cause.clone(), scope, None, self.options.act_dir.clone());
        let result = self
            .sweep(&selection, scope, &cause, &mut Journal::Act(&mut run), None)
            .await;
        let (sweep, act) = self.conclude(&run, result, outcome_of).await?;
        let act = match act {
            Some(act) => act,
            // Nothing matched: an act that says so, not stored.
            None => {
                let mut act = DeletionAct::new(
                    AuditAction::Erase,
                    false,
                    &options.operator,
                    reason,
                    scope.to_string(),
                );
                act.number_hash = run.header.cause.number_hash.clone();
                act.outcome = Some("nothing to erase".to_owned());
                act
            }
        };
        if act.not_destroyed.is_empty() {
            self.catalog.scrub_number_holds(&person)?;
        }
        self.catalog.checkpoint()?;
        Ok(ErasureReport {
            act,
            outcome: sweep.outcome,
        })
    }
}

/// How a sweep's act ends.
pub(crate) fn outcome_of(sweep: &crate::destroy::Sweep) -> &'static str {
    match sweep.outcome {
        Outcome::Paused { .. } => "paused",
        Outcome::Complete if sweep.more => "partial: more remain",
        Outcome::Complete => "complete",
    }
}

/// HMAC-SHA256 of a number's digits under `key`, lower-case hex.
fn keyed_hash(key: &[u8], digits: &str) -> Result<String, BackupError> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key)
        .map_err(|error| BackupError::InvalidOption(format!("the erasure key: {error}")))?;
    mac.update(digits.as_bytes());
    Ok(hex(&mac.finalize().into_bytes()))
}
