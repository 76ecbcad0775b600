//! One run per catalog: `<catalog>.lock`, held with the operating system's file lock, so that
//! a killed process never leaves it held.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::BackupError;

/// Holds `<catalog>.lock` while alive: a second run (or service) on the same catalog is
/// refused at once.
///
/// ```no_run
/// let _lock = record_backup::CatalogLock::acquire("/srv/recordings.sqlite".as_ref())?;
/// // … run the backup …
/// # Ok::<(), record_backup::BackupError>(())
/// ```
#[derive(Debug)]
pub struct CatalogLock {
    _file: File,
    path: PathBuf,
    catalog: PathBuf,
}

impl CatalogLock {
    /// Takes the lock of the catalog at `catalog`, or fails with
    /// [`BackupError::CatalogBusy`] when another process holds it.
    pub fn acquire(catalog: &Path) -> Result<CatalogLock, BackupError> {
        crate::catalog::prepare_folder(catalog)?;
        let mut name = catalog.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| BackupError::CatalogFile {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(CatalogLock {
                _file: file,
                path,
                catalog: catalog.to_path_buf(),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::CatalogBusy {
                catalog: catalog.to_path_buf(),
                lock: path,
            }),
            Err(std::fs::TryLockError::Error(source)) => {
                Err(BackupError::CatalogFile { path, source })
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The catalog it locks.
    pub fn catalog(&self) -> &Path {
        &self.catalog
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("c.sqlite");
        let first = CatalogLock::acquire(&catalog).unwrap();
        let refused = CatalogLock::acquire(&catalog).unwrap_err();
        assert!(
            matches!(refused, BackupError::CatalogBusy { .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("c.sqlite.lock"), "{refused}");
        drop(first);
        CatalogLock::acquire(&catalog).unwrap();
    }
}
