//! The catalog: one SQLite file (WAL, versioned migrations, owner-only permissions) with every
//! listed record and its backup state.

mod entry;
mod query;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub use entry::{BackupState, CatalogEntry};
pub use query::SearchQuery;
pub(crate) use query::{Kept, Pending, ScopeFilter};

use crate::error::BackupError;

/// The catalog of a backup: a SQLite database file.
///
/// It holds every field of every listed record (each documented field as a column, the whole
/// record — unknown fields included — as JSON in `record_json`), and per record its backup
/// state: object key, size, SHA-256, stored at, verified at, deleted from the PBX at, last
/// error. It may hold storage links, which are bearer secrets: the file is created readable
/// and writable by its owner only, and an existing file is brought back to that.
pub struct Catalog {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("path", &self.path).finish()
    }
}

impl Catalog {
    /// Opens the catalog at `path`, creating it (and bringing its schema up to date) if
    /// needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Catalog, BackupError> {
        let path = path.as_ref().to_path_buf();
        protect(&path)?;
        let connection = Connection::open(&path).map_err(|source| BackupError::Catalog {
            path: path.clone(),
            source,
        })?;
        let catalog = Catalog {
            path,
            connection: Mutex::new(connection),
        };
        catalog.with(|connection| {
            connection.pragma_update(None, "journal_mode", "WAL")?;
            // In WAL mode, NORMAL loses no committed transaction on a process crash, only on a
            // power loss of the last ones — which the next run then repeats.
            connection.pragma_update(None, "synchronous", "NORMAL")?;
            connection.pragma_update(None, "foreign_keys", "ON")?;
            connection.busy_timeout(std::time::Duration::from_secs(10))?;
            query::register_functions(connection)
        })?;
        let version = catalog.with(schema::version)?;
        if version > schema::LATEST {
            return Err(BackupError::CatalogTooNew {
                path: catalog.path.clone(),
                found: version,
                known: schema::LATEST,
            });
        }
        catalog.with(schema::migrate)?;
        Ok(catalog)
    }

    /// The catalog's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the connection, turning SQLite's errors into [`BackupError::Catalog`].
    pub(crate) fn with<R>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> Result<R, BackupError> {
        let mut connection = self.lock();
        work(&mut connection).map_err(|source| BackupError::Catalog {
            path: self.path.clone(),
            source,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves SQLite's state consistent (transactions roll
        // back when dropped), so the connection is still usable.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Creates the catalog file with owner-only permissions, or restricts an existing one (SQLite
/// gives its `-wal` and `-shm` files the database file's permissions).
fn protect(path: &Path) -> Result<(), BackupError> {
    let failed = |source| BackupError::CatalogFile {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let file = options.open(path).map_err(failed)?;
        let mode = file.metadata().map_err(failed)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                "the catalog was readable by others; restricted to its owner"
            );
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let side = PathBuf::from(side);
            if side.exists() {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))
                    .map_err(failed)?;
            }
        }
    }
    #[cfg(not(unix))]
    {
        options.open(path).map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn migrations_run_once_and_a_newer_catalog_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let catalog = Catalog::open(&path).unwrap();
        assert_eq!(catalog.with(schema::version).unwrap(), schema::LATEST);
        let mode: String = catalog
            .with(|c| c.pragma_query_value(None, "journal_mode", |row| row.get(0)))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(catalog);
        // Reopening changes nothing.
        let catalog = Catalog::open(&path).unwrap();
        assert_eq!(catalog.with(schema::version).unwrap(), schema::LATEST);
        catalog
            .with(|c| c.pragma_update(None, "user_version", schema::LATEST + 1))
            .unwrap();
        drop(catalog);
        let error = Catalog::open(&path).unwrap_err();
        assert!(
            matches!(error, BackupError::CatalogTooNew { found, .. } if found == schema::LATEST + 1),
            "{error}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_catalog_is_its_owners_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let catalog = Catalog::open(&path).unwrap();
        catalog.upsert_listed(&[]).unwrap();
        for file in ["c.sqlite", "c.sqlite-wal", "c.sqlite-shm"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
        }
    }
}
