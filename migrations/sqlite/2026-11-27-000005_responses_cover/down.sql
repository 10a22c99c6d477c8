CREATE INDEX responses_wave_submitted ON responses (wave_id, submitted_at);
DROP INDEX responses_wave_submitted_cover;
