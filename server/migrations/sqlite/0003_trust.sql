-- When each agent was connected: a change stamped at a time the server saw
-- its author online must have arrived then (backdating is refused). One row
-- per connection; `seen` is refreshed while it is open, so a crash still
-- leaves a bound on when it ended.
CREATE TABLE online_spans (
    id      TEXT PRIMARY KEY,
    agent   TEXT NOT NULL,
    started INTEGER NOT NULL,
    seen    INTEGER NOT NULL,
    ended   INTEGER
);
CREATE INDEX online_spans_by_agent ON online_spans (agent, started);

-- When each agent first connected, kept when old spans are pruned.
CREATE TABLE online_first (
    agent TEXT PRIMARY KEY,
    at    INTEGER NOT NULL
);

-- Replies are keyed per conversation: message ids are chosen by clients,
-- so one agent reusing another conversation's id suppresses nothing.
CREATE TABLE replies_by_conversation (
    message        TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    conversation   TEXT NOT NULL,
    author         TEXT NOT NULL,
    body           TEXT NOT NULL,
    at             INTEGER NOT NULL,
    customer_email TEXT NOT NULL,
    PRIMARY KEY (conversation, message)
);
INSERT INTO replies_by_conversation
    SELECT message, seq, channel, conversation, author, body, at, customer_email FROM replies;
DROP TABLE replies;
ALTER TABLE replies_by_conversation RENAME TO replies;
CREATE INDEX replies_by_channel ON replies (channel, seq);

-- API tokens may expire; each can be revoked on its own.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
