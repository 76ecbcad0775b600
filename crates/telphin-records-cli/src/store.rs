//! The backup's side of the commands over `record-backup`: its target and catalog, the lock
//! that allows one run per catalog, and the archive they make with the API.

use std::path::Path;

use record_backup::{Archive, ArchiveOptions, Catalog, CatalogLock, Target};
use telphin_records::layers::transport_async::ReqwestTransport;

use crate::context::Store;
use crate::exit::Failure;
use crate::keys;
use crate::settings::{Api, Settings};

/// Holds `<catalog>.lock` for the run: a second run on the same catalog stops at once.
pub fn lock(catalog: &Path) -> Result<CatalogLock, Failure> {
    Ok(CatalogLock::acquire(catalog)?)
}

/// The target of `store`, with its options.
pub fn target(store: &Store) -> Result<Target, Failure> {
    let options = store.options.iter().map(|(k, v)| (k.as_str(), v.expose()));
    Ok(Target::from_url(&store.target, options)?)
}

/// The catalog at `path` for a run that writes to it: it signs the audit log when the
/// settings give the signing key.
pub fn writable_catalog(path: &Path, settings: &Settings) -> Result<Catalog, Failure> {
    let catalog = Catalog::open(path)?;
    Ok(match keys::signing_key(settings)? {
        Some(key) => catalog.signing_audit_with(key),
        None => catalog,
    })
}

/// The archive of `store` through `api`'s client, opened under `lock` (taken first, so that
/// a busy catalog stops the command before anything else), after finishing the deletion acts
/// that earlier runs left open (killed, or unable to store them): each is reported.
pub async fn archive(
    api: &Api,
    store: &Store,
    settings: &Settings,
    options: ArchiveOptions,
    lock: CatalogLock,
) -> Result<(Archive<ReqwestTransport>, CatalogLock), Failure> {
    let target = target(store)?;
    let signer = keys::signing_key(settings)?;
    let (archive, lock) = Archive::open_locked(lock, api.client.clone(), target, signer, options)?;
    for act in archive.finish_unfinished_acts().await? {
        tracing::warn!(
            "the deletion act {} of an earlier run that did not finish is now stored ({}; {} \
             records destroyed, {} not)",
            act.act_id,
            act.outcome.as_deref().unwrap_or("interrupted"),
            act.records.len(),
            act.not_destroyed.len()
        );
    }
    Ok((archive, lock))
}

/// An existing catalog, for a run that writes to it (holds): signing as
/// [`writable_catalog`].
pub fn existing_writable_catalog(path: &Path, settings: &Settings) -> Result<Catalog, Failure> {
    existing(path)?;
    writable_catalog(path, settings)
}

fn existing(path: &Path) -> Result<(), Failure> {
    if !path.exists() {
        return Err(Failure::usage(format!(
            "there is no catalog at {} (run backup first, or give --catalog)",
            path.display()
        )));
    }
    Ok(())
}

/// An existing catalog (search reads one; it never creates an empty one by mistake).
pub fn existing_catalog(path: &Path) -> Result<Catalog, Failure> {
    existing(path)?;
    Ok(Catalog::open(path)?)
}
