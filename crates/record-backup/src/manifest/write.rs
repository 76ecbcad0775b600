//! Keeping the manifests up to date: every month whose kept records changed (the catalog
//! marks it in `manifest_dirty`, in the transaction of the change) is written again, streamed
//! from the catalog page by page.

use rusqlite::types::Value as Sql;
use telphin_records::Order;
use telphin_records::layers::record_api::AsyncTransport;
use telphin_records::layers::record_api::bytes::Bytes;

use super::{ManifestLine, encode, manifest_key};
use crate::archive::Archive;
use crate::catalog::{Catalog, Conditions, Cursor, ENTRY_COLUMNS, KEPT, corrupt, entry_of};
use crate::error::BackupError;

/// Manifest lines are read from the catalog in pages of this many.
const MANIFEST_PAGE: usize = 256;

/// `[start, end)` of a `YYYY-MM` month, in microseconds since 1970 (UTC).
fn month_range(month: &str) -> Option<(i64, i64)> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    let micros = |day: chrono::NaiveDate| {
        day.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_micros())
    };
    Some((micros(first)?, micros(next)?))
}

impl Catalog {
    /// The months whose manifest is out of date.
    fn dirty_months(&self) -> Result<Vec<String>, BackupError> {
        self.with(|connection| {
            let mut statement =
                connection.prepare_cached("SELECT month FROM manifest_dirty ORDER BY month")?;
            let months = statement.query_map([], |row| row.get(0))?;
            months.collect()
        })
    }

    /// Up to `limit` manifest lines of `month` (`YYYY-MM`, UTC) after `after`: its kept
    /// records, oldest first.
    fn manifest_page(
        &self,
        month: &str,
        after: &Cursor,
        limit: usize,
    ) -> Result<Vec<(i64, ManifestLine)>, BackupError> {
        let (start, end) = month_range(month).ok_or_else(|| BackupError::Corrupt {
            what: "the catalog's list of manifests to write".to_owned(),
            reason: format!("{month:?} is not a month"),
        })?;
        let mut conditions = Conditions::default();
        conditions.push(KEPT, []);
        conditions.push(
            "init_time_us >= ? AND init_time_us < ?",
            [Sql::Integer(start), Sql::Integer(end)],
        );
        conditions.after(after, Order::Asc);
        let sql = format!(
            "SELECT init_time_us, {ENTRY_COLUMNS} FROM record WHERE {} \
             ORDER BY init_time_us, record_uuid LIMIT {limit}",
            conditions.clause()
        );
        self.rows(&sql, &conditions, |row| {
            let entry = entry_of(row)?;
            let line = ManifestLine::of(&entry)
                .ok_or_else(|| corrupt("a kept row", "no object key, size or SHA-256"))?;
            Ok((row.get(0)?, line))
        })
    }

    /// Forgets that `month`'s manifest was out of date (called once it is written).
    fn manifest_written(&self, month: &str) -> Result<(), BackupError> {
        self.with(|connection| {
            connection
                .prepare_cached("DELETE FROM manifest_dirty WHERE month = ?1")?
                .execute([month])
                .map(drop)
        })
    }
}

impl<T: AsyncTransport + 'static> Archive<T> {
    /// Writes the manifest of every month whose kept records changed, streamed from the
    /// catalog page by page (a month of a large call centre is hundreds of MiB of JSON).
    /// Backup, verify and purge runs call it at their end (see
    /// [`ArchiveOptions::manifests_after_each_run`](crate::ArchiveOptions::manifests_after_each_run)).
    pub async fn write_manifests(&self) -> Result<(), BackupError> {
        for month in self.catalog.dirty_months()? {
            let key = manifest_key(&month);
            let mut upload = self.target.upload(&key)?;
            let mut after = None;
            let mut text = Vec::new();
            loop {
                let page = self.catalog.manifest_page(&month, &after, MANIFEST_PAGE)?;
                let Some((time, last)) = page.last() else {
                    break;
                };
                after = Some((*time, last.record_uuid.clone()));
                let lines: Vec<ManifestLine> = page.into_iter().map(|(_, line)| line).collect();
                text.clear();
                encode(&lines, &mut text).map_err(|error| BackupError::Corrupt {
                    what: format!("the manifest of {month}"),
                    reason: error.to_string(),
                })?;
                upload.push(Bytes::copy_from_slice(&text)).await?;
            }
            if upload.size() == 0 {
                // No kept record in the month any more: no manifest.
                upload.abort().await;
                self.target.delete(&key).await?;
            } else {
                upload.finish().await?;
            }
            self.catalog.manifest_written(&month)?;
        }
        Ok(())
    }
}
