//! Versioned migrations, kept in `PRAGMA user_version`.

use rusqlite::{Connection, Transaction};

use super::numbers;

/// One migration: its SQL, then the Rust that fills what the SQL created.
struct Migration {
    sql: &'static str,
    fill: Option<fn(&Transaction<'_>) -> rusqlite::Result<()>>,
}

/// The migrations in order; the catalog's version is how many of them ran.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("v1.sql"),
        fill: None,
    },
    Migration {
        sql: include_str!("v2.sql"),
        fill: Some(numbers::index_all),
    },
    Migration {
        sql: include_str!("v3.sql"),
        fill: None,
    },
    Migration {
        sql: include_str!("v4.sql"),
        fill: None,
    },
    Migration {
        sql: include_str!("v5.sql"),
        fill: None,
    },
    Migration {
        sql: include_str!("v6.sql"),
        fill: Some(super::figures::fill),
    },
    Migration {
        sql: include_str!("v7.sql"),
        fill: None,
    },
];

/// The newest schema version.
pub(super) const LATEST: i64 = MIGRATIONS.len() as i64;

pub(super) fn version(connection: &mut Connection) -> rusqlite::Result<i64> {
    connection.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Runs the migrations the catalog has not had yet, each in a transaction of its own.
pub(super) fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let from = version(connection)?;
    for (index, migration) in MIGRATIONS.iter().enumerate() {
        let to = index as i64 + 1;
        if to <= from {
            continue;
        }
        if from > 0 {
            tracing::info!(from, to, "bringing the catalog's schema up to date");
        }
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        transaction.execute_batch(migration.sql)?;
        if let Some(fill) = migration.fill {
            fill(&transaction)?;
        }
        transaction.pragma_update(None, "user_version", to)?;
        transaction.commit()?;
    }
    Ok(())
}

/// The schema of version 1 alone, for the test that migrates a catalog written by it.
#[cfg(test)]
pub(super) const V1: &str = include_str!("v1.sql");
