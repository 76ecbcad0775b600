//! The retention policy: how long recordings stay on the PBX (then purged — verified records
//! only) and in the archive (then destroyed everywhere, leaving a tombstone), by default and
//! per extension or group; and its application, dry by default.
//!
//! Periods end at local midnight in the policy's time zone: "keep 90 days on the PBX" keeps
//! a call of 1 March until the end of 30 May (local) and purges it from 31 May 00:00 — a
//! call at 23:59:59.999999 of the last day past goes, one at 00:00:00 of the next stays.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use telphin_records::Scope;
use telphin_records::layers::record_api::AsyncTransport;

use crate::act::DeletionAct;
use crate::archive::{Archive, Outcome};
use crate::catalog::Cause;
use crate::catalog::{Conditions, Past, ScopeFilter, not_held};
use crate::chain::AuditAction;
use crate::destroy::{ActRun, Journal};
use crate::error::BackupError;
use crate::purge::{PurgeOptions, PurgeReport};

/// The most records one application of the policy destroys: the act of a run is held in
/// memory until it is written, so a first application over years of calls goes in steps
/// (the service applies the policy every day; the command says when more remain).
pub const EXPIRE_PER_RUN: usize = 50_000;

/// The retention policy of one PBX (the `[pbx.retention]` table of the service's
/// configuration).
///
/// ```
/// let policy: record_backup::RetentionPolicy = toml_like();
/// # fn toml_like() -> record_backup::RetentionPolicy {
/// #     serde_json::from_str(r#"{"tz": "Europe/Moscow", "keep_on_pbx_days": 90,
/// #         "keep_in_archive_years": 5,
/// #         "rule": [{"extension": 1001, "keep_in_archive_years": 7}]}"#).unwrap()
/// # }
/// policy.check().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// The time zone whose midnights end the periods (an IANA name; default UTC).
    #[serde(default)]
    pub tz: Option<String>,
    /// Days a recording stays on the PBX after the day of its call; then it is purged (if
    /// verified as kept). None: never purged by the policy.
    #[serde(default)]
    pub keep_on_pbx_days: Option<u32>,
    /// Years a recording stays in the archive after the day of its call; then it is
    /// destroyed everywhere. None: kept for ever.
    #[serde(default)]
    pub keep_in_archive_years: Option<u32>,
    /// Other periods for some extensions or groups (an extension's rule wins over its
    /// group's); what a rule does not say is the default's.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RetentionRule>,
}

/// Other periods for one extension or one extension group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetentionRule {
    /// The extension's id.
    #[serde(default)]
    pub extension: Option<u64>,
    /// The extension group's id.
    #[serde(default)]
    pub group: Option<u64>,
    /// Days on the PBX, for these calls.
    #[serde(default)]
    pub keep_on_pbx_days: Option<u32>,
    /// Years in the archive, for these calls.
    #[serde(default)]
    pub keep_in_archive_years: Option<u32>,
}

/// Which calls one pass of the policy covers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selection {
    Extension(u64),
    /// A group, except its extensions that have rules of their own.
    Group(u64, Vec<u64>),
    /// Every call no rule covers.
    Rest(Vec<u64>, Vec<u64>),
}

impl Selection {
    fn conditions(&self) -> Conditions {
        let mut conditions = Conditions::default();
        match self {
            Selection::Extension(e) => conditions.on_extension(*e),
            Selection::Group(g, except) => {
                conditions.in_group(*g);
                conditions.not_on_extensions(except);
            }
            Selection::Rest(extensions, groups) => {
                conditions.not_on_extensions(extensions);
                conditions.not_in_groups(groups);
            }
        }
        conditions
    }

    fn label(&self) -> String {
        match self {
            Selection::Extension(e) => format!("extension {e}"),
            Selection::Group(g, _) => format!("group {g}"),
            Selection::Rest(..) => "default".to_owned(),
        }
    }
}

/// One pass of the policy: which calls, and where their periods end now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionPass {
    /// `default`, `extension N` or `group N`.
    pub label: String,
    /// Calls that started before this instant are purged from the PBX.
    pub pbx_cutoff: Option<DateTime<Utc>>,
    /// Days on the PBX.
    pub keep_on_pbx_days: Option<u32>,
    /// Calls that started before this instant are destroyed everywhere.
    pub archive_cutoff: Option<DateTime<Utc>>,
    /// Years in the archive.
    pub keep_in_archive_years: Option<u32>,
    selection: Selection,
}

impl RetentionPolicy {
    /// Refuses a policy that cannot be applied: an unknown time zone, a rule on neither or
    /// both of an extension and a group, two rules on the same one, a zero period, or an
    /// archive period shorter than the PBX's.
    pub fn check(&self) -> Result<(), BackupError> {
        let refused = |why: String| Err(BackupError::InvalidOption(format!("retention: {why}")));
        self.time_zone()?;
        let mut seen = std::collections::BTreeSet::new();
        for rule in &self.rules {
            match (rule.extension, rule.group) {
                (Some(_), Some(_)) | (None, None) => {
                    return refused(
                        "each rule names one extension or one group, not both".to_owned(),
                    );
                }
                _ => {}
            }
            if !seen.insert((rule.extension, rule.group)) {
                return refused(format!(
                    "two rules for the same {}",
                    Selection::of(rule).label()
                ));
            }
        }
        for (label, days, years) in std::iter::once((
            "the default".to_owned(),
            self.keep_on_pbx_days,
            self.keep_in_archive_years,
        ))
        .chain(self.rules.iter().map(|rule| {
            (
                Selection::of(rule).label(),
                rule.keep_on_pbx_days.or(self.keep_on_pbx_days),
                rule.keep_in_archive_years.or(self.keep_in_archive_years),
            )
        })) {
            if days == Some(0) || years == Some(0) {
                return refused(format!("{label}: a period of 0 would keep nothing"));
            }
            if let (Some(days), Some(years)) = (days, years)
                && u64::from(days) > u64::from(years) * 365
            {
                return refused(format!(
                    "{label}: {years} years in the archive end before {days} days on the PBX"
                ));
            }
        }
        Ok(())
    }

    fn time_zone(&self) -> Result<Tz, BackupError> {
        match &self.tz {
            None => Ok(Tz::UTC),
            Some(name) => name.parse().map_err(|_| {
                BackupError::InvalidOption(format!(
                    "retention: {name:?} is not a time zone (an IANA name such as Europe/Moscow)"
                ))
            }),
        }
    }

    /// The passes of the policy at `now`: one per rule, then the default, each with where
    /// its periods end.
    pub fn passes(&self, now: DateTime<Utc>) -> Result<Vec<RetentionPass>, BackupError> {
        self.check()?;
        let tz = self.time_zone()?;
        let today = now.with_timezone(&tz).date_naive();
        // The one rule for local days (a skipped midnight: the instant the clocks jumped).
        let midnight = |date: NaiveDate| telphin_records::Period::local_day_start(date, &tz);
        let extensions: Vec<u64> = self.rules.iter().filter_map(|r| r.extension).collect();
        let groups: Vec<u64> = self.rules.iter().filter_map(|r| r.group).collect();
        let mut passes = Vec::new();
        let mut push = |selection: Selection, days: Option<u32>, years: Option<u32>| {
            passes.push(RetentionPass {
                label: selection.label(),
                pbx_cutoff: days
                    .and_then(|d| today.checked_sub_days(Days::new(u64::from(d))))
                    .and_then(midnight),
                keep_on_pbx_days: days,
                archive_cutoff: years
                    .and_then(|y| today.checked_sub_months(Months::new(y.saturating_mul(12))))
                    .and_then(midnight),
                keep_in_archive_years: years,
                selection,
            });
        };
        let mut ordered: Vec<&RetentionRule> = self.rules.iter().collect();
        ordered.sort_by_key(|rule| rule.group.is_some());
        for rule in ordered {
            let selection = match (rule.extension, rule.group) {
                (Some(e), _) => Selection::Extension(e),
                (None, Some(g)) => Selection::Group(g, extensions.clone()),
                (None, None) => continue,
            };
            push(
                selection,
                rule.keep_on_pbx_days.or(self.keep_on_pbx_days),
                rule.keep_in_archive_years.or(self.keep_in_archive_years),
            );
        }
        push(
            Selection::Rest(extensions, groups),
            self.keep_on_pbx_days,
            self.keep_in_archive_years,
        );
        Ok(passes)
    }
}

impl Selection {
    fn of(rule: &RetentionRule) -> Selection {
        match (rule.extension, rule.group) {
            (Some(e), _) => Selection::Extension(e),
            (None, Some(g)) => Selection::Group(g, Vec::new()),
            (None, None) => Selection::Rest(Vec::new(), Vec::new()),
        }
    }
}

/// What one pass did (or, dry, would do).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PassReport {
    /// The pass.
    pub pass: RetentionPass,
    /// Its purge of the PBX.
    pub purge: Option<PurgeReport>,
    /// Records destroyed (or, dry, that would be) because their archive period ended.
    pub expired: u64,
    /// Records past a period but held.
    pub held: u64,
    /// Whether more records are past their archive period than one run destroys
    /// ([`EXPIRE_PER_RUN`]): the next run goes on.
    pub more: bool,
}

/// What applying the policy did (or, dry, would do).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetentionReport {
    /// Per pass.
    pub passes: Vec<PassReport>,
    /// The act of the records destroyed because their archive period ended (none if no
    /// record was).
    pub act: Option<DeletionAct>,
    /// Whether all the work was done.
    pub outcome: Outcome,
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Applies `policy` as of `now` (normally `Utc::now()`; another instant shows what the
    /// policy will do then): per pass, purges from the PBX (through `scope`'s `DELETE`) the
    /// verified records past their PBX period, then destroys everywhere the records past
    /// their archive period — tombstone, audit entry, act. Held records are left. A dry run
    /// counts from the catalog and changes nothing.
    pub async fn apply_retention(
        &self,
        policy: &RetentionPolicy,
        scope: Scope,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Result<RetentionReport, BackupError> {
        let passes = policy.passes(now)?;
        let mut reports = Vec::new();
        let reason = "the retention policy's archive period ended";
        let mut run = ActRun::new(
            Cause {
                action: AuditAction::Expire,
                reason: reason.to_owned(),
                operator: self.options.operator.clone(),
                number_hash: None,
            },
            scope,
            serde_json::to_value(policy).ok(),
            self.options.act_dir.clone(),
        );
        let result = self
            .retention_passes(passes, scope, dry_run, &mut run, &mut reports)
            .await;
        if dry_run {
            // A dry run counts from the catalog: no act.
            return Ok(RetentionReport {
                passes: reports,
                act: None,
                outcome: result?,
            });
        }
        let (outcome, act) = self
            .conclude(&run, result, |outcome| match outcome {
                Outcome::Paused { .. } => "paused",
                Outcome::Complete => "complete",
            })
            .await?;
        Ok(RetentionReport {
            passes: reports,
            act,
            outcome,
        })
    }

    /// The passes of one application: purge, then expiry, each pass in turn.
    async fn retention_passes(
        &self,
        passes: Vec<RetentionPass>,
        scope: Scope,
        dry_run: bool,
        run: &mut ActRun,
        reports: &mut Vec<PassReport>,
    ) -> Result<Outcome, BackupError> {
        let mut outcome = Outcome::Complete;
        for pass in passes {
            let selection = pass.selection.conditions();
            let mut report = PassReport {
                pass: pass.clone(),
                purge: None,
                expired: 0,
                held: 0,
                more: false,
            };
            if let (Some(cutoff), Some(days)) = (pass.pbx_cutoff, pass.keep_on_pbx_days) {
                let reason = format!("retention: {days} days on the PBX ({})", pass.label);
                let purge = self
                    .purge_selected(
                        ScopeFilter::All,
                        &selection,
                        cutoff,
                        scope,
                        PurgeOptions::default().dry_run(dry_run),
                        &reason,
                    )
                    .await?;
                if let Outcome::Paused { .. } = purge.outcome {
                    outcome = purge.outcome;
                }
                report.held += self
                    .catalog
                    .count_past(&selection, cutoff, Past::HeldOnPbx)?;
                report.purge = Some(purge);
            }
            if let (Some(cutoff), Some(years), Outcome::Complete) =
                (pass.archive_cutoff, pass.keep_in_archive_years, outcome)
            {
                report.held += self.catalog.count_past(&selection, cutoff, Past::Held)?;
                if dry_run {
                    report.expired = self.catalog.count_past(&selection, cutoff, Past::NotHeld)?;
                    reports.push(report);
                    continue;
                }
                // The act's reason is the policy's; each record's entry names its pass.
                let cause = Cause {
                    reason: format!("retention: {years} years in the archive ({})", pass.label),
                    ..run.header.cause.clone()
                };
                let mut conditions = selection.clone();
                conditions.started_before(cutoff);
                not_held(&mut conditions, Utc::now());
                let before = run.destroyed;
                let sweep = self
                    .sweep(
                        &conditions,
                        scope,
                        &cause,
                        &mut Journal::Act(run),
                        Some(EXPIRE_PER_RUN),
                    )
                    .await?;
                report.expired = run.destroyed - before;
                report.more = sweep.more;
                if let Outcome::Paused { .. } = sweep.outcome {
                    outcome = sweep.outcome;
                }
            }
            reports.push(report);
        }
        Ok(outcome)
    }
}
