//! One module per command: its arguments (`…Args`, parsed by clap) and its handler
//! `run(&Context, &Args)`.

pub mod archive;
pub mod audit;
pub mod backup;
pub mod completions;
pub mod delete;
pub mod download;
pub mod erase;
pub mod hold;
pub mod link;
pub mod list;
pub mod monthly;
pub mod password;
pub mod purge;
pub mod retention;
pub mod search;
pub mod serve;
pub mod sim;
pub mod stats;
pub mod verify;

use telphin_records::RecordUuid;

use crate::exit::Failure;

/// A record uuid given on the command line.
fn uuid(text: &str) -> Result<RecordUuid, Failure> {
    RecordUuid::new(text).map_err(|error| Failure::usage(format!("{text:?}: {error}")))
}
