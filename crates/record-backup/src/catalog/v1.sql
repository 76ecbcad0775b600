-- Every listed record, its metadata and its backup state.
CREATE TABLE record (
    record_uuid TEXT PRIMARY KEY NOT NULL,
    -- init_time_gmt in microseconds since 1970 (UTC), for periods and order.
    init_time_us INTEGER NOT NULL,
    -- The record as the API listed it, unknown fields included.
    record_json TEXT NOT NULL,
    first_listed_at TEXT NOT NULL,
    last_listed_at TEXT NOT NULL,
    object_key TEXT,
    stored_size INTEGER,
    sha256 TEXT,
    stored_at TEXT,
    verified_at TEXT,
    deleted_from_pbx_at TEXT,
    last_error TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    -- A bearer secret: never logged, never shown.
    storage_link TEXT,
    -- The documented fields, read from record_json.
    ani_number TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.ani_number')) VIRTUAL,
    application TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.application')) VIRTUAL,
    call_uuid TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.call_uuid')) VIRTUAL,
    client_owner_id INTEGER GENERATED ALWAYS AS (json_extract(record_json, '$.client_owner_id')) VIRTUAL,
    dest_domain TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.dest_domain')) VIRTUAL,
    dest_number TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.dest_number')) VIRTUAL,
    did_domain TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.did_domain')) VIRTUAL,
    did_number TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.did_number')) VIRTUAL,
    duration INTEGER GENERATED ALWAYS AS (json_extract(record_json, '$.duration')) VIRTUAL,
    ext_number_reg TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.ext_number_reg')) VIRTUAL,
    extension_group_owner_id INTEGER GENERATED ALWAYS AS (json_extract(record_json, '$.extension_group_owner_id')) VIRTUAL,
    extension_id INTEGER GENERATED ALWAYS AS (json_extract(record_json, '$.extension_id')) VIRTUAL,
    extension_name TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.extension_name')) VIRTUAL,
    extension_type TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.extension_type')) VIRTUAL,
    flow TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.flow')) VIRTUAL,
    from_domain TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.from_domain')) VIRTUAL,
    from_screen_name TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.from_screen_name')) VIRTUAL,
    from_username TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.from_username')) VIRTUAL,
    hangup_cause TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.hangup_cause')) VIRTUAL,
    hangup_disposition TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.hangup_disposition')) VIRTUAL,
    hangup_time_gmt TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.hangup_time_gmt')) VIRTUAL,
    init_time_gmt TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.init_time_gmt')) VIRTUAL,
    record_file_size INTEGER GENERATED ALWAYS AS (json_extract(record_json, '$.record_file_size')) VIRTUAL,
    result TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.result')) VIRTUAL,
    source_domain TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.source_domain')) VIRTUAL,
    source_number TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.source_number')) VIRTUAL,
    start_time_gmt TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.start_time_gmt')) VIRTUAL,
    to_domain TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.to_domain')) VIRTUAL,
    to_username TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.to_username')) VIRTUAL,
    file_name TEXT GENERATED ALWAYS AS (json_extract(record_json, '$.file_name')) VIRTUAL,
    record_transfer INTEGER GENERATED ALWAYS AS (json_extract(record_json, '$.record_transfer')) VIRTUAL
);
CREATE INDEX record_by_time ON record (init_time_us, record_uuid);
CREATE INDEX record_by_extension ON record (extension_id, init_time_us);
CREATE INDEX record_kept ON record (stored_at) WHERE stored_at IS NOT NULL;
-- Months (UTC, YYYY-MM) whose manifest object is older than the catalog.
CREATE TABLE manifest_dirty (month TEXT PRIMARY KEY NOT NULL);
