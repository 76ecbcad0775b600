//! `download`: recordings by their uuid, into a directory, verified and never partial.

use std::path::PathBuf;

use clap::Args;
use telphin_records::{DownloadOptions, DownloadSource};

use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output;
use crate::progress::{Reporter, Work};

/// The arguments of `download`.
#[derive(Debug, Clone, Args)]
pub struct DownloadArgs {
    /// The records' uuids.
    #[arg(required = true, value_name = "RECORD_UUID")]
    pub uuids: Vec<String>,
    /// The directory (created if missing); files are named RECORD_UUID.mp3.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub to: PathBuf,
}

pub async fn run(context: &Context, args: &DownloadArgs) -> Result<Exit, Failure> {
    let uuids = args
        .uuids
        .iter()
        .map(|u| super::uuid(u))
        .collect::<Result<Vec<_>, _>>()?;
    let dir = &args.to;
    let scope = context.scope()?;
    std::fs::create_dir_all(dir)
        .map_err(|error| Failure::failed(format!("cannot create {}: {error}", dir.display())))?;
    let api = context.api().await?;
    let reporter = Reporter::new(Work::Files, "download");
    reporter.plan(uuids.len() as u64, 0);
    let mut failed = 0;
    for uuid in &uuids {
        let path = dir.join(format!("{uuid}.mp3"));
        let options = DownloadOptions::from_source(DownloadSource::Api);
        match api
            .client
            .download_to_path(scope, uuid, &path, options)
            .await
        {
            Ok(report) => {
                reporter.file_done();
                reporter.line(&format!(
                    "{} ({})",
                    path.display(),
                    output::size(report.bytes)
                ));
            }
            Err(error) => {
                let failure = Failure::from(error);
                if failure.exit == Exit::Auth {
                    return Err(failure);
                }
                failed += 1;
                reporter.file_done();
                reporter.line(&format!("{uuid}: {}", failure.message));
            }
        }
    }
    reporter.finish();
    Ok(if failed > 0 {
        Exit::SomeFailed
    } else {
        Exit::Done
    })
}
