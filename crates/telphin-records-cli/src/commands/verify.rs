//! `verify`: read kept files back and compare them with the catalog.

use std::sync::Arc;

use clap::Args;
use record_backup::ArchiveOptions;

use crate::cli::{PeriodArgs, StoreArgs};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::{self, bytes_figure, count_figure};
use crate::progress::{Reporter, Work};
use crate::{store, when};

/// The arguments of `verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(context: &Context, args: &VerifyArgs) -> Result<Exit, Failure> {
    let period = when::period(&args.period, context.global.tz)?;
    let scope = context.scope()?;
    let store = context.store(&args.store)?;
    let lock = store::lock(&store.catalog)?;
    let api = context.api_without_requests().await?;
    let reporter = Reporter::new(Work::Files, "verify");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default().on_progress(move |event| events.event(event));
    let (archive, _lock) = store::archive(&api, &store, &context.settings, options, lock).await?;
    // Verify reads the catalog page by page; a missing or altered object is reported as it is
    // found (above the bar, or in the log).
    let report = archive.verify(scope, period).await?;
    reporter.finish();
    output::figures(vec![
        count_figure("checked", report.checked),
        count_figure("whole", report.whole),
        count_figure("missing", report.missing),
        count_figure("altered", report.altered),
        bytes_figure("bytes", report.bytes),
    ])
    .print(context.global.format)?;
    Ok(if report.all_whole() {
        Exit::Done
    } else {
        Exit::SomeFailed
    })
}
