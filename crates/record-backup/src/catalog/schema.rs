//! Versioned migrations, kept in `PRAGMA user_version`.

use rusqlite::Connection;

/// The migrations in order; the catalog's version is how many of them ran.
const MIGRATIONS: &[&str] = &[include_str!("v1.sql")];

/// The newest schema version.
pub(super) const LATEST: i64 = MIGRATIONS.len() as i64;

pub(super) fn version(connection: &mut Connection) -> rusqlite::Result<i64> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Runs the migrations the catalog has not had yet, each in a transaction of its own.
pub(super) fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let from = version(connection)?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let to = index as i64 + 1;
        if to <= from {
            continue;
        }
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", to)?;
        transaction.commit()?;
    }
    Ok(())
}
