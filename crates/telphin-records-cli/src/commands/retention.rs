//! `retention`: what the retention policy of the service's configuration would do now — purge
//! from the PBX, destroy in the archive — and, with --yes, doing it.

use std::path::PathBuf;

use clap::Args;
use record_backup::{ArchiveOptions, Outcome, RetentionReport};
use record_service::ServiceConfig;
use serde_json::json;
use telphin_records::chrono::Utc;

use crate::cli::StoreArgs;
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::{keys, output, store};

/// The arguments of `retention`.
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// A TOML configuration whose `[pbx.retention]` is the policy (default: --config's
    /// profile, with its target and catalog).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Really purge and destroy.
    #[arg(long)]
    pub yes: bool,
    /// A folder for a copy of the deletion act of destroyed records (JSON and CSV); it is kept
    /// in the catalog and the target's _acts/ either way.
    #[arg(long, value_name = "DIR")]
    pub act_dir: Option<PathBuf>,
    /// Who acts (default: TELPHIN_OPERATOR, else the login name).
    #[arg(long)]
    pub operator: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(context: &Context, args: &RetentionArgs) -> Result<Exit, Failure> {
    let loaded;
    let pbx = match &args.policy {
        Some(path) => {
            loaded = ServiceConfig::load(path).map_err(|e| Failure::usage(e.to_string()))?;
            loaded
                .profile(context.global.pbx.as_deref())
                .map_err(|e| Failure::usage(e.to_string()))?
        }
        None => context.settings.profile().ok_or_else(|| {
            Failure::usage(
                "retention applies the policy of a [[pbx]] profile: give --config FILE.toml \
                 (and --pbx NAME), or --policy FILE.toml",
            )
        })?,
    };
    let policy = pbx.retention.clone().ok_or_else(|| {
        Failure::usage(format!(
            "[[pbx]] {:?} has no [pbx.retention] policy",
            pbx.name
        ))
    })?;
    policy.check()?;
    let scope = context.scope()?;
    let operator = context.operator(args.operator.as_deref());
    let store = context.store(&args.store)?;
    let lock = store::lock(&store.catalog)?;
    store::existing_catalog(&store.catalog)?;
    let api = if args.yes {
        context.api().await?
    } else {
        context.api_without_requests().await?
    };
    let mut options = ArchiveOptions::default().operator(&operator);
    if let Some(dir) = &args.act_dir {
        options = options.act_dir(dir);
    }
    let (archive, _lock) = store::archive(&api, &store, &context.settings, options, lock).await?;
    if args.yes {
        keys::warn_unsigned(archive.catalog().signs_audit());
    }
    let report = archive
        .apply_retention(&policy, scope, !args.yes, Utc::now())
        .await?;
    print(context, &report)?;
    if let Some(act) = &report.act {
        // Written by the archive, to _acts/ and --act-dir, as it closed the act.
        tracing::info!(
            "deletion act: {}",
            super::erase::act_place(args.act_dir.as_deref(), act, args.yes)
        );
    }
    if !args.yes {
        tracing::info!("dry run: nothing was deleted; add --yes to apply the policy");
    }
    if report.passes.iter().any(|p| p.more) {
        tracing::info!("more records are past their archive period: run retention again");
    }
    Ok(match report.outcome {
        Outcome::Paused { .. } => Exit::Budget,
        _ if report
            .act
            .as_ref()
            .is_some_and(|a| !a.not_destroyed.is_empty()) =>
        {
            Exit::SomeFailed
        }
        _ => Exit::Done,
    })
}

fn print(context: &Context, report: &RetentionReport) -> Result<(), Failure> {
    let tz = context.global.tz;
    let when = |at: Option<telphin_records::chrono::DateTime<Utc>>| match at {
        Some(at) => (
            at.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            json!(at.to_rfc3339()),
        ),
        None => ("never".to_owned(), serde_json::Value::Null),
    };
    let rows = report
        .passes
        .iter()
        .map(|pass| {
            let purged = pass
                .purge
                .as_ref()
                .map_or(0, |p| p.deleted + p.already_gone + p.would_delete);
            vec![
                (pass.pass.label.clone(), json!(pass.pass.label)),
                when(pass.pass.pbx_cutoff),
                (purged.to_string(), json!(purged)),
                when(pass.pass.archive_cutoff),
                (pass.expired.to_string(), json!(pass.expired)),
                (pass.held.to_string(), json!(pass.held)),
            ]
        })
        .collect();
    output::table_of(
        &[
            "calls",
            "pbx_before",
            "purged",
            "archive_before",
            "destroyed",
            "held",
        ],
        rows,
    )
    .print(context.global.format)
}
