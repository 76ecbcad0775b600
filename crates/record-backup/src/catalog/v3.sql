-- Schema 3: flow, result and a minimum duration that few calls have (none, say: busy calls of
-- an hour) are found through this index instead of walking every call of that flow and result.
-- Partial: only a query that says `duration > 0` may use it, so no other plan picks it.
CREATE INDEX record_by_duration ON record (flow, result, duration) WHERE duration > 0;
