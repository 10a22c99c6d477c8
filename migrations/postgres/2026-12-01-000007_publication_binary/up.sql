-- A stored publication is MessagePack compressed with zstd (about 16 MB instead of
-- 160 MB of JSON for a national wave): binary, so the column is a BYTEA, stored out of
-- line without PostgreSQL's own compression (it would only try to squeeze zstd output).
-- The table is a cache, so its rows are simply dropped.
DROP TABLE analytics_cache;
CREATE TABLE analytics_cache (
    wave_id       TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    cache_key     TEXT NOT NULL,
    data_version  BIGINT NOT NULL,
    payload       BYTEA NOT NULL,
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (wave_id, cache_key)
);
ALTER TABLE analytics_cache ALTER COLUMN payload SET STORAGE EXTERNAL;
