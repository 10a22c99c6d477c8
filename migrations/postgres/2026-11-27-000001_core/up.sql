-- samskap core model (PostgreSQL). Kept column-for-column identical to the SQLite
-- migration of the same name; src/db/schema.rs describes both.

CREATE TABLE regions (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('health_region', 'county', 'municipality')),
    name        TEXT NOT NULL,
    code        TEXT,
    parent_id   TEXT REFERENCES regions (id),
    created_at  TIMESTAMP NOT NULL,
    CHECK ((kind = 'health_region') = (parent_id IS NULL))
);
CREATE UNIQUE INDEX regions_top_name ON regions (name) WHERE parent_id IS NULL;
CREATE UNIQUE INDEX regions_parent_name ON regions (parent_id, name) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX regions_kind_code ON regions (kind, code) WHERE code IS NOT NULL;

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    org_number  TEXT UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE services (
    id                TEXT PRIMARY KEY NOT NULL,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    service_type      TEXT NOT NULL CHECK (service_type IN ('dps', 'hospital_ward', 'bup', 'tsb', 'municipal', 'act', 'low_threshold')),
    size_band         TEXT NOT NULL CHECK (size_band IN ('1-9', '10-29', '30-99', '100+')),
    organisation_id   TEXT NOT NULL REFERENCES organisations (id),
    municipality_id   TEXT NOT NULL REFERENCES regions (id),
    county_id         TEXT NOT NULL REFERENCES regions (id),
    health_region_id  TEXT NOT NULL REFERENCES regions (id),
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX services_organisation ON services (organisation_id);
CREATE INDEX services_municipality ON services (municipality_id);
CREATE INDEX services_county ON services (county_id);
CREATE INDEX services_health_region ON services (health_region_id);
CREATE INDEX services_type ON services (service_type);

CREATE TABLE instruments (
    id            TEXT PRIMARY KEY NOT NULL,
    survey_id     TEXT NOT NULL,
    version       TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    title         TEXT NOT NULL,
    definition    TEXT NOT NULL,
    source        TEXT NOT NULL,
    loaded_at     TIMESTAMP NOT NULL,
    UNIQUE (survey_id, version)
);

CREATE TABLE waves (
    id                      TEXT PRIMARY KEY NOT NULL,
    name                    TEXT NOT NULL,
    instrument_id           TEXT NOT NULL REFERENCES instruments (id),
    status                  TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    anonymity               TEXT NOT NULL DEFAULT 'linked' CHECK (anonymity IN ('linked', 'anonymous')),
    opens_at                TIMESTAMP,
    closes_at               TIMESTAMP,
    reminder_max            INTEGER NOT NULL DEFAULT 2,
    reminder_interval_days  INTEGER NOT NULL DEFAULT 7,
    email_retention_days    INTEGER NOT NULL DEFAULT 90,
    data_version            BIGINT NOT NULL DEFAULT 0,
    created_at              TIMESTAMP NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    opened_at               TIMESTAMP,
    closed_at               TIMESTAMP
);
CREATE INDEX waves_instrument ON waves (instrument_id);

-- The hierarchy as it stood when the wave was launched: later moves of a service
-- (new municipality, merged organisation) never rewrite an earlier wave's results.
CREATE TABLE wave_services (
    wave_id           TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    service_id        TEXT NOT NULL REFERENCES services (id),
    service_code      TEXT NOT NULL,
    service_name      TEXT NOT NULL,
    service_type      TEXT NOT NULL,
    size_band         TEXT NOT NULL,
    organisation_id   TEXT NOT NULL REFERENCES organisations (id),
    municipality_id   TEXT NOT NULL REFERENCES regions (id),
    county_id         TEXT NOT NULL REFERENCES regions (id),
    health_region_id  TEXT NOT NULL REFERENCES regions (id),
    PRIMARY KEY (wave_id, service_id)
);
CREATE INDEX wave_services_service ON wave_services (service_id);

CREATE TABLE invitations (
    id               TEXT PRIMARY KEY NOT NULL,
    wave_id          TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('manager', 'peer_worker')),
    email            TEXT,
    language         TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    panel_pseudonym  TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'started', 'submitted', 'withdrawn', 'failed')),
    reminder_count   INTEGER NOT NULL DEFAULT 0,
    sent_at          TIMESTAMP,
    last_reminded_at TIMESTAMP,
    expires_at       TIMESTAMP,
    email_erased_at  TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    FOREIGN KEY (wave_id, service_id) REFERENCES wave_services (wave_id, service_id) ON DELETE CASCADE,
    UNIQUE (wave_id, panel_pseudonym)
);
CREATE INDEX invitations_wave_status ON invitations (wave_id, status);
CREATE INDEX invitations_wave_service ON invitations (wave_id, service_id, role);

CREATE TABLE responses (
    id               TEXT PRIMARY KEY NOT NULL,
    wave_id          TEXT NOT NULL,
    service_id       TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('manager', 'peer_worker')),
    invitation_id    TEXT UNIQUE REFERENCES invitations (id) ON DELETE SET NULL,
    resume_key_hash  TEXT UNIQUE,
    panel_pseudonym  TEXT,
    language         TEXT NOT NULL,
    consent_at       TIMESTAMP,
    current_page     TEXT,
    started_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    submitted_at     TIMESTAMP,
    FOREIGN KEY (wave_id, service_id) REFERENCES wave_services (wave_id, service_id) ON DELETE CASCADE
);
CREATE INDEX responses_wave_service_role ON responses (wave_id, service_id, role);
CREATE INDEX responses_wave_submitted ON responses (wave_id, submitted_at);

CREATE TABLE answers (
    response_id   TEXT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    wave_id       TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    item_code     TEXT NOT NULL,
    value         DOUBLE PRECISION,
    text_value    TEXT,
    missing_code  TEXT,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (response_id, item_code),
    CHECK (num_nonnulls(value, text_value, missing_code) = 1)
);
CREATE INDEX answers_wave_item ON answers (wave_id, item_code);

CREATE TABLE users (
    id             TEXT PRIMARY KEY NOT NULL,
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'policymaker', 'researcher')),
    password_hash  TEXT NOT NULL,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    last_login_at  TIMESTAMP
);

CREATE TABLE user_scopes (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope_kind  TEXT NOT NULL CHECK (scope_kind IN ('service', 'organisation', 'region', 'wave')),
    scope_id    TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (user_id, scope_kind, scope_id)
);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    expires_at    TIMESTAMP,
    revoked_at    TIMESTAMP
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE audit_log (
    id             BIGSERIAL PRIMARY KEY,
    occurred_at    TIMESTAMP NOT NULL,
    actor_user_id  TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    target_kind    TEXT,
    target_id      TEXT,
    details        TEXT,
    ip             TEXT
);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, occurred_at);
CREATE INDEX audit_log_action ON audit_log (action, occurred_at);

CREATE TABLE outbox (
    id               BIGSERIAL PRIMARY KEY,
    kind             TEXT NOT NULL,
    dedupe_key       TEXT NOT NULL UNIQUE,
    to_address       TEXT NOT NULL,
    language         TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    wave_id          TEXT REFERENCES waves (id) ON DELETE CASCADE,
    invitation_id    TEXT REFERENCES invitations (id) ON DELETE SET NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    claimed_by       TEXT,
    claimed_until    TIMESTAMP,
    last_error       TEXT,
    sent_at          TIMESTAMP,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_wave ON outbox (wave_id);

-- Analytics results per wave, valid while waves.data_version still equals data_version.
CREATE TABLE analytics_cache (
    wave_id       TEXT NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    cache_key     TEXT NOT NULL,
    data_version  BIGINT NOT NULL,
    payload       TEXT NOT NULL,
    computed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (wave_id, cache_key)
);
