-- A wave's publication counts invitations per service and role, leaving out withdrawn
-- ones. This index, which replaces the one on (wave_id, service_id, role) with the same
-- leading columns, also holds the status, so the count is a scan of one index instead
-- of a table lookup per invitation: 0.18 s instead of 3.4 s for a million invitations
-- on SQLite (docs/performance.md).
CREATE INDEX invitations_wave_service_status ON invitations (wave_id, service_id, role, status);
DROP INDEX invitations_wave_service;
-- Checking a respondent list looks up only the listed people (by panel pseudonym), not
-- every invitation of the wave: inviting costs the same in a wave of a million.
CREATE INDEX invitations_wave_pseudonym ON invitations (wave_id, panel_pseudonym);
