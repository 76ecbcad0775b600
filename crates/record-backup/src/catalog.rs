//! The catalog: one SQLite file (WAL, versioned migrations, owner-only permissions) with every
//! listed record and its backup state.

mod act;
mod audit;
mod checkpoints;
mod conditions;
mod doomed;
mod entry;
mod figures;
mod hold;
mod manifests;
mod numbers;
mod retention;
mod schema;
mod search;
mod state;
mod sync;
mod work;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub(crate) use act::{ActHeader, Cause, Doomed};
pub(crate) use audit::Draft;
pub use audit::Tombstone;
pub(crate) use conditions::{Conditions, Cursor, ScopeFilter};
pub use entry::CatalogEntry;
pub(crate) use entry::{ENTRY_COLUMNS, corrupt, entry_of, json_of, time_text};
pub use figures::{Access, AccessAction, CallHour, MonthStorage};
pub use hold::{Hold, HoldOn};
pub(crate) use hold::{held, not_held};
pub(crate) use numbers::{PersonNumber, forget as forget_numbers, index_record};
pub(crate) use retention::Past;
pub use search::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Search, SearchQuery};
pub use state::{BackupState, Status};
pub(crate) use state::{KEPT, PURGEABLE};
pub use sync::{MonthFigures, PendingSummary};
pub(crate) use work::{Kept, KeptWhich, Pending};

use crate::checkpoint::AuditSigningKey;
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
    /// Signs every audit entry and the checkpoints (see [`Catalog::signing_audit_with`]).
    signer: Option<AuditSigningKey>,
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
        let catalog = Catalog::connect(path.clone(), Connection::open(&path))?;
        catalog.with(|connection| {
            connection.pragma_update(None, "journal_mode", "WAL")?;
            // In WAL mode, NORMAL loses no committed transaction on a process crash, only on a
            // power loss of the last ones — which the next run then repeats.
            connection.pragma_update(None, "synchronous", "NORMAL")?;
            Catalog::prepare(connection)
        })?;
        catalog.up_to_date()
    }

    /// A catalog in memory, gone when dropped: for tests and trials.
    pub fn in_memory() -> Result<Catalog, BackupError> {
        let catalog = Catalog::connect(":memory:".into(), Connection::open_in_memory())?;
        catalog.with(Catalog::prepare)?;
        catalog.up_to_date()
    }

    fn connect(
        path: PathBuf,
        connection: rusqlite::Result<Connection>,
    ) -> Result<Catalog, BackupError> {
        match connection {
            Ok(connection) => Ok(Catalog {
                path,
                connection: Mutex::new(connection),
                signer: None,
            }),
            Err(source) => Err(BackupError::Catalog { path, source }),
        }
    }

    /// The settings of every connection.
    fn prepare(connection: &mut Connection) -> rusqlite::Result<()> {
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // What is deleted (an erased record's row and numbers) is overwritten with zeros in
        // the pages SQLite writes anyway, instead of lingering in free space.
        connection.pragma_update(None, "secure_delete", "FAST")?;
        numbers::register_functions(connection)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))
    }

    /// Refuses a catalog of a newer schema, and migrates an older one.
    fn up_to_date(self) -> Result<Catalog, BackupError> {
        let catalog = self;
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

    /// Signs every audit entry written from now on, and the checkpoints at the end of each
    /// run that appends ([`crate::write_audit`]), with `key`: the log can then be proven with
    /// the public key alone, against whoever could rewrite the catalog and the target.
    pub fn signing_audit_with(mut self, key: AuditSigningKey) -> Catalog {
        self.signer = Some(key);
        self
    }

    /// Whether the catalog signs the audit log.
    pub fn signs_audit(&self) -> bool {
        self.signer.is_some()
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

    /// The rows of `sql` with the parameters of `conditions`, each read by `row`.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        conditions: &Conditions,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, BackupError> {
        self.with(|connection| {
            let mut statement = connection.prepare_cached(sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(&conditions.params), row)?;
            rows.collect()
        })
    }

    /// The count `sql` (one row, one integer) gives with the parameters of `conditions`.
    pub(crate) fn count_of(&self, sql: &str, conditions: &Conditions) -> Result<u64, BackupError> {
        self.with(|connection| {
            let count: i64 = connection
                .prepare_cached(sql)?
                .query_row(rusqlite::params_from_iter(&conditions.params), |row| {
                    row.get(0)
                })?;
            Ok(u64::try_from(count).unwrap_or(0))
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
    prepare_folder(path)?;
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
mod tests;

/// Makes the folder of the catalog at `path` when it does not exist yet, owner-only (it will
/// hold the catalog, its lock and its journal): the one place the commands and the service
/// prepare it.
pub(crate) fn prepare_folder(path: &Path) -> Result<(), BackupError> {
    let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    else {
        return Ok(());
    };
    if folder.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(folder)
        .map_err(|source| BackupError::CatalogFile {
            path: folder.to_path_buf(),
            source,
        })
}
