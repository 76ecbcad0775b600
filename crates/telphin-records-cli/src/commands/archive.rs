//! `archive`: have the PBX e-mail an archive of a period's files.

use clap::Args;
use serde_json::json;
use telphin_records::{ArchiveId, ArchiveRequest};

use crate::cli::PeriodArgs;
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output;
use crate::when;

/// The arguments of `archive`.
#[derive(Debug, Clone, Args)]
pub struct ArchiveArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Where to send it (repeat for several addresses).
    #[arg(long, required = true, value_name = "ADDRESS")]
    pub email: Vec<String>,
}

pub async fn run(context: &Context, args: &ArchiveArgs) -> Result<Exit, Failure> {
    let period = when::required(&args.period, context.global.tz)?;
    let window = period.query_range().as_window().map_err(|error| {
        Failure::usage(format!(
            "an archive covers one request window at most (up to the end of the next month): {error}"
        ))
    })?;
    let request = ArchiveRequest::new(window, &args.email)?;
    let client_id = context.client_id()?;
    let receipt = context
        .api()
        .await?
        .client
        .request_archive(client_id, &request)
        .await?;
    let id = match &receipt.id {
        Some(ArchiveId::Number(n)) => n.to_string(),
        Some(ArchiveId::Text(text)) => text.clone(),
        _ => String::new(),
    };
    output::figures(vec![
        ("archive", id, json!(receipt.id)),
        ("email", args.email.join(", "), json!(args.email)),
    ])
    .print(context.global.format)?;
    Ok(Exit::Done)
}
