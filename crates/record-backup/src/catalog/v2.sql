-- Schema 2: search by index. The numbers of each record (digits, last first) for whole and
-- "ends with" matches, and the filters' indexes in the order pages are read (call time).
CREATE TABLE record_number (
    -- The digits of one number field, last digit first: "ends with" is a prefix range.
    digits_reversed TEXT NOT NULL,
    init_time_us INTEGER NOT NULL,
    -- No foreign key (and no second index): a record's rows are found by their key, from
    -- its own numbers, when it is listed again or erased.
    record_uuid TEXT NOT NULL,
    PRIMARY KEY (digits_reversed, init_time_us, record_uuid)
) WITHOUT ROWID;
DROP INDEX record_by_extension;
CREATE INDEX record_by_extension ON record (extension_id, init_time_us, record_uuid);
CREATE INDEX record_by_group ON record (extension_group_owner_id, init_time_us, record_uuid);
CREATE INDEX record_by_outcome ON record (flow, result, init_time_us, record_uuid, duration);
