//! `hold add / list / release`: legal holds. A held recording is never purged, expired or
//! erased until its hold is released or ends.

use clap::{Args, Subcommand};
use record_backup::{Hold, HoldOn, write_audit};
use serde_json::json;
use telphin_records::chrono::Utc;

use crate::cli::{CatalogArgs, StoreArgs};
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::{output, store, when};

/// The arguments of `hold`.
#[derive(Debug, Clone, Args)]
pub struct HoldArgs {
    #[command(subcommand)]
    pub action: HoldAction,
}

/// What `hold` does.
#[derive(Debug, Clone, Subcommand)]
pub enum HoldAction {
    /// Place a hold on a number, an extension, a recording or a period.
    #[command(after_help = "Examples:\n  \
        telphin-records hold add --number \"+7 495 123-45-67\" --reason \"claim 2024/17\" --to ./backup\n  \
        telphin-records hold add --from 2024-03-01 --until 2024-04-01 --reason \"tax audit\" --ends 2027-01-01 --to ./backup")]
    Add(HoldAddArgs),
    /// List the active holds (all of them with --all).
    List(HoldListArgs),
    /// Release a hold by its id.
    #[command(after_help = "Example:\n  telphin-records hold release 3 --to ./backup")]
    Release(HoldReleaseArgs),
}

/// The arguments of `hold add`.
#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("on").required(true).args(["number", "extension_id", "recording", "from"]))]
pub struct HoldAddArgs {
    /// Every call with this number (the same digits, or the same last 10 digits).
    #[arg(long, value_name = "NUMBER")]
    pub number: Option<String>,
    /// Every call of this extension (its id).
    #[arg(long = "on-extension", id = "extension_id", value_name = "ID")]
    pub extension_id: Option<u64>,
    /// One recording (its uuid).
    #[arg(long, value_name = "UUID")]
    pub recording: Option<String>,
    /// Calls that started from this date or instant (in --tz) …
    #[arg(long, value_name = "DATE", requires = "until")]
    pub from: Option<String>,
    /// … until this one.
    #[arg(long, value_name = "DATE", requires = "from")]
    pub until: Option<String>,
    /// Why (the case, the dispute): written to the audit log and shown on refusals.
    #[arg(long)]
    pub reason: String,
    /// The hold ends by itself at this date or instant (in --tz).
    #[arg(long, value_name = "DATE")]
    pub ends: Option<String>,
    /// Who places it (default: TELPHIN_OPERATOR, else the login name).
    #[arg(long)]
    pub operator: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// The arguments of `hold list`.
#[derive(Debug, Clone, Args)]
pub struct HoldListArgs {
    /// Released and ended holds too.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// The arguments of `hold release`.
#[derive(Debug, Clone, Args)]
pub struct HoldReleaseArgs {
    /// The hold's id (hold list shows it).
    pub id: i64,
    /// Who releases it.
    #[arg(long)]
    pub operator: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(context: &Context, args: &HoldArgs) -> Result<Exit, Failure> {
    match &args.action {
        HoldAction::Add(add) => {
            let tz = context.global.tz;
            let on = match (
                &add.number,
                add.extension_id,
                &add.recording,
                &add.from,
                &add.until,
            ) {
                (Some(number), ..) => HoldOn::Number(number.clone()),
                (_, Some(id), ..) => HoldOn::Extension(id),
                (_, _, Some(uuid), ..) => {
                    super::uuid(uuid)?;
                    HoldOn::Recording(uuid.clone())
                }
                (_, _, _, Some(from), Some(until)) => HoldOn::Period {
                    from: when::instant(from, tz)?,
                    until: when::instant(until, tz)?,
                },
                _ => return Err(Failure::usage("say what to hold")),
            };
            let ends = add
                .ends
                .as_deref()
                .map(|text| when::instant(text, tz))
                .transpose()?;
            // No lock: a hold is one transaction, and is placed while the service runs.
            let store = context.store(&add.store)?;
            let catalog = store::existing_writable_catalog(&store.catalog, &context.settings)?;
            crate::keys::warn_unsigned(catalog.signs_audit());
            let target = store::target(&store)?;
            let operator = context.operator(add.operator.as_deref());
            let hold = catalog.add_hold(&on, &add.reason, ends, &operator)?;
            copy_audit(&store, &catalog, &target).await?;
            print(context, &[hold])?;
            Ok(Exit::Done)
        }
        HoldAction::List(list) => {
            let catalog = store::existing_catalog(&context.catalog(&list.catalog))?;
            print(context, &catalog.holds(list.all)?)?;
            Ok(Exit::Done)
        }
        HoldAction::Release(release) => {
            let store = context.store(&release.store)?;
            let catalog = store::existing_writable_catalog(&store.catalog, &context.settings)?;
            crate::keys::warn_unsigned(catalog.signs_audit());
            let target = store::target(&store)?;
            let operator = context.operator(release.operator.as_deref());
            let hold = catalog.release_hold(release.id, &operator)?;
            copy_audit(&store, &catalog, &target).await?;
            print(context, &[hold])?;
            Ok(Exit::Done)
        }
    }
}

/// Copies the new audit entries to the target, unless another process (a running service)
/// holds the catalog: that process copies them at its next run, and two writers of the
/// target's log must not race.
async fn copy_audit(
    store: &crate::context::Store,
    catalog: &record_backup::Catalog,
    target: &record_backup::Target,
) -> Result<(), Failure> {
    match record_backup::CatalogLock::acquire(&store.catalog) {
        Ok(_lock) => {
            write_audit(catalog, target).await?;
            Ok(())
        }
        Err(record_backup::BackupError::CatalogBusy { .. }) => {
            tracing::info!(
                "the process holding the catalog copies the audit entry to the target at its next run"
            );
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

fn print(context: &Context, holds: &[Hold]) -> Result<(), Failure> {
    let tz = context.global.tz;
    let now = Utc::now();
    let time = |at: Option<telphin_records::chrono::DateTime<Utc>>| {
        at.map(|at| {
            (
                at.with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                json!(at.to_rfc3339()),
            )
        })
        .unwrap_or_else(|| (String::new(), serde_json::Value::Null))
    };
    let rows = holds
        .iter()
        .map(|hold| {
            vec![
                (hold.id.to_string(), json!(hold.id)),
                (hold.kind.clone(), json!(hold.kind)),
                (hold.subject.clone(), json!(hold.subject)),
                (hold.reason.clone(), json!(hold.reason)),
                if hold.is_active(now) {
                    ("active".to_owned(), json!("active"))
                } else {
                    ("ended".to_owned(), json!("ended"))
                },
                time(hold.ends_at),
                time(Some(hold.created_at)),
                (hold.created_by.clone(), json!(hold.created_by)),
                time(hold.released_at),
                (
                    hold.released_by.clone().unwrap_or_default(),
                    json!(hold.released_by),
                ),
            ]
        })
        .collect();
    output::table_of(
        &[
            "id",
            "kind",
            "on",
            "reason",
            "state",
            "ends",
            "placed",
            "by",
            "released",
            "released_by",
        ],
        rows,
    )
    .print(context.global.format)
}
