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
use crate::{output, store};

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
    /// Really erase (the key of the tombstones' number hash: TELPHIN_ERASURE_KEY, else the
    /// file CATALOG.erasure-key, made on first use, owner-only).
    #[arg(long)]
    pub yes: bool,
    /// Where the deletion act is written (JSON and CSV).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub act_dir: PathBuf,
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
    if !args.act_dir.is_dir() {
        return Err(Failure::usage(format!(
            "--act-dir {}: not a directory",
            args.act_dir.display()
        )));
    }
    let _lock = store::lock(&args.store.catalog.file)?;
    store::existing_catalog(&args.store.catalog.file)?;
    if args.yes {
        let key = match context.settings.get("TELPHIN_ERASURE_KEY") {
            Some(key) => key.as_bytes().to_vec(),
            None => key_file(&args.store.catalog.file)?,
        };
        options = options.key(key);
    }
    let api = if args.yes {
        context.api().await?
    } else {
        context.api_without_requests().await?
    };
    let options_archive = ArchiveOptions::default().operator(&operator);
    let archive = store::archive(&api, &args.store, options_archive)?;
    let report = archive.erase(&args.number, scope, &options).await?;
    let (json_path, csv_path) = write_act(&args.act_dir, &report.act)?;
    if args.yes {
        // Kept with the archive too (_acts/), where the audit log is.
        report.act.store(archive.target()).await?;
    }
    print(context, &report.act)?;
    let verb = if args.yes {
        "erased"
    } else {
        "would erase (dry run; add --yes)"
    };
    tracing::info!(
        "{verb}: {} recordings; {} not erased; act: {} and {}",
        report.act.records.len(),
        report.act.not_destroyed.len(),
        json_path.display(),
        csv_path.display()
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

/// The key of `<catalog>.erasure-key`, made (32 random bytes, owner-only) the first time: the
/// tombstones' number hashes then reveal nothing to whoever reads the target, the acts or the
/// audit log without it. Its content is never printed.
fn key_file(catalog: &Path) -> Result<Vec<u8>, Failure> {
    let mut name = catalog.as_os_str().to_owned();
    name.push(".erasure-key");
    let path = PathBuf::from(name);
    let failed = |error: std::io::Error| {
        Failure::failed(format!("the erasure key {}: {error}", path.display()))
    };
    match std::fs::read(&path) {
        Ok(key) if key.len() >= 16 => return Ok(key),
        Ok(_) => {
            return Err(Failure::usage(format!(
                "the erasure key {} is shorter than 16 bytes",
                path.display()
            )));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(failed(error)),
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|error| Failure::failed(format!("no randomness for the erasure key: {error}")))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(failed)?;
    }
    std::io::Write::write_all(&mut file, hex.as_bytes()).map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    // Made once: a key another run made meanwhile wins.
    match file.persist_noclobber(&path) {
        Ok(_) => {
            tracing::warn!(
                "made the erasure key {}: keep it with the catalog's backups (without it, a \
                 tombstone's number hash cannot be checked)",
                path.display()
            );
            Ok(hex.into_bytes())
        }
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(&path).map_err(failed)
        }
        Err(error) => Err(failed(error.error)),
    }
}

/// Writes the act as `<act id>.json` and `.csv` in `dir`, each complete or not at all.
pub fn write_act(dir: &std::path::Path, act: &DeletionAct) -> Result<(PathBuf, PathBuf), Failure> {
    let write = |extension: &str, bytes: &[u8]| -> Result<PathBuf, Failure> {
        let path = dir.join(format!("{}.{extension}", act.act_id));
        let failed = |error: std::io::Error| {
            Failure::failed(format!("cannot write the act {}: {error}", path.display()))
        };
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
        std::io::Write::write_all(&mut file, bytes).map_err(failed)?;
        file.as_file().sync_all().map_err(failed)?;
        file.persist(&path).map_err(|error| failed(error.error))?;
        Ok(path)
    };
    let json = write("json", act.to_json()?.as_bytes())?;
    let csv = write("csv", &act.to_csv()?)?;
    Ok((json, csv))
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
