-- Signing out ends every session of the account on the server, not only the cookie in
-- one browser: sessions signed in before this time (unix milliseconds) are refused.
ALTER TABLE users ADD COLUMN sessions_ended_at BIGINT;
