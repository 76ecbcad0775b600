//! `audit verify / export`: the hash-chained log of every destructive action.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use record_backup::{
    AuditCheck, AuditPublicKey, AuditSigningKey, Catalog, Checkpoint, SignedAuditCheck, Target,
    check_target_audit, check_target_audit_signed, target_checkpoints,
};
use serde_json::json;

use crate::cli::{CatalogArgs, StoreArgs};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::{keys, output, store, when};

/// The arguments of `audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: AuditCommand,
}

/// What `audit` does.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain of the catalog's log and of the target's copy; name the first
    /// entry that does not match.
    #[command(
        after_help = "Example:\n  telphin-records audit verify --to ./backup\n\n\
        Exit code 1 when an entry was edited, removed or moved."
    )]
    Verify(AuditVerifyArgs),
    /// Make the keys of the proof: the audit log's signing key (ed25519) and its public key,
    /// and/or the tombstones' number key. Keep the secret ones away from the catalog and its
    /// backups; give the public key to whoever checks the log.
    #[command(after_help = "Example:\n  \
        telphin-records audit keygen --signing-key /etc/telphin-records/audit.key \\\n      \
        --public-key audit.pub --erasure-key /etc/telphin-records/erasure-key\n  \
        export TELPHIN_AUDIT_SIGNING_KEY_FILE=/etc/telphin-records/audit.key\n  \
        export TELPHIN_ERASURE_KEY_FILE=/etc/telphin-records/erasure-key\n\n\
        An existing file is never replaced.")]
    Keygen(AuditKeygenArgs),
    /// Print the entries of a period as JSON Lines, hashes included, for an inspector.
    #[command(after_help = "Example:\n  \
        telphin-records audit export --from 2026-01-01 --until 2026-07-01 --output audit-h1.jsonl")]
    Export(AuditExportArgs),
}

/// The arguments of `audit verify`.
#[derive(Debug, Clone, Args)]
pub struct AuditVerifyArgs {
    /// Also prove, with this public key alone, that every entry is the one that was signed
    /// (entries' signatures and the signed checkpoints' tree hashes): an edit shows even
    /// when whoever made it recomputed every hash.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// More checkpoints to hold the log against: a checkpoint's JSON, or a deletion act's
    /// (which carries the checkpoint of its entries), kept apart from the archive.
    #[arg(long, value_name = "FILE", requires = "public_key")]
    pub checkpoint: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The arguments of `audit keygen`.
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("keys").required(true).multiple(true).args(["signing_key", "erasure_key"]))]
pub struct AuditKeygenArgs {
    /// Write a new signing key here (owner-only); needs --public-key.
    #[arg(long, value_name = "FILE", requires = "public_key")]
    pub signing_key: Option<PathBuf>,
    /// Write its public key here.
    #[arg(long, value_name = "FILE", requires = "signing_key")]
    pub public_key: Option<PathBuf>,
    /// Write a new key of the tombstones' number hash here (owner-only).
    #[arg(long, value_name = "FILE")]
    pub erasure_key: Option<PathBuf>,
}

/// The arguments of `audit export`.
#[derive(Debug, Clone, Args)]
pub struct AuditExportArgs {
    /// Entries written from this date or instant (in --tz).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Entries written before this date or instant (in --tz).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Write to this file (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

pub async fn run(context: &Context, args: &AuditArgs) -> Result<Exit, Failure> {
    match &args.action {
        AuditCommand::Keygen(keygen) => {
            if let (Some(secret), Some(public)) = (&keygen.signing_key, &keygen.public_key) {
                let key = AuditSigningKey::generate()?;
                keys::write_new_key(secret, &key.to_file_text())?;
                keys::write_new_key(public, &key.public_key().to_file_text())?;
                tracing::info!(
                    "signing key {} written to {} (secret: keep it off the catalog's disk and \
                     backups) and its public key to {}",
                    key.public_key().id(),
                    secret.display(),
                    public.display()
                );
            }
            if let Some(path) = &keygen.erasure_key {
                keys::write_new_key(path, &keys::new_erasure_key()?)?;
                tracing::info!(
                    "erasure key written to {} (secret: without it a tombstone's number hash \
                     cannot be checked; with it, an erased number can be matched)",
                    path.display()
                );
            }
            Ok(Exit::Done)
        }
        AuditCommand::Verify(verify) => {
            let store = context.store(&verify.store)?;
            let catalog = store::existing_catalog(&store.catalog)?;
            let target = store::target(&store)?;
            if let Some(public_key) = &verify.public_key {
                return verify_signed(context, verify, public_key, &catalog, &target).await;
            }
            let in_catalog = catalog.check_audit()?;
            let in_target = check_target_audit(&target).await?;
            let row = |place: &str, check: &AuditCheck| {
                let broken = check.broken.as_ref().map(ToString::to_string);
                vec![
                    (place.to_owned(), json!(place)),
                    (check.entries.to_string(), json!(check.entries)),
                    (
                        if check.holds() { "holds" } else { "BROKEN" }.to_owned(),
                        json!(check.holds()),
                    ),
                    (broken.clone().unwrap_or_default(), json!(broken)),
                ]
            };
            output::table_of(
                &["log", "entries", "chain", "first_break"],
                vec![row("catalog", &in_catalog), row("target", &in_target)],
            )
            .print(context.global.format)?;
            for (place, check) in [("catalog", &in_catalog), ("target", &in_target)] {
                if let Some(broken) = &check.broken {
                    tracing::error!("the {place}'s audit log does not hold at {broken}");
                }
            }
            if in_catalog.holds() && in_target.holds() && in_target.entries < in_catalog.entries {
                tracing::warn!(
                    "the target's copy lacks the last {} entries (written at the next run)",
                    in_catalog.entries - in_target.entries
                );
            }
            // The target's copy is the catalog's log up to where it was last copied: its last
            // entry must be the catalog's entry of that number, hash for hash.
            let agree = in_target.entries == 0
                || catalog.audit_hash(in_target.entries)?.as_deref()
                    == Some(in_target.last_hash.as_str());
            if !agree {
                tracing::error!(
                    "the target's copy differs from the catalog's log at entry {} or before",
                    in_target.entries
                );
            }
            Ok(if in_catalog.holds() && in_target.holds() && agree {
                Exit::Done
            } else {
                Exit::Failed
            })
        }
        AuditCommand::Export(export) => {
            let tz = context.global.tz;
            let from = export
                .from
                .as_deref()
                .map(|t| when::instant(t, tz))
                .transpose()?;
            let until = export
                .until
                .as_deref()
                .map(|t| when::instant(t, tz))
                .transpose()?;
            let catalog = store::existing_catalog(&context.catalog(&export.catalog))?;
            let mut out: Box<dyn std::io::Write> = match &export.output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|error| {
                        Failure::failed(format!("cannot write {}: {error}", path.display()))
                    })?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let count = catalog.export_audit(from, until, |line| writeln!(out, "{line}"))?;
            out.flush()
                .map_err(|error| Failure::failed(format!("cannot write the export: {error}")))?;
            tracing::info!("{count} audit entries exported");
            Ok(Exit::Done)
        }
    }
}

/// `audit verify --public-key`: both copies of the log against every checkpoint the key
/// signed — the catalog's, the target's, and those given.
async fn verify_signed(
    context: &Context,
    verify: &AuditVerifyArgs,
    public_key: &std::path::Path,
    catalog: &Catalog,
    target: &Target,
) -> Result<Exit, Failure> {
    let key = AuditPublicKey::read(public_key)?;
    let mut checkpoints = catalog.checkpoints()?;
    checkpoints.extend(target_checkpoints(target).await?);
    for path in &verify.checkpoint {
        checkpoints.push(read_checkpoint(path)?);
    }
    let in_catalog = catalog.check_audit_signed(key, checkpoints.clone())?;
    let in_target = check_target_audit_signed(target, key, checkpoints).await?;
    let row = |place: &str, check: &SignedAuditCheck| {
        let broken = check.broken.as_ref().map(ToString::to_string);
        let covered = check.last_checkpoint.as_ref().map(|c| c.size);
        vec![
            (place.to_owned(), json!(place)),
            (check.entries.to_string(), json!(check.entries)),
            (
                check.signed_entries.to_string(),
                json!(check.signed_entries),
            ),
            (
                covered
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".to_owned()),
                json!(covered),
            ),
            (
                if check.holds() { "holds" } else { "BROKEN" }.to_owned(),
                json!(check.holds()),
            ),
            (broken.clone().unwrap_or_default(), json!(broken)),
        ]
    };
    output::table_of(
        &[
            "log",
            "entries",
            "signed",
            "checkpoint",
            "proof",
            "first_break",
        ],
        vec![row("catalog", &in_catalog), row("target", &in_target)],
    )
    .print(context.global.format)?;
    for (place, check) in [("catalog", &in_catalog), ("target", &in_target)] {
        for ignored in &check.ignored_checkpoints {
            tracing::warn!("{place}: {ignored}: ignored");
        }
        if let Some(broken) = &check.broken {
            tracing::error!("the {place}'s audit log is not what was signed, at {broken}");
        }
        if check.holds() && check.last_checkpoint.is_none() && check.entries > 0 {
            tracing::warn!(
                "the {place}'s audit log has no checkpoint signed by key {}: nothing proven",
                key.id()
            );
        }
    }
    Ok(if in_catalog.holds() && in_target.holds() {
        Exit::Done
    } else {
        Exit::Failed
    })
}

/// A checkpoint from its JSON, or from a deletion act's.
fn read_checkpoint(path: &std::path::Path) -> Result<Checkpoint, Failure> {
    let failed =
        |reason: String| Failure::usage(format!("--checkpoint {}: {reason}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| failed(error.to_string()))?;
    let value = match value.get("checkpoint") {
        Some(inner) if !inner.is_null() => inner.clone(),
        Some(_) => {
            return Err(failed(
                "the act carries no checkpoint (its log was not signed)".to_owned(),
            ));
        }
        None => value,
    };
    serde_json::from_value(value).map_err(|error| failed(format!("not a checkpoint: {error}")))
}
