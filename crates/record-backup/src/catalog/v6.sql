-- Schema 6: what the web page reads without a scan, kept up to date by triggers in the
-- transaction of every change to a record (listed, stored, purged, destroyed).
-- Calls per UTC hour (hours since 1970), direction and result: a day in any time zone of whole
-- hours is 24 of them.
CREATE TABLE call_hour (
    hour INTEGER NOT NULL,
    -- '' when the record has none.
    flow TEXT NOT NULL,
    result TEXT NOT NULL,
    calls INTEGER NOT NULL,
    seconds INTEGER NOT NULL,
    PRIMARY KEY (hour, flow, result)
) WITHOUT ROWID;
-- Per UTC month (YYYY-MM): the records listed, those still on the PBX, those kept and their
-- bytes, and the bytes the PBX gave for them.
CREATE TABLE storage_month (
    month TEXT PRIMARY KEY NOT NULL,
    records INTEGER NOT NULL,
    on_pbx INTEGER NOT NULL,
    on_pbx_bytes INTEGER NOT NULL,
    kept INTEGER NOT NULL,
    kept_bytes INTEGER NOT NULL
) WITHOUT ROWID;
-- Who listened to or downloaded which recording, when and from where (the web page).
CREATE TABLE access (
    access_id INTEGER PRIMARY KEY,
    record_uuid TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    user TEXT NOT NULL,
    address TEXT NOT NULL,
    -- 'play' or 'download'.
    action TEXT NOT NULL
);
CREATE INDEX access_by_record ON access (record_uuid, at_us);
CREATE INDEX access_by_time ON access (at_us);

CREATE TRIGGER record_figures_added AFTER INSERT ON record BEGIN
    INSERT INTO call_hour (hour, flow, result, calls, seconds)
    VALUES (NEW.init_time_us / 3600000000, coalesce(NEW.flow, ''), coalesce(NEW.result, ''), 1,
            coalesce(NEW.duration, 0))
    ON CONFLICT (hour, flow, result) DO UPDATE
        SET calls = calls + 1, seconds = seconds + excluded.seconds;
    INSERT INTO storage_month (month, records, on_pbx, on_pbx_bytes, kept, kept_bytes)
    VALUES (strftime('%Y-%m', NEW.init_time_us / 1000000, 'unixepoch'), 1,
            NEW.deleted_from_pbx_at IS NULL,
            CASE WHEN NEW.deleted_from_pbx_at IS NULL THEN coalesce(NEW.record_file_size, 0) ELSE 0 END,
            NEW.stored_at IS NOT NULL,
            CASE WHEN NEW.stored_at IS NOT NULL THEN coalesce(NEW.stored_size, 0) ELSE 0 END)
    ON CONFLICT (month) DO UPDATE SET records = records + 1,
        on_pbx = on_pbx + excluded.on_pbx, on_pbx_bytes = on_pbx_bytes + excluded.on_pbx_bytes,
        kept = kept + excluded.kept, kept_bytes = kept_bytes + excluded.kept_bytes;
END;

CREATE TRIGGER record_figures_removed AFTER DELETE ON record BEGIN
    UPDATE call_hour SET calls = calls - 1, seconds = seconds - coalesce(OLD.duration, 0)
    WHERE hour = OLD.init_time_us / 3600000000 AND flow = coalesce(OLD.flow, '')
      AND result = coalesce(OLD.result, '');
    UPDATE storage_month SET records = records - 1,
        on_pbx = on_pbx - (OLD.deleted_from_pbx_at IS NULL),
        on_pbx_bytes = on_pbx_bytes - CASE WHEN OLD.deleted_from_pbx_at IS NULL
            THEN coalesce(OLD.record_file_size, 0) ELSE 0 END,
        kept = kept - (OLD.stored_at IS NOT NULL),
        kept_bytes = kept_bytes - CASE WHEN OLD.stored_at IS NOT NULL
            THEN coalesce(OLD.stored_size, 0) ELSE 0 END
    WHERE month = strftime('%Y-%m', OLD.init_time_us / 1000000, 'unixepoch');
END;

-- A record listed again (its fields may change) or its state changed: out with the old
-- figures, in with the new.
CREATE TRIGGER record_figures_relisted AFTER UPDATE OF init_time_us, record_json ON record BEGIN
    UPDATE call_hour SET calls = calls - 1, seconds = seconds - coalesce(OLD.duration, 0)
    WHERE hour = OLD.init_time_us / 3600000000 AND flow = coalesce(OLD.flow, '')
      AND result = coalesce(OLD.result, '');
    INSERT INTO call_hour (hour, flow, result, calls, seconds)
    VALUES (NEW.init_time_us / 3600000000, coalesce(NEW.flow, ''), coalesce(NEW.result, ''), 1,
            coalesce(NEW.duration, 0))
    ON CONFLICT (hour, flow, result) DO UPDATE
        SET calls = calls + 1, seconds = seconds + excluded.seconds;
END;

CREATE TRIGGER record_figures_changed
AFTER UPDATE OF init_time_us, record_json, stored_at, stored_size, deleted_from_pbx_at ON record
BEGIN
    UPDATE storage_month SET records = records - 1,
        on_pbx = on_pbx - (OLD.deleted_from_pbx_at IS NULL),
        on_pbx_bytes = on_pbx_bytes - CASE WHEN OLD.deleted_from_pbx_at IS NULL
            THEN coalesce(OLD.record_file_size, 0) ELSE 0 END,
        kept = kept - (OLD.stored_at IS NOT NULL),
        kept_bytes = kept_bytes - CASE WHEN OLD.stored_at IS NOT NULL
            THEN coalesce(OLD.stored_size, 0) ELSE 0 END
    WHERE month = strftime('%Y-%m', OLD.init_time_us / 1000000, 'unixepoch');
    INSERT INTO storage_month (month, records, on_pbx, on_pbx_bytes, kept, kept_bytes)
    VALUES (strftime('%Y-%m', NEW.init_time_us / 1000000, 'unixepoch'), 1,
            NEW.deleted_from_pbx_at IS NULL,
            CASE WHEN NEW.deleted_from_pbx_at IS NULL THEN coalesce(NEW.record_file_size, 0) ELSE 0 END,
            NEW.stored_at IS NOT NULL,
            CASE WHEN NEW.stored_at IS NOT NULL THEN coalesce(NEW.stored_size, 0) ELSE 0 END)
    ON CONFLICT (month) DO UPDATE SET records = records + 1,
        on_pbx = on_pbx + excluded.on_pbx, on_pbx_bytes = on_pbx_bytes + excluded.on_pbx_bytes,
        kept = kept + excluded.kept, kept_bytes = kept_bytes + excluded.kept_bytes;
END;
