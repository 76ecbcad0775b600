-- Schema 4: what a long-running service asks at every sync, answered without a scan.
-- The records still to be kept (few at any time), through a partial index whose condition is
-- the catalog's PENDING, word for word.
CREATE INDEX record_pending ON record (init_time_us, record_uuid)
    WHERE (stored_at IS NULL AND deleted_from_pbx_at IS NULL);
-- How far each scope's listing is known complete: a sync resumes from there after a restart.
CREATE TABLE sync_point (
    scope TEXT PRIMARY KEY NOT NULL,
    complete_through_us INTEGER NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
