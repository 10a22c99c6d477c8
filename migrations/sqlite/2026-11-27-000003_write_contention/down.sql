ALTER TABLE waves ADD COLUMN data_version BIGINT NOT NULL DEFAULT 0;
UPDATE waves SET data_version = COALESCE((SELECT SUM(version) FROM wave_data_versions v WHERE v.wave_id = waves.id), 0);
DROP TABLE wave_data_versions;
DROP INDEX answers_wave;
CREATE INDEX answers_wave_item ON answers (wave_id, item_code);
