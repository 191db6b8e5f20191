-- What each notification tells, as one kind (shared::notify::NoticeKind),
-- instead of an event and a reason.
UPDATE notifications SET event = CASE
    WHEN event = 'settled' THEN 'lost'
    WHEN event = 'message' AND reason = 'assignee' THEN 'assignee_message'
    WHEN event = 'message' THEN 'new_message'
    WHEN reason = 'assigned_to_you' THEN 'assigned_to_you'
    WHEN reason = 'moved_away' THEN 'moved_away'
    ELSE 'left_unassigned'
END;
ALTER TABLE notifications RENAME COLUMN event TO kind;
ALTER TABLE notifications DROP COLUMN reason;
