//! `completions` and `manpage`: shell completions and the man page, generated from the
//! command line's own definition.

use clap::{Args, CommandFactory as _};

use crate::cli::Cli;
use crate::exit::{Exit, Failure};

/// The arguments of `completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completions script of a shell on stdout.
pub fn run(args: &CompletionsArgs) -> Result<Exit, Failure> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "telphin-records",
        &mut std::io::stdout(),
    );
    Ok(Exit::Done)
}

/// Prints the man page (roff) on stdout.
pub fn manpage() -> Result<Exit, Failure> {
    let page = clap_mangen::Man::new(Cli::command());
    let mut out = Vec::new();
    page.render(&mut out)
        .map_err(|error| Failure::failed(format!("cannot render the man page: {error}")))?;
    use std::io::Write as _;
    std::io::stdout()
        .write_all(&out)
        .map_err(|error| Failure::failed(format!("cannot write the man page: {error}")))?;
    Ok(Exit::Done)
}
