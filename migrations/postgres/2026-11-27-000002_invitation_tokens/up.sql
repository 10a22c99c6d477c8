-- Every link ever sent for an invitation stays valid: reminders carry a fresh token
-- (tokens are stored only as hashes, so a reminder cannot repeat the first one).
CREATE TABLE invitation_tokens (
    token_hash     TEXT PRIMARY KEY NOT NULL,
    invitation_id  TEXT NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX invitation_tokens_invitation ON invitation_tokens (invitation_id);
