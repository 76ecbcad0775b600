//! `erase`: a person's data erased on request — every recording of their number, from the
//! PBX, the target, the catalog and the manifests — with a deletion act. A dry run without
//! --yes.

use std::path::{Path, PathBuf};

use clap::Args;
use record_backup::{ArchiveOptions, DeletionAct, ErasureOptions, Outcome};
use serde_json::json;

use crate::cli::StoreArgs;
use crate::context::Context;
use crate::exit::{Exit, Failure};
use crate::{keys, output, store};

/// The arguments of `erase`.
#[derive(Debug, Clone, Args)]
pub struct EraseArgs {
    /// The person's number, as written anywhere (+7 495 123-45-67, 84951234567 …): calls with
    /// the same digits, or the same last 10 digits, in any number field.
    #[arg(long)]
    pub number: String,
    /// Why (the request it answers): kept in every tombstone, audit entry and the act.
    #[arg(long)]
    pub reason: String,
    /// Really erase (the key of the tombstones' number hash: the file of
    /// TELPHIN_ERASURE_KEY_FILE, or TELPHIN_ERASURE_KEY; `audit keygen --erasure-key` makes
    /// one).
    #[arg(long)]
    pub yes: bool,
    /// A folder for a copy of the deletion act (JSON and CSV). A real act is kept in the
    /// catalog and the target's _acts/ either way; a dry run writes one only here.
    #[arg(long, value_name = "DIR")]
    pub act_dir: Option<PathBuf>,
    /// Who acts (default: TELPHIN_OPERATOR, else the login name).
    #[arg(long)]
    pub operator: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(context: &Context, args: &EraseArgs) -> Result<Exit, Failure> {
    let scope = context.scope()?;
    let operator = context.operator(args.operator.as_deref());
    let mut options = ErasureOptions::new(&args.reason, &operator).dry_run(!args.yes);
    if let Some(dir) = args.act_dir.as_deref().filter(|dir| !dir.is_dir()) {
        return Err(Failure::usage(format!(
            "--act-dir {}: not a directory",
            dir.display()
        )));
    }
    let store = context.store(&args.store)?;
    let lock = store::lock(&store.catalog)?;
    store::existing_catalog(&store.catalog)?;
    if args.yes {
        options = options.key(keys::erasure_key(&context.settings, &store.catalog)?);
    }
    let api = if args.yes {
        context.api().await?
    } else {
        context.api_without_requests().await?
    };
    let archive_options = ArchiveOptions::default().operator(&operator);
    let archive_options = match &args.act_dir {
        Some(dir) => archive_options.act_dir(dir),
        None => archive_options,
    };
    let (archive, _lock) =
        store::archive(&api, &store, &context.settings, archive_options, lock).await?;
    if args.yes {
        keys::warn_unsigned(archive.catalog().signs_audit());
    }
    let report = archive.erase(&args.number, scope, &options).await?;
    if !args.yes
        && let Some(dir) = &args.act_dir
    {
        // A real act is written by the archive itself, to _acts/ and --act-dir.
        report.act.write_to_dir(dir)?;
    }
    print(context, &report.act)?;
    if args.yes && report.act.records.is_empty() && report.act.not_destroyed.is_empty() {
        tracing::info!("nothing to erase: the catalog has no recording of the number");
        return Ok(Exit::Done);
    }
    let verb = if args.yes {
        "erased"
    } else {
        "would erase (dry run; add --yes)"
    };
    tracing::info!(
        "{verb}: {} recordings; {} not erased; act: {}",
        report.act.records.len(),
        report.act.not_destroyed.len(),
        act_place(args.act_dir.as_deref(), &report.act, args.yes),
    );
    for refused in &report.act.not_destroyed {
        tracing::warn!(record = %refused.record_uuid, "not erased: {}", refused.reason);
    }
    Ok(match report.outcome {
        Outcome::Paused { .. } => Exit::Budget,
        _ if report.is_partial() => Exit::SomeFailed,
        _ => Exit::Done,
    })
}

/// Where the act's JSON is, in `dir`.
pub fn act_path(dir: &Path, act: &DeletionAct) -> PathBuf {
    dir.join(format!("{}.json", act.act_id))
}

/// Where the act of a run can be read: `--act-dir`'s copy, else the target's `_acts/` (a real
/// run), else nowhere but the output (a dry run).
pub fn act_place(dir: Option<&Path>, act: &DeletionAct, real: bool) -> String {
    match dir {
        Some(dir) => act_path(dir, act).display().to_string(),
        None if real => format!(
            "{}/{}.json in the target",
            record_backup::ACTS_PREFIX,
            act.act_id
        ),
        None => "not written (a dry run; give --act-dir to keep it)".to_owned(),
    }
}

fn print(context: &Context, act: &DeletionAct) -> Result<(), Failure> {
    let tz = context.global.tz;
    let mut rows: Vec<Vec<(String, serde_json::Value)>> = act
        .records
        .iter()
        .map(|record| {
            let places: Vec<&str> = record.destroyed.iter().map(|p| p.as_str()).collect();
            vec![
                (record.record_uuid.clone(), json!(record.record_uuid)),
                (
                    record
                        .call_time
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    json!(record.call_time.to_rfc3339()),
                ),
                (
                    if act.dry_run {
                        "would be erased"
                    } else {
                        "erased"
                    }
                    .to_owned(),
                    json!(if act.dry_run {
                        "would be erased"
                    } else {
                        "erased"
                    }),
                ),
                (places.join(", "), json!(places)),
                (
                    record.audit_seq.map(|s| s.to_string()).unwrap_or_default(),
                    json!(record.audit_seq),
                ),
            ]
        })
        .collect();
    rows.extend(act.not_destroyed.iter().map(|refused| {
        vec![
            (refused.record_uuid.clone(), json!(refused.record_uuid)),
            (
                refused
                    .call_time
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                json!(refused.call_time.to_rfc3339()),
            ),
            ("not erased".to_owned(), json!("not erased")),
            (refused.reason.clone(), json!(refused.reason)),
            (String::new(), serde_json::Value::Null),
        ]
    }));
    output::table_of(&["record", "time", "state", "where", "audit_entry"], rows)
        .print(context.global.format)
}
