//! `list`: the recordings of a period, printed as they arrive.

use clap::Args;
use futures_util::StreamExt as _;
use telphin_records::{ListOptions, Order};

use crate::cli::PeriodArgs;
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::RecordWriter;
use crate::when;

/// When no record came for this long, the records held (a table's first page, the output
/// buffer) are printed.
const IDLE: std::time::Duration = std::time::Duration::from_millis(500);

/// The arguments of `list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Newest first.
    #[arg(long)]
    pub desc: bool,
}

pub async fn run(context: &Context, args: &ListArgs) -> Result<Exit, Failure> {
    let period = when::required(&args.period, context.global.tz)?;
    let order = if args.desc { Order::Desc } else { Order::Asc };
    let scope = context.scope()?;
    let api = context.api().await?;
    let mut out = RecordWriter::new(context.global.format, context.global.tz, &[]);
    let mut records = std::pin::pin!(api.client.records(scope, period, ListOptions::new(order)));
    loop {
        // While the next window is slow to answer, what arrived so far is shown.
        let next = match tokio::time::timeout(IDLE, records.next()).await {
            Ok(next) => next,
            Err(_) => {
                if out.idle()? {
                    continue;
                }
                return Ok(Exit::Done);
            }
        };
        let Some(record) = next else { break };
        if !out.write(&record?, Vec::new())? {
            // The reader left (`| head`): nothing more to print.
            return Ok(Exit::Done);
        }
    }
    out.finish()?;
    Ok(Exit::Done)
}
