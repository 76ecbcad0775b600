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
    /// Files transferred at once (default: the profile's, else 8).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// The object-name template (placeholders: {yyyy} {mm} {dd} {HH} {MM} {SS} {HHMMSS}
    /// {flow} {from} {to} {record_uuid} {call_uuid} {extension_id} {extension} {result}
    /// {duration} {client_id}); times in --tz. Default: the profile's, else
    /// {yyyy}/{mm}/{dd}/{HHMMSS}_{flow}_{from}_{to}_{record_uuid}.mp3.
    #[arg(long, value_name = "TEMPLATE")]
    pub names: Option<String>,
    /// Replace phone numbers in names by a keyed hash; the key is read from
    /// TELPHIN_NAME_KEY (or the profile's name_key_env/_file, when it hashes numbers).
    #[arg(long)]
    pub hash_numbers: bool,
    /// Leave this much of the hourly rate limit to other integrations: a number of
    /// requests, or a percentage such as 20% (default: the profile's, else 10%).
    #[arg(long, value_name = "N|P%")]
    pub reserve: Option<String>,
    /// When only the reserve is left, wait for the limit to reset (without it: stop, exit
    /// code 4).
    #[arg(long)]
    pub wait: bool,
}

impl BackupArgs {
    /// How objects are named: as the profile names them (its template, time zone and number
    /// hashing, so that a backup and the service agree), unless the flags say otherwise.
    fn naming(&self, context: &Context) -> Result<Naming, Failure> {
        let profile = context.settings.profile();
        let template = match (&self.names, profile) {
            (Some(names), _) => NameTemplate::parse(names)?,
            (None, Some(profile)) => profile.names.clone(),
            (None, None) => NameTemplate::default(),
        };
        let naming = Naming::new(template, context.global.tz);
        if let Some(key) = context.settings.get("TELPHIN_NAME_KEY")
            && (self.hash_numbers || profile.is_some_and(|p| p.hash_numbers))
        {
            return Ok(naming.hash_numbers(key.as_bytes().to_vec()));
        }
        if let Some(profile) = profile
            && (profile.hash_numbers || self.hash_numbers)
            && let Some(key) = profile
                .name_key()
                .map_err(|error| Failure::usage(error.to_string()))?
        {
            return Ok(naming.hash_numbers(key.expose().as_bytes().to_vec()));
        }
        if self.hash_numbers {
            return Err(Failure::usage(
                "--hash-numbers needs the key in TELPHIN_NAME_KEY (environment or --config)",
            ));
        }
        Ok(naming)
    }

    /// Files transferred at once.
    fn concurrency(&self, context: &Context) -> usize {
        self.concurrency
            .or_else(|| context.settings.profile().map(|p| p.concurrency))
            .unwrap_or(8)
    }

    /// The share of the rate limit the run may use.
    fn budget(&self, context: &Context) -> Result<RateBudget, Failure> {
        let reserve: Reserve = match (&self.reserve, context.settings.profile()) {
            (Some(text), _) => text
                .parse()
                .map_err(|message| Failure::usage(format!("--reserve {message}")))?,
            (None, Some(profile)) => profile.reserve,
            (None, None) => Reserve::Percent(10),
        };
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
    let budget = args.budget(context)?;
    let scope = context.scope()?;
    let store = context.store(&args.store)?;
    let lock = store::lock(&store.catalog)?;
    let api = context.api().await?;
    let reporter = Reporter::new(Work::Bytes, "backup");
    let events = Arc::clone(&reporter);
    let options = ArchiveOptions::default()
        .naming(naming)
        .concurrency(args.concurrency(context))
        .budget(budget)
        .on_progress(move |event| events.event(event));
    let (archive, _lock) = store::archive(&api, &store, &context.settings, options, lock).await?;
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
