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

/// The arguments of `manpage`.
#[derive(Debug, Clone, Args)]
pub struct ManpageArgs {
    /// Write every page into this folder — telphin-records.1 and one per subcommand
    /// (telphin-records-backup.1, telphin-records-hold-add.1, …) — instead of printing the
    /// top page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// Prints the top man page (roff) on stdout, or writes every page into `--dir`.
pub fn manpage(args: &ManpageArgs) -> Result<Exit, Failure> {
    if let Some(dir) = &args.dir {
        clap_mangen::generate_to(Cli::command(), dir).map_err(|error| {
            Failure::failed(format!(
                "cannot write the man pages into {}: {error}",
                dir.display()
            ))
        })?;
        return Ok(Exit::Done);
    }
    // As generate_to renders it: no `help` subcommand, whose page it does not write.
    let page = clap_mangen::Man::new(Cli::command().disable_help_subcommand(true));
    let mut out = Vec::new();
    page.render(&mut out)
        .map_err(|error| Failure::failed(format!("cannot render the man page: {error}")))?;
    use std::io::Write as _;
    std::io::stdout()
        .write_all(&out)
        .map_err(|error| Failure::failed(format!("cannot write the man page: {error}")))?;
    Ok(Exit::Done)
}
