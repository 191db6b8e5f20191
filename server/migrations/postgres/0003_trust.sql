-- When each agent was connected (as SQLite's 0003): a change stamped at a time
-- the server saw its author online must have arrived then.
CREATE TABLE online_spans (
    id      TEXT PRIMARY KEY,
    agent   TEXT NOT NULL,
    started BIGINT NOT NULL,
    seen    BIGINT NOT NULL,
    ended   BIGINT
);
CREATE INDEX online_spans_by_agent ON online_spans (agent, started);

CREATE TABLE online_first (
    agent TEXT PRIMARY KEY,
    at    BIGINT NOT NULL
);

-- Replies are keyed per conversation: message ids are chosen by clients.
ALTER TABLE replies DROP CONSTRAINT replies_pkey;
ALTER TABLE replies ADD PRIMARY KEY (conversation, message);

-- API tokens may expire; each can be revoked on its own.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
