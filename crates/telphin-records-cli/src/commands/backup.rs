//! `backup`: keep a period's recordings in a directory or bucket, with a catalog.

use std::sync::Arc;

use clap::Args;
use record_backup::{
    ArchiveOptions, NameTemplate, Naming, Outcome, RateBudget, Reserve, WhenReserveReached,
};
use serde_json::json;

use crate::cli::{PeriodArgs, StoreArgs};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::output::{self, bytes_figure, count_figure};
use crate::progress::{Reporter, Work};
use crate::{store, when};

/// The arguments of `backup`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Files transferred at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The object-name template (placeholders: {yyyy} {mm} {dd} {HH} {MM} {SS} {HHMMSS}
    /// {flow} {from} {to} {record_uuid} {call_uuid} {extension_id} {extension} {result}
    /// {duration} {client_id}); times in --tz.
    #[arg(long, value_name = "TEMPLATE", default_value = record_backup::DEFAULT_TEMPLATE)]
    pub names: String,
    /// Replace phone numbers in names by a keyed hash; the key is read from
    /// TELPHIN_NAME_KEY.
    #[arg(long)]
    pub hash_numbers: bool,
    /// Leave this much of the hourly rate limit to other integrations: a number of
    /// requests, or a percentage such as 20%.
    #[arg(long, value_name = "N|P%", default_value = "10%")]
    pub reserve: String,
    /// When only the reserve is left, wait for the limit to reset (without it: stop, exit
    /// code 4).
    #[arg(long)]
    pub wait: bool,
}

impl BackupArgs {
    /// How objects are named.
    fn naming(&self, context: &Context) -> Result<Naming, Failure> {
        let naming = Naming::new(NameTemplate::parse(&self.names)?, context.global.tz);
        if !self.hash_numbers {
            return Ok(naming);
        }
        let key = context.settings.get("TELPHIN_NAME_KEY").ok_or_else(|| {
            Failure::usage(
                "--hash-numbers needs the key in TELPHIN_NAME_KEY (environment or --config)",
            )
        })?;
        Ok(naming.hash_numbers(key.as_bytes().to_vec()))
    }

    /// The share of the rate limit the run may use.
    fn budget(&self) -> Result<RateBudget, Failure> {
        let reserve: Reserve = self
            .reserve
            .parse()
            .map_err(|message| Failure::usage(format!("--reserve {message}")))?;
        let when_reached = if self.wait {
            WhenReserveReached::Wait
        } else {
            WhenReserveReached::Stop
        };
        Ok(RateBudget::new(reserve, when_reached))
    }
}

pub async fn run(context: &Context, args: &BackupArgs) -> Result<Exit, Failure> {
    let period = when::required(&args.period, context.global.tz)?;
    let naming = args.naming(context)?;
    let budget = args.budget()?;
    let scope = context.scope()?;
    let _lock = store::lock(&args.store.catalog.file)?;
    let api = context.api().await?;
    let reporter = Reporter::new(Work::Bytes, "backup");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default()
        .naming(naming)
        .concurrency(args.concurrency)
        .budget(budget)
        .on_progress(move |event| events.event(event));
    let archive = store::archive(&api, &args.store, &context.settings, options).await?;
    let report = archive.backup(scope, period).await?;
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
    output::figures(figures).print(context.global.format)?;
    Ok(exit)
}
