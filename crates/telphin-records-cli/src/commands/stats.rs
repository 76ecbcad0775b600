//! `stats`: how many recordings a period has, and their size.

use clap::Args;

use crate::cli::PeriodArgs;
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::{self, bytes_figure, count_figure};
use crate::when;

/// The arguments of `stats`.
#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
}

pub async fn run(context: &Context, args: &StatsArgs) -> Result<Exit, Failure> {
    let period = when::required(&args.period, context.global.tz)?;
    let scope = context.scope()?;
    let stats = context.api().await?.client.stats(scope, period).await?;
    output::figures(vec![
        count_figure("recordings", stats.count),
        bytes_figure("size", stats.size),
    ])
    .print(context.global.format)?;
    Ok(Exit::Done)
}
