ALTER TABLE users DROP COLUMN sessions_ended_at;
