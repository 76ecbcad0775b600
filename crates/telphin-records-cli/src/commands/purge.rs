//! `purge`: delete from the PBX the verified recordings older than a cutoff (a dry run lists
//! them, page by page, from the catalog).

use std::sync::Arc;

use clap::Args;
use record_backup::{ArchiveOptions, Outcome, PurgeOptions, SearchQuery};
use telphin_records::chrono::Utc;

use crate::cli::StoreArgs;
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::{self, count_figure};
use crate::progress::{Reporter, Work};
use crate::{keys, store, when};

/// The arguments of `purge`.
#[derive(Debug, Clone, Args)]
pub struct PurgeArgs {
    /// The cutoff: an age (180d, 12w, 36h) or a date in --tz.
    #[arg(long, value_name = "AGE|DATE")]
    pub older_than: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Really delete.
    #[arg(long)]
    pub yes: bool,
    /// Delete at most this many.
    #[arg(long, value_name = "N")]
    pub max: Option<u64>,
}

pub async fn run(context: &Context, args: &PurgeArgs) -> Result<Exit, Failure> {
    let cutoff = when::cutoff(&args.older_than, context.global.tz, Utc::now())?;
    let scope = context.scope()?;
    let store = context.store(&args.store)?;
    let lock = store::lock(&store.catalog)?;
    let when = cutoff
        .with_timezone(&context.global.tz)
        .format("%Y-%m-%d %H:%M:%S %Z");
    if !args.yes {
        // What would go, straight from the catalog's pages: nothing is asked of the PBX.
        let catalog = store::existing_catalog(&store.catalog)?;
        let mut query = SearchQuery::purgeable(cutoff).scope(scope);
        if let Some(max) = args.max {
            query = query.limit(usize::try_from(max).unwrap_or(usize::MAX));
        }
        let listed = super::search::print(context, catalog.search(&query)?)?;
        tracing::info!(
            "would delete (dry run; add --yes): {listed} recordings started before {when}"
        );
        return Ok(Exit::Done);
    }
    let api = context.api().await?;
    let reporter = Reporter::new(Work::Files, "purge");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default()
        .operator(context.operator(None))
        .on_progress(move |event| events.event(event));
    let (archive, _lock) = store::archive(&api, &store, &context.settings, options, lock).await?;
    keys::warn_unsigned(archive.catalog().signs_audit());
    let mut purge = PurgeOptions::default();
    if let Some(max) = args.max {
        purge = purge.max_deletions(max);
    }
    let report = archive.purge(cutoff, scope, purge).await?;
    reporter.finish();
    output::figures(vec![
        count_figure("deleted", report.deleted),
        count_figure("already_gone", report.already_gone),
        count_figure("kept_on_pbx", report.not_kept),
    ])
    .print(context.global.format)?;
    reporter.line(&format!(
        "deleted: {} recordings started before {when}{}",
        report.deleted + report.already_gone,
        if report.not_kept > 0 {
            format!(
                "; {} kept on the PBX: their files were missing or changed",
                report.not_kept
            )
        } else {
            String::new()
        }
    ));
    Ok(match report.outcome {
        Outcome::Paused { .. } => Exit::Budget,
        _ if report.not_kept > 0 => Exit::SomeFailed,
        _ => Exit::Done,
    })
}
