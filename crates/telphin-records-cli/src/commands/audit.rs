//! `audit verify / export`: the hash-chained log of every destructive action.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use record_backup::{AuditCheck, check_target_audit};
use serde_json::json;

use crate::cli::{CatalogArgs, StoreArgs};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::{output, store, when};

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
    /// Print the entries of a period as JSON Lines, hashes included, for an inspector.
    #[command(after_help = "Example:\n  \
        telphin-records audit export --from 2026-01-01 --until 2026-07-01 --output audit-h1.jsonl")]
    Export(AuditExportArgs),
}

/// The arguments of `audit verify`.
#[derive(Debug, Clone, Args)]
pub struct AuditVerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
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
        AuditCommand::Verify(verify) => {
            let catalog = store::existing_catalog(&verify.store.catalog.file)?;
            let target = store::target(&verify.store)?;
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
            let catalog = store::existing_catalog(&export.catalog.file)?;
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
