//! Commands that call the API directly: list, stats, monthly, download, link, delete, archive.

use std::path::Path;

use futures_util::TryStreamExt as _;
use serde_json::json;
use telphin_records::{
    ArchiveRequest, DownloadOptions, DownloadSource, ListOptions, MonthlyStatsEnd, Order,
    RecordUuid, YearMonth,
};

use crate::cli::{Cli, PeriodArgs};
use crate::exit::{Exit, Failure};
use crate::output::{self, bytes_figure, count_figure};
use crate::progress::{Reporter, Work};
use crate::settings::{self, Api};
use crate::when;

fn uuid(text: &str) -> Result<RecordUuid, Failure> {
    RecordUuid::new(text).map_err(|error| Failure::usage(format!("{text:?}: {error}")))
}

pub async fn list(cli: &Cli, api: &Api, period: &PeriodArgs, desc: bool) -> Result<Exit, Failure> {
    let period = when::required(period, cli.tz)?;
    let order = if desc { Order::Desc } else { Order::Asc };
    let records: Vec<_> = api
        .client
        .records(settings::scope(cli)?, period, ListOptions::new(order))
        .try_collect()
        .await?;
    output::records(records.iter().map(|r| (r, Vec::new())), cli.tz).print(cli.format)?;
    Ok(Exit::Done)
}

pub async fn stats(cli: &Cli, api: &Api, period: &PeriodArgs) -> Result<Exit, Failure> {
    let period = when::required(period, cli.tz)?;
    let stats = api.client.stats(settings::scope(cli)?, period).await?;
    output::figures(vec![
        count_figure("recordings", stats.count),
        bytes_figure("size", stats.size),
    ])
    .print(cli.format)?;
    Ok(Exit::Done)
}

pub async fn monthly(cli: &Cli, api: &Api, until: Option<&str>) -> Result<Exit, Failure> {
    let end = until
        .map(|month| {
            month
                .parse::<YearMonth>()
                .map(MonthlyStatsEnd::Month)
                .map_err(|_| Failure::usage(format!("--until {month}: write it as YYYY-MM")))
        })
        .transpose()?;
    let months = api
        .client
        .monthly_stats(settings::client_id(cli)?, end)
        .await?;
    let rows = months
        .iter()
        .map(|month| {
            vec![
                (
                    month.year_month.to_string(),
                    json!(month.year_month.to_string()),
                ),
                (
                    month.call_records_count.to_string(),
                    json!(month.call_records_count),
                ),
                (
                    output::size(month.call_records_size),
                    json!(month.call_records_size),
                ),
            ]
        })
        .collect();
    output::table_of(&["month", "recordings", "size"], rows).print(cli.format)?;
    Ok(Exit::Done)
}

pub async fn download(cli: &Cli, api: &Api, uuids: &[String], dir: &Path) -> Result<Exit, Failure> {
    let uuids = uuids
        .iter()
        .map(|u| uuid(u))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(dir)
        .map_err(|error| Failure::failed(format!("cannot create {}: {error}", dir.display())))?;
    let scope = settings::scope(cli)?;
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

pub async fn link(cli: &Cli, api: &Api, text: &str) -> Result<Exit, Failure> {
    let link = api
        .client
        .storage_link(settings::scope(cli)?, &uuid(text)?)
        .await?;
    // Printed because it was asked for; it never goes to the log.
    println!("{}", link.expose_url());
    Ok(Exit::Done)
}

pub async fn delete(cli: &Cli, api: &Api, text: &str, yes: bool) -> Result<Exit, Failure> {
    let uuid = uuid(text)?;
    if !yes {
        return Err(Failure::usage(format!(
            "this deletes {uuid} from the PBX for good: add --yes to do it"
        )));
    }
    let deletion = api
        .client
        .delete_record(settings::scope(cli)?, &uuid)
        .await?;
    tracing::info!(record_uuid = %uuid, ?deletion, "deleted");
    Ok(Exit::Done)
}

pub async fn archive(
    cli: &Cli,
    api: &Api,
    period: &PeriodArgs,
    emails: &[String],
) -> Result<Exit, Failure> {
    let period = when::required(period, cli.tz)?;
    let window = period.query_range().as_window().map_err(|error| {
        Failure::usage(format!(
            "an archive covers one request window at most (up to the end of the next month): {error}"
        ))
    })?;
    let request = ArchiveRequest::new(window, emails)?;
    let receipt = api
        .client
        .request_archive(settings::client_id(cli)?, &request)
        .await?;
    let id = match &receipt.id {
        Some(telphin_records::ArchiveId::Number(n)) => n.to_string(),
        Some(telphin_records::ArchiveId::Text(text)) => text.clone(),
        _ => String::new(),
    };
    output::figures(vec![
        ("archive", id.clone(), json!(receipt.id)),
        ("email", emails.join(", "), json!(emails)),
    ])
    .print(cli.format)?;
    Ok(Exit::Done)
}
