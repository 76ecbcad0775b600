//! The pages of records a destruction run (an erasure, the retention's expiry) goes through.

use rusqlite::types::Value as Sql;

use super::{Catalog, Conditions, Cursor, Doomed};
use crate::error::BackupError;

/// The columns [`doomed_of`] reads, over `record`.
const DOOMED_COLUMNS: &str = "record.record_uuid, record.init_time_us, \
     record.object_key, record.stored_size, record.sha256, record.stored_at IS NOT NULL, \
     record.deleted_from_pbx_at IS NULL";

fn doomed_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Doomed> {
    Ok(Doomed {
        record_uuid: row.get(0)?,
        init_time_us: row.get(1)?,
        object_key: row.get(2)?,
        size: row
            .get::<_, Option<i64>>(3)?
            .and_then(|s| u64::try_from(s).ok()),
        sha256: row.get(4)?,
        kept: row.get(5)?,
        on_pbx: row.get(6)?,
    })
}

impl Catalog {
    /// Up to `limit` records of `selection` after `after`, oldest first: a page of what a
    /// destruction run goes through.
    pub(crate) fn doomed_page(
        &self,
        selection: &Conditions,
        after: &Cursor,
        limit: usize,
    ) -> Result<Vec<Doomed>, BackupError> {
        let mut conditions = selection.clone();
        if let Some((time, uuid)) = after {
            conditions.push(
                "(record.init_time_us, record.record_uuid) > (?, ?)",
                [Sql::Integer(*time), Sql::Text(uuid.clone())],
            );
        }
        let sql = format!(
            "SELECT {DOOMED_COLUMNS} FROM record WHERE {} \
             ORDER BY record.init_time_us, record.record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.rows(&sql, &conditions, doomed_of)
    }
}
