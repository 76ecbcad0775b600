-- Schema 5: retention, legal holds and erasure, with proof.
-- Legal holds: while one is active (not released, its end not reached), no record it covers is
-- purged, expired or erased.
CREATE TABLE hold (
    hold_id INTEGER PRIMARY KEY,
    -- 'number', 'extension', 'recording' or 'period'.
    kind TEXT NOT NULL,
    -- A number hold: the range of reversed digits it covers, [number_from, number_until).
    number_from TEXT,
    number_until TEXT,
    extension_id INTEGER,
    record_uuid TEXT,
    -- A period hold: calls that started in [from_us, until_us).
    from_us INTEGER,
    until_us INTEGER,
    -- What the hold is on, as the operator gave it.
    subject TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The hold ends by itself at this instant (microseconds), if given.
    ends_us INTEGER,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    released_at TEXT,
    released_by TEXT
);
-- What is left of a destroyed record (erased, or expired by the retention policy): no personal
-- data. A record with a tombstone is never catalogued again.
CREATE TABLE tombstone (
    record_uuid TEXT PRIMARY KEY NOT NULL,
    init_time_us INTEGER NOT NULL,
    size INTEGER,
    sha256 TEXT,
    -- HMAC-SHA256 of the erased number's digits under the operator's key (erasure only).
    number_hash TEXT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    operator TEXT NOT NULL,
    destroyed_at TEXT NOT NULL,
    audit_seq INTEGER NOT NULL
) WITHOUT ROWID;
-- The audit log: every destructive action, each entry holding the hash of the one before.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    -- The entry's JSON line, as hashed.
    line TEXT NOT NULL,
    hash TEXT NOT NULL,
    -- Whether the target's _audit/ holds it.
    exported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_by_time ON audit (at);
CREATE INDEX audit_to_export ON audit (seq) WHERE exported = 0;
-- The records still on the PBX (the last N days of a purged PBX): purge reads them without
-- walking the years already purged.
CREATE INDEX record_on_pbx ON record (init_time_us, record_uuid) WHERE deleted_from_pbx_at IS NULL;
