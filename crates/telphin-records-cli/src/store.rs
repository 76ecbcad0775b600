//! The backup's side of the commands over `record-backup`: its target and catalog, the lock
//! that allows one run per catalog, and the archive they make with the API.

use std::path::Path;

use record_backup::{Archive, ArchiveOptions, Catalog, CatalogLock, Target};
use telphin_records::layers::transport_async::ReqwestTransport;

use crate::cli::StoreArgs;
use crate::exit::Failure;
use crate::settings::Api;

/// Holds `<catalog>.lock` for the run: a second run on the same catalog stops at once.
pub fn lock(catalog: &Path) -> Result<CatalogLock, Failure> {
    Ok(CatalogLock::acquire(catalog)?)
}

/// The target of `store`.
pub fn target(store: &StoreArgs) -> Result<Target, Failure> {
    Ok(Target::from_url(
        &store.to,
        std::iter::empty::<(&str, &str)>(),
    )?)
}

/// The archive of `store` through `api`'s client.
pub fn archive(
    api: &Api,
    store: &StoreArgs,
    options: ArchiveOptions,
) -> Result<Archive<ReqwestTransport>, Failure> {
    let target = target(store)?;
    Ok(Archive::new(
        api.client.clone(),
        target,
        Catalog::open(&store.catalog.file)?,
        options,
    ))
}

/// An existing catalog (search reads one; it never creates an empty one by mistake).
pub fn existing_catalog(path: &Path) -> Result<Catalog, Failure> {
    if !path.exists() {
        return Err(Failure::usage(format!(
            "there is no catalog at {} (run backup first, or give --catalog)",
            path.display()
        )));
    }
    Ok(Catalog::open(path)?)
}
