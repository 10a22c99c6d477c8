ALTER TABLE waves DROP COLUMN reminders_paused;
