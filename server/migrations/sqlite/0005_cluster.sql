-- Several processes on one database (see postgres/0005_cluster.sql).
--
-- The commit clock: every write transaction updates this one row first and
-- hands out commit sequences from it. Chunks get their sequence from here
-- from now on, not from the rowid.
CREATE TABLE commit_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO commit_clock (id, seq) SELECT 1, MAX(
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'chunks'), 0),
    COALESCE((SELECT MAX(seq) FROM chunks), 0));

-- What one process decided and every other must push to its sockets.
CREATE TABLE outbox (
    seq  INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX outbox_by_time ON outbox (at);

-- Sign-in looks addresses up by lower(email) on both engines.
CREATE INDEX agents_email_lower ON agents (lower(email));
