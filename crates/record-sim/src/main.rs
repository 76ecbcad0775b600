//! `record-sim`: serves the simulator until killed, after printing one JSON line with its base
//! URL and credentials.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use record_sim::{LiveConfig, Sim, SimConfig};

const USAGE: &str = "usage: record-sim [--addr 127.0.0.1:8080] [--seed N] [--records N]
  [--token-lifetime SECS] [--rate-limit N] [--rate-period SECS] [--stats-latency-ms MS]
  [--latency-ms MS] [--error-percent P] [--drop-percent P] [--truncate-percent P]
  [--burst-429-every N] [--burst-429-length N] [--expire-tokens-every N] [--huge-file-bytes N]
  [--max-file-bytes N] [--list-cap N]
  live mode: [--calls-per-second R] [--call-length-secs S] [--callback http://HOST:PORT/PATH]";

fn parse_args() -> Result<(SocketAddr, SimConfig), String> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 8080).into();
    let mut config = SimConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || -> Result<u64, String> {
            value
                .parse()
                .map_err(|_| format!("{flag}: {value:?} is not a number"))
        };
        let percent = || -> Result<u8, String> {
            value
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| format!("{flag}: {value:?} is not a percentage 0-100"))
        };
        let live = || LiveConfig::default();
        let faults = &mut config.faults;
        match flag.as_str() {
            "--addr" => {
                addr = value
                    .parse()
                    .map_err(|_| format!("--addr: {value:?} is not IP:PORT"))?
            }
            "--seed" => config.seed = number()?,
            "--records" => config.record_count = number()? as usize,
            "--token-lifetime" => config.token_lifetime = Duration::from_secs(number()?),
            "--rate-limit" => config.rate_limit = number()?,
            "--rate-period" => config.rate_limit_period = Duration::from_secs(number()?),
            "--stats-latency-ms" => config.stats_latency = Duration::from_millis(number()?),
            "--latency-ms" => faults.latency = Duration::from_millis(number()?),
            "--error-percent" => faults.server_error_percent = percent()?,
            "--drop-percent" => faults.drop_percent = percent()?,
            "--truncate-percent" => faults.truncate_percent = percent()?,
            "--burst-429-every" => faults.burst_429_every = Some(number()?),
            "--burst-429-length" => faults.burst_429_length = number()?,
            "--expire-tokens-every" => faults.expire_tokens_every = Some(number()?),
            "--huge-file-bytes" => config.huge_file_size = Some(number()?),
            "--max-file-bytes" => config.max_file_size = Some(number()?),
            "--list-cap" => faults.list_cap = Some(number()? as usize),
            "--calls-per-second" => {
                let rate: f64 = value
                    .parse()
                    .ok()
                    .filter(|r: &f64| *r > 0.0 && *r <= 1000.0)
                    .ok_or_else(|| format!("{flag}: {value:?} is not a rate in (0, 1000]"))?;
                config.live.get_or_insert_with(live).calls_per_second = rate;
            }
            "--call-length-secs" => {
                config.live.get_or_insert_with(live).call_length = Duration::from_secs(number()?)
            }
            "--callback" => {
                if !value.starts_with("http://") {
                    return Err(format!("{flag}: {value:?} is not an http:// URL"));
                }
                config.live.get_or_insert_with(live).callback_url = Some(value.clone());
            }
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Ok((addr, config))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let (addr, config) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let sim = match Sim::start_on(addr, config).await {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("record-sim: cannot listen on {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", sim.announcement());
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
