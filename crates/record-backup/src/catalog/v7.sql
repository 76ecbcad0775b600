-- Schema 7: deletion acts kept in the catalog before the first record goes, and signed
-- checkpoints of the audit log.
-- A destruction run's act: opened (committed) before its first record is destroyed, closed
-- at its end; an act still open or not yet stored in the target is finished by the next run
-- that opens the catalog for writing.
CREATE TABLE act (
    act_id TEXT PRIMARY KEY NOT NULL,
    -- 'erase' or 'expire'.
    action TEXT NOT NULL,
    operator TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- What it covers: the scope, and the policy (expiry) as JSON.
    scope TEXT NOT NULL,
    policy TEXT,
    -- The data subject's identifier: the keyed hash of the erased number.
    subject_hash TEXT,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    -- 'complete', 'partial', 'paused', 'failed: …' or 'interrupted' (closed by a later run).
    outcome TEXT,
    -- The directory the run that opened it writes its files to, besides the target.
    act_dir TEXT,
    -- When its files were written to the target's _acts/ (and to act_dir).
    stored_at TEXT
) WITHOUT ROWID;
CREATE INDEX act_unfinished ON act (act_id) WHERE stored_at IS NULL;
-- Each record of an act: destroyed (written in the transaction of its tombstone) or found and
-- not destroyed (refused), in the order they were met.
CREATE TABLE act_record (
    act_id TEXT NOT NULL REFERENCES act (act_id),
    line INTEGER NOT NULL,
    record_uuid TEXT NOT NULL,
    call_time_us INTEGER NOT NULL,
    size INTEGER,
    sha256 TEXT,
    -- The places, comma-separated (destroyed), or NULL (refused).
    destroyed TEXT,
    destroyed_at TEXT,
    audit_seq INTEGER,
    audit_hash TEXT,
    -- Why it was not destroyed.
    refused TEXT,
    PRIMARY KEY (act_id, line)
) WITHOUT ROWID;
-- The audit log's signed checkpoints: its size, its Merkle tree hash, the hash of its last
-- entry, signed; with the tree's frontier so that the next one reads only what came since.
CREATE TABLE checkpoint (
    size INTEGER PRIMARY KEY,
    json TEXT NOT NULL,
    frontier TEXT NOT NULL,
    exported INTEGER NOT NULL DEFAULT 0
);
