//! Commands over `record-backup`: backup, verify, purge, search; one run per catalog at once.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use record_backup::{
    Archive, ArchiveOptions, Catalog, CatalogEntry, NameTemplate, Naming, Outcome, PurgeOptions,
    RateBudget, Reserve, SearchQuery, Target, WhenReserveReached,
};
use serde_json::json;
use telphin_records::chrono::Utc;
use telphin_records::layers::transport_async::ReqwestTransport;

use crate::cli::{Cli, PeriodArgs, StoreArgs};
use crate::exit::{Exit, Failure};
use crate::output::{self, bytes_figure, count_figure};
use crate::progress::{Reporter, Work};
use crate::settings::{self, Api, Settings};
use crate::when;

/// Holds `<catalog>.lock` for the run: a second run on the same catalog stops at once.
fn lock(catalog: &Path) -> Result<File, Failure> {
    let mut name = catalog.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|error| Failure::failed(format!("cannot open {}: {error}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::failed(format!(
            "another run holds {} (its lock is {}); try again when it has finished",
            catalog.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(error)) => Err(Failure::failed(format!(
            "cannot lock {}: {error}",
            path.display()
        ))),
    }
}

fn target(store: &StoreArgs) -> Result<Target, Failure> {
    Ok(Target::from_url(
        &store.to,
        std::iter::empty::<(&str, &str)>(),
    )?)
}

fn archive(
    api: &Api,
    store: &StoreArgs,
    options: ArchiveOptions,
) -> Result<Archive<ReqwestTransport>, Failure> {
    Ok(Archive::new(
        api.client.clone(),
        target(store)?,
        Catalog::open(&store.catalog)?,
        options,
    ))
}

fn reserve(text: &str) -> Result<Reserve, Failure> {
    let wrong = || {
        Failure::usage(format!(
            "--reserve {text}: a number of requests, or a percentage such as 20%"
        ))
    };
    match text.strip_suffix('%') {
        Some(percent) => percent
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= 100)
            .map(Reserve::Percent)
            .ok_or_else(wrong),
        None => text.parse().map(Reserve::Requests).map_err(|_| wrong()),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn backup(
    cli: &Cli,
    api: &Api,
    settings: &Settings,
    period: &PeriodArgs,
    store: &StoreArgs,
    concurrency: usize,
    names: &str,
    hash_numbers: bool,
    reserve_text: &str,
    wait: bool,
) -> Result<Exit, Failure> {
    let period = when::required(period, cli.tz)?;
    let mut naming = Naming::new(NameTemplate::parse(names)?, cli.tz);
    if hash_numbers {
        let key = settings.get("TELPHIN_NAME_KEY").ok_or_else(|| {
            Failure::usage(
                "--hash-numbers needs the key in TELPHIN_NAME_KEY (environment or --config)",
            )
        })?;
        naming = naming.hash_numbers(key.as_bytes().to_vec());
    }
    let when_reached = if wait {
        WhenReserveReached::Wait
    } else {
        WhenReserveReached::Stop
    };
    let _lock = lock(&store.catalog)?;
    let reporter = Reporter::new(Work::Bytes, "backup");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default()
        .naming(naming)
        .concurrency(concurrency)
        .budget(RateBudget::new(reserve(reserve_text)?, when_reached))
        .on_progress(move |event| events.event(event));
    let archive = archive(api, store, options)?;
    let report = archive.backup(settings::scope(cli)?, period).await?;
    reporter.finish();
    let mut figures = vec![
        count_figure("listed", report.listed),
        count_figure("stored", report.stored),
        count_figure("already_kept", report.already_kept),
        count_figure("failed", report.failed),
        bytes_figure("bytes", report.bytes),
    ];
    let exit = match report.outcome {
        Outcome::Paused { resume_after } => {
            let minutes = resume_after.as_secs().div_ceil(60);
            tracing::warn!(
                "the rate-limit budget is spent: run the same command again in {minutes} min to resume"
            );
            figures.push((
                "resume_after_s",
                format!("{} s", resume_after.as_secs()),
                json!(resume_after.as_secs()),
            ));
            Exit::Budget
        }
        _ if report.failed > 0 || report.undecodable > 0 => Exit::SomeFailed,
        _ => Exit::Done,
    };
    output::figures(figures).print(cli.format)?;
    Ok(exit)
}

pub async fn verify(
    cli: &Cli,
    api: &Api,
    period: &PeriodArgs,
    store: &StoreArgs,
) -> Result<Exit, Failure> {
    let period = when::period(period, cli.tz)?;
    let _lock = lock(&store.catalog)?;
    let reporter = Reporter::new(Work::Files, "verify");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default().on_progress(move |event| events.event(event));
    let archive = archive(api, store, options)?;
    let report = archive.verify(settings::scope(cli)?, period).await?;
    reporter.finish();
    output::figures(vec![
        count_figure("checked", report.checked),
        count_figure("whole", report.whole),
        count_figure("missing", report.missing),
        count_figure("altered", report.altered),
        bytes_figure("bytes", report.bytes),
    ])
    .print(cli.format)?;
    Ok(if report.all_whole() {
        Exit::Done
    } else {
        Exit::SomeFailed
    })
}

pub async fn purge(
    cli: &Cli,
    api: &Api,
    older_than: &str,
    store: &StoreArgs,
    yes: bool,
    max: Option<u64>,
) -> Result<Exit, Failure> {
    let cutoff = when::cutoff(older_than, cli.tz, Utc::now())?;
    let _lock = lock(&store.catalog)?;
    let reporter = Reporter::new(Work::Files, "purge");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default().on_progress(move |event| events.event(event));
    let archive = archive(api, store, options)?;
    let mut purge = PurgeOptions::default().dry_run(!yes);
    if let Some(max) = max {
        purge = purge.max_deletions(max);
    }
    let report = archive.purge(cutoff, settings::scope(cli)?, purge).await?;
    reporter.finish();
    let entries = report
        .records
        .iter()
        .filter_map(|uuid| archive.catalog().entry(uuid.as_str()).ok().flatten())
        .collect::<Vec<_>>();
    print_entries(cli, &entries)?;
    let verb = if yes {
        "deleted"
    } else {
        "would delete (dry run; add --yes)"
    };
    reporter.line(&format!(
        "{verb}: {} recordings started before {}{}",
        report.records.len(),
        cutoff.with_timezone(&cli.tz).format("%Y-%m-%d %H:%M:%S %Z"),
        if report.not_kept > 0 {
            format!(
                "; {} kept on the PBX: their files were missing or changed",
                report.not_kept
            )
        } else {
            String::new()
        }
    ));
    Ok(match report.outcome {
        Outcome::Paused { .. } => Exit::Budget,
        _ if report.not_kept > 0 => Exit::SomeFailed,
        _ => Exit::Done,
    })
}

pub fn search(
    cli: &Cli,
    period: &PeriodArgs,
    catalog: &Path,
    query: SearchQuery,
) -> Result<Exit, Failure> {
    if !catalog.exists() {
        return Err(Failure::usage(format!(
            "there is no catalog at {} (run backup first, or give --catalog)",
            catalog.display()
        )));
    }
    let mut query = query;
    if let Some(period) = when::period(period, cli.tz)? {
        query = query.period(period);
    }
    if cli.group.is_some() || cli.extension.is_some() {
        query = query.scope(settings::scope(cli)?);
    }
    let catalog = Catalog::open(catalog)?;
    print_entries(cli, &catalog.search(&query)?)?;
    Ok(Exit::Done)
}

/// Records with their backup state.
fn print_entries(cli: &Cli, entries: &[CatalogEntry]) -> Result<(), Failure> {
    let rows = entries.iter().map(|entry| {
        let state = &entry.state;
        let kept = if state.deleted_from_pbx_at.is_some() {
            "kept, off PBX"
        } else if state.is_verified() {
            "verified"
        } else if state.is_kept() {
            "kept"
        } else if state.last_error.is_some() {
            "failed"
        } else {
            "listed"
        };
        let key = state.object_key.clone().unwrap_or_default();
        (
            &entry.record,
            vec![
                ("state", kept.to_owned(), json!(kept)),
                ("object_key", key.clone(), json!(state.object_key)),
            ],
        )
    });
    output::records(rows, cli.tz).print(cli.format)
}
