//! `delete`: one recording from the PBX, for good.

use clap::Args;

use crate::context::Context;
use crate::exit::{Exit, Failure};

/// The arguments of `delete`.
#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// The record's uuid.
    #[arg(value_name = "RECORD_UUID")]
    pub uuid: String,
    /// Really delete.
    #[arg(long)]
    pub yes: bool,
}

pub async fn run(context: &Context, args: &DeleteArgs) -> Result<Exit, Failure> {
    let uuid = super::uuid(&args.uuid)?;
    if !args.yes {
        return Err(Failure::usage(format!(
            "this deletes {uuid} from the PBX for good: add --yes to do it"
        )));
    }
    let scope = context.scope()?;
    let deletion = context
        .api()
        .await?
        .client
        .delete_record(scope, &uuid)
        .await?;
    tracing::info!(record_uuid = %uuid, ?deletion, "deleted");
    Ok(Exit::Done)
}
