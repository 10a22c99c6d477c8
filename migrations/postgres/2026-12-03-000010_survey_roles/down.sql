-- Back to the two roles of the first instrument; fails if a wave has other roles' rows.
ALTER TABLE invitations
    DROP CONSTRAINT invitations_role_check,
    ADD CONSTRAINT invitations_role_check CHECK (role IN ('manager', 'peer_worker'));
ALTER TABLE responses
    DROP CONSTRAINT responses_role_check,
    ADD CONSTRAINT responses_role_check CHECK (role IN ('manager', 'peer_worker'));
