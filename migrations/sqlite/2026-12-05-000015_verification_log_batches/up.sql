-- The verification log in batches (issue 23): one row per batch the writer stores (up to 5,000
-- entries, as a JSON array of [id, client_id, type, query, result, at]), instead of a row and
-- three index entries per verification. An answer's share of the log's cost falls to encoding
-- its entry; the list endpoint decodes the batches it needs (src/verify/log.rs).
CREATE TABLE verification_log_batches (
    first_id TEXT PRIMARY KEY NOT NULL,
    last_id TEXT NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    entries INTEGER NOT NULL CHECK (entries > 0),
    -- The batch's distinct client ids and results, each list between commas (",a,b,"), so a
    -- filtered list skips the batches that cannot match without decoding them.
    clients TEXT NOT NULL,
    results TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX verification_log_batches_last_id ON verification_log_batches (last_id);
CREATE INDEX verification_log_batches_first_at ON verification_log_batches (first_at);

INSERT INTO verification_log_batches
    (first_id, last_id, first_at, last_at, entries, clients, results, body)
SELECT min(id), max(id), min(at), max(at), count(*),
       ',' || group_concat(DISTINCT client_id) || ',', ',' || group_concat(DISTINCT result) || ',',
       json_group_array(json_array(id, client_id, query_type, query, result, at))
FROM (SELECT *, (row_number() OVER (ORDER BY id) - 1) / 1000 AS batch
      FROM verification_log ORDER BY id)
GROUP BY batch;

DROP TABLE verification_log;
