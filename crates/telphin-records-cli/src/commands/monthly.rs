//! `monthly`: the storage used per month, as the PBX counts it.

use clap::Args;
use serde_json::json;
use telphin_records::{MonthlyStatsEnd, YearMonth};

use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output;

/// The arguments of `monthly`.
#[derive(Debug, Clone, Args)]
pub struct MonthlyArgs {
    /// Only months up to this one (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM")]
    pub until: Option<String>,
}

pub async fn run(context: &Context, args: &MonthlyArgs) -> Result<Exit, Failure> {
    let end = args
        .until
        .as_deref()
        .map(|month| {
            month
                .parse::<YearMonth>()
                .map(MonthlyStatsEnd::Month)
                .map_err(|_| Failure::usage(format!("--until {month}: write it as YYYY-MM")))
        })
        .transpose()?;
    let client_id = context.client_id()?;
    let months = context
        .api()
        .await?
        .client
        .monthly_stats(client_id, end)
        .await?;
    let rows = months
        .iter()
        .map(|month| {
            vec![
                (
                    month.year_month.to_string(),
                    json!(month.year_month.to_string()),
                ),
                (
                    month.call_records_count.to_string(),
                    json!(month.call_records_count),
                ),
                (
                    output::size(month.call_records_size),
                    json!(month.call_records_size),
                ),
            ]
        })
        .collect();
    output::table_of(&["month", "recordings", "size"], rows).print(context.global.format)?;
    Ok(Exit::Done)
}
