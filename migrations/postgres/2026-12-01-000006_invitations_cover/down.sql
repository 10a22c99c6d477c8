DROP INDEX invitations_wave_pseudonym;
CREATE INDEX invitations_wave_service ON invitations (wave_id, service_id, role);
DROP INDEX invitations_wave_service_status;
