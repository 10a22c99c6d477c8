-- Respondent roles come from the survey file (any number: manager, peer_worker, staff,
-- ...), so the role columns no longer list two codes: they hold any well-formed role
-- code (RespondentRole::parse says the same), and whether the wave's instrument declares
-- it is checked where a role enters.
ALTER TABLE invitations
    DROP CONSTRAINT invitations_role_check,
    ADD CONSTRAINT invitations_role_check CHECK (role ~ '^[a-z][a-z0-9_]{0,23}$');
ALTER TABLE responses
    DROP CONSTRAINT responses_role_check,
    ADD CONSTRAINT responses_role_check CHECK (role ~ '^[a-z][a-z0-9_]{0,23}$');
