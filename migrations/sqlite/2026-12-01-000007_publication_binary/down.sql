DROP TABLE analytics_cache;
CREATE TABLE analytics_cache (
    wave_id       TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    cache_key     TEXT NOT NULL,
    data_version  BIGINT NOT NULL,
    payload       TEXT NOT NULL,
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (wave_id, cache_key)
);
