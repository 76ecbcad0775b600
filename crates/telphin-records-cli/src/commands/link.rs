//! `link`: a recording's permanent storage link.

use clap::Args;

use crate::context::Context;
use crate::exit::{Exit, Failure};

/// The arguments of `link`.
#[derive(Debug, Clone, Args)]
pub struct LinkArgs {
    /// The record's uuid.
    #[arg(value_name = "RECORD_UUID")]
    pub uuid: String,
}

pub async fn run(context: &Context, args: &LinkArgs) -> Result<Exit, Failure> {
    let uuid = super::uuid(&args.uuid)?;
    let scope = context.scope()?;
    let link = context
        .api()
        .await?
        .client
        .storage_link(scope, &uuid)
        .await?;
    // Printed because it was asked for; it never goes to the log.
    println!("{}", link.expose_url());
    Ok(Exit::Done)
}
