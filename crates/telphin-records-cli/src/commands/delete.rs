//! `delete`: one recording from the PBX, for good — unless the catalog holds it under a legal
//! hold.

use clap::Args;
use telphin_records::chrono::Utc;

use crate::cli::CatalogArgs;
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
    /// A recording this catalog (if there is one) holds under a legal hold is not deleted.
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

pub async fn run(context: &Context, args: &DeleteArgs) -> Result<Exit, Failure> {
    let uuid = super::uuid(&args.uuid)?;
    if !args.yes {
        return Err(Failure::usage(format!(
            "this deletes {uuid} from the PBX for good: add --yes to do it"
        )));
    }
    let catalog_path = context.catalog(&args.catalog);
    if catalog_path.exists() {
        let catalog = record_backup::Catalog::open(&catalog_path)?;
        if let Some(hold) = catalog.holds_on(uuid.as_ref(), Utc::now())?.first() {
            return Err(Failure::failed(format!(
                "{uuid} is held (hold {}: {}); release the hold first",
                hold.id, hold.reason
            )));
        }
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
