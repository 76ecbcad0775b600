//! `telphin-bench`: one measurement per run, printed as one JSON line. `cargo xtask bench`
//! starts the simulator in its own process, runs these, interleaves the variants, and writes
//! the summary; see `xtask/src/bench.rs`.

use telphin_bench::{decode, net};

use std::process::ExitCode;

const USAGE: &str = "usage: telphin-bench <measure> [options]
  decode --variant record|plain|value --records N --repeat K
  list-stream --sim FILE [--order asc|desc]
  list-window --sim FILE --rounds R --calls N
  download --sim FILE --variant sdk-blocking|raw-ureq|sdk-async|raw-reqwest|sdk-async-file|raw-reqwest-file
  tokens --calls N
  instructions --sim FILE --measure list-window|download --variant V [--calls N] (under callgrind)
(the bulk backup is telphin-bench-backup --sim FILE --dir DIR [--concurrency 8] [--latency-ms 20])";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("decode") => decode::run(&args[1..]),
        Some("list-stream") => net::list_stream(&args[1..]),
        Some("list-window") => net::list_window(&args[1..]),
        Some("download") => net::download(&args[1..]),
        Some("tokens") => net::tokens(&args[1..]),
        Some("instructions") => net::instructions(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("telphin-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
