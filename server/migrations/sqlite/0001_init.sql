-- Baton's storage. Documents are the source of truth; every other table is
-- either authentication data or a projection kept in step with the documents.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per Automerge document: the compacted snapshot, and the sequence of
-- its latest commit (what catch-up reads).
CREATE TABLE documents (
    id       TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    snapshot BLOB,
    last_seq INTEGER NOT NULL DEFAULT 0,
    -- The document's heads after its latest commit, hex, comma-separated.
    heads    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX documents_last_seq ON documents (last_seq);

-- Incremental changes since the snapshot; `seq` is the server's commit sequence.
CREATE TABLE chunks (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    document TEXT NOT NULL REFERENCES documents (id),
    data     BLOB NOT NULL
);
CREATE INDEX chunks_document ON chunks (document, seq);

-- What lists, counts and search read.
CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    document         TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL,
    subject          TEXT NOT NULL,
    customer_name    TEXT NOT NULL,
    customer_email   TEXT NOT NULL,
    status           TEXT NOT NULL,
    assignee         TEXT,
    created_at       INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL,
    preview          TEXT NOT NULL,
    messages         INTEGER NOT NULL,
    seq              INTEGER NOT NULL
);
CREATE INDEX conversations_by_activity ON conversations (status, last_activity_at DESC, id DESC);
CREATE INDEX conversations_by_assignee ON conversations (assignee, status, last_activity_at DESC);

CREATE TABLE agents (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    active        INTEGER NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent      TEXT NOT NULL REFERENCES agents (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_agent ON sessions (agent);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    agent      TEXT NOT NULL REFERENCES agents (id),
    created_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_agent ON api_tokens (agent);

CREATE TABLE channels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Per agent; a batch (bulk action, workflow run) is one row with a count.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    agent        TEXT NOT NULL,
    conversation TEXT NOT NULL,
    document     TEXT NOT NULL,
    event        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    actor        TEXT,
    subject      TEXT NOT NULL,
    batch        TEXT,
    count        INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    read         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_by_agent ON notifications (agent, at DESC);
CREATE UNIQUE INDEX notifications_by_batch ON notifications (agent, batch) WHERE batch IS NOT NULL;

-- Agents' replies, for delivery to customers in commit order.
CREATE TABLE replies (
    message        TEXT PRIMARY KEY,
    seq            INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    conversation   TEXT NOT NULL,
    author         TEXT NOT NULL,
    body           TEXT NOT NULL,
    at             INTEGER NOT NULL,
    customer_email TEXT NOT NULL
);
CREATE INDEX replies_by_channel ON replies (channel, seq);

-- Which principal each Automerge actor id belongs to.
CREATE TABLE actors (
    actor     TEXT PRIMARY KEY,
    principal TEXT NOT NULL
);
