-- Automatic reminders follow each open wave's schedule; an admin may pause them for a
-- wave (and resume) without changing the schedule.
ALTER TABLE waves ADD COLUMN reminders_paused BOOLEAN NOT NULL DEFAULT FALSE;
