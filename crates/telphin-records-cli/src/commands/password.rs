//! `hash-password`: the argon2id hash of a web account's password, for `[[web.user]]`.

use std::io::{BufRead as _, IsTerminal as _};

use clap::Args;

use crate::exit::{Exit, Failure};

/// The shortest password taken.
const SHORTEST: usize = 10;

/// The arguments of `hash-password` (none: the password is read, never an argument).
#[derive(Debug, Clone, Args)]
pub struct HashPasswordArgs {}

/// Reads the password (asked twice without echo on a terminal, else the first line of
/// standard input) and prints its hash.
pub fn run(_args: &HashPasswordArgs) -> Result<Exit, Failure> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")
            .map_err(|error| Failure::failed(format!("cannot read the password: {error}")))?;
        let again = rpassword::prompt_password("Again: ")
            .map_err(|error| Failure::failed(format!("cannot read the password: {error}")))?;
        if first != again {
            return Err(Failure::usage(
                "the two passwords differ; nothing was hashed",
            ));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| Failure::failed(format!("cannot read the password: {error}")))?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.chars().count() < SHORTEST {
        return Err(Failure::usage(format!(
            "a password of at least {SHORTEST} characters, please; nothing was hashed"
        )));
    }
    let hash = record_service::hash_password(&password).map_err(Failure::failed)?;
    println!("{hash}");
    Ok(Exit::Done)
}
