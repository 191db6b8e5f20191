-- Several nodes on one database.
--
-- The commit clock: every write transaction locks this one row first and
-- hands out commit sequences from it, releasing it only at COMMIT. Sequences
-- therefore become visible in order and without gaps, and the clock read in
-- any snapshot is a watermark: nothing at or below it can appear later.
CREATE TABLE commit_clock (
    id  SMALLINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO commit_clock (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM chunks;
ALTER TABLE commit_clock SET (fillfactor = 10);

-- What one node decided and every other node must push to its sockets:
-- notifications, read marks, sessions ended. Each row takes a sequence from
-- the clock, so nodes tail it by sequence like the documents.
CREATE TABLE outbox (
    seq  BIGINT PRIMARY KEY,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX outbox_by_time ON outbox (at);
