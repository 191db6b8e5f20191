-- Workflows (as SQLite's 0002). A run's key ({workflow}/{event key}) is unique
-- and is inserted in the same commit as the run's effect on the conversation,
-- so a retried event or a second server node can never run a workflow twice.
CREATE TABLE workflow_runs (
    key           TEXT PRIMARY KEY,
    workflow      TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    conversation  TEXT NOT NULL,
    document      TEXT NOT NULL,
    event         TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    run           TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX workflow_runs_by_time ON workflow_runs (at DESC, key DESC);

-- The agent each round-robin workflow picked last.
CREATE TABLE workflow_cursors (
    workflow TEXT PRIMARY KEY,
    agent    TEXT NOT NULL
);

ALTER TABLE conversations ADD COLUMN unassigned_since BIGINT;
UPDATE conversations SET unassigned_since = created_at
    WHERE assignee IS NULL AND status = 'open';
CREATE INDEX conversations_unassigned_since ON conversations (unassigned_since)
    WHERE unassigned_since IS NOT NULL;
