//! `search`: the catalog's recordings by period, number, extension, flow, result, duration
//! and state, printed page by page as the catalog's indexes give them.

use clap::Args;
use record_backup::{CatalogEntry, Search, SearchQuery, Status};
use serde_json::json;

use crate::cli::{CatalogArgs, PeriodArgs};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::RecordWriter;
use crate::{store, when};

/// The arguments of `search`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// A phone number in any number field, compared by digits (4+ digits: also a suffix).
    #[arg(long)]
    pub number: Option<String>,
    /// in, out, transfer, ...
    #[arg(long)]
    pub flow: Option<String>,
    /// answered, busy, "not answered", ...
    #[arg(long)]
    pub result: Option<String>,
    /// At least this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub min_duration: Option<u64>,
    /// Only records in this backup state: pending, failed, kept, verified (what purge may
    /// delete), off-pbx (kept, deleted from the PBX), lost (off the PBX, its file missing).
    #[arg(long, value_name = "STATE")]
    pub state: Option<Status>,
    /// Newest first.
    #[arg(long)]
    pub desc: bool,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
}

impl SearchArgs {
    /// The query the arguments describe (checked before the catalog is opened).
    fn query(&self, context: &Context) -> Result<SearchQuery, Failure> {
        let mut query = SearchQuery::default();
        if let Some(period) = when::period(&self.period, context.global.tz)? {
            query = query.period(period);
        }
        if context.narrowed() {
            query = query.scope(context.scope()?);
        }
        query.number = self.number.clone();
        query.flow = self.flow.clone();
        query.result = self.result.clone();
        query.min_duration = self.min_duration;
        query.status = self.state;
        query.newest_first = self.desc;
        query.limit = self.limit;
        Ok(query)
    }
}

pub fn run(context: &Context, args: &SearchArgs) -> Result<Exit, Failure> {
    let query = args.query(context)?;
    let catalog = store::existing_catalog(&context.catalog(&args.catalog))?;
    print(context, catalog.search(&query)?)?;
    Ok(Exit::Done)
}

/// Prints the entries of `search` page by page with their backup state; how many it printed.
pub fn print(context: &Context, search: Search<'_>) -> Result<u64, Failure> {
    let mut out = RecordWriter::new(
        context.global.format,
        context.global.tz,
        &["state", "object_key"],
    );
    let mut printed = 0;
    for page in search {
        for entry in page? {
            if !out.write(&entry.record, extra(&entry))? {
                return Ok(printed);
            }
            printed += 1;
        }
    }
    out.finish()?;
    Ok(printed)
}

/// The state columns of an entry.
fn extra(entry: &CatalogEntry) -> Vec<(String, serde_json::Value)> {
    let state = &entry.state;
    let status = state.status().as_str();
    vec![
        (status.to_owned(), json!(status)),
        (
            state.object_key.clone().unwrap_or_default(),
            json!(state.object_key),
        ),
    ]
}
