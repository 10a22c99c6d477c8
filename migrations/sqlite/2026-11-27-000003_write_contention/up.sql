-- Two things every submission wrote that made concurrent submissions wait for each other.
--
-- An index on (wave_id, item_code) put each of a response's ~35 answers on a different
-- leaf page, so every submission dirtied ~35 index pages (140 KB of WAL on SQLite) and
-- cost a quarter of the server's CPU per respondent. Analytics reads a wave's answers
-- whole, so an index on the wave alone serves it, and a new response's entries sit
-- together at its end.
DROP INDEX answers_wave_item;
CREATE INDEX answers_wave ON answers (wave_id);

-- One data-version counter on the wave row meant every submission of a wave took the same
-- row lock until its commit, so PostgreSQL could not group their commits. The version is
-- now the sum of a few counters; a change bumps one of them, picked at random.
CREATE TABLE wave_data_versions (
    wave_id  TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    shard    INTEGER NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (wave_id, shard)
);
INSERT INTO wave_data_versions (wave_id, shard, version) SELECT id, 0, data_version FROM waves;
ALTER TABLE waves DROP COLUMN data_version;
