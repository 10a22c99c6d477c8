//! The one schema both backends share. Written by hand to match `migrations/sqlite` and
//! `migrations/postgres` (identical names and columns); `tests/api/migrations.rs` checks
//! that every table and column here exists on the running backend.

diesel::table! {
    regions (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        code -> Nullable<Text>,
        parent_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        org_number -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    services (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        service_type -> Text,
        size_band -> Text,
        organisation_id -> Text,
        municipality_id -> Text,
        county_id -> Text,
        health_region_id -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instruments (id) {
        id -> Text,
        survey_id -> Text,
        version -> Text,
        content_hash -> Text,
        title -> Text,
        definition -> Text,
        source -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    waves (id) {
        id -> Text,
        name -> Text,
        instrument_id -> Text,
        status -> Text,
        anonymity -> Text,
        opens_at -> Nullable<Timestamp>,
        closes_at -> Nullable<Timestamp>,
        reminder_max -> Integer,
        reminder_interval_days -> Integer,
        email_retention_days -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        opened_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        reminders_paused -> Bool,
    }
}

diesel::table! {
    wave_services (wave_id, service_id) {
        wave_id -> Text,
        service_id -> Text,
        service_code -> Text,
        service_name -> Text,
        service_type -> Text,
        size_band -> Text,
        organisation_id -> Text,
        municipality_id -> Text,
        county_id -> Text,
        health_region_id -> Text,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        wave_id -> Text,
        service_id -> Text,
        role -> Text,
        email -> Nullable<Text>,
        language -> Text,
        token_hash -> Text,
        panel_pseudonym -> Text,
        status -> Text,
        reminder_count -> Integer,
        sent_at -> Nullable<Timestamp>,
        last_reminded_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        email_erased_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    invitation_tokens (token_hash) {
        token_hash -> Text,
        invitation_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    responses (id) {
        id -> Text,
        wave_id -> Text,
        service_id -> Text,
        role -> Text,
        invitation_id -> Nullable<Text>,
        resume_key_hash -> Nullable<Text>,
        panel_pseudonym -> Nullable<Text>,
        language -> Text,
        consent_at -> Nullable<Timestamp>,
        current_page -> Nullable<Text>,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        answer_slots -> Nullable<Binary>,
    }
}

diesel::table! {
    answers (response_id, item_code) {
        response_id -> Text,
        wave_id -> Text,
        item_code -> Text,
        value -> Nullable<Double>,
        text_value -> Nullable<Text>,
        missing_code -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_login_at -> Nullable<Timestamp>,
        sessions_ended_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    user_scopes (id) {
        id -> Text,
        user_id -> Text,
        scope_kind -> Text,
        scope_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> Text,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_user_id -> Nullable<Text>,
        actor -> Text,
        action -> Text,
        target_kind -> Nullable<Text>,
        target_id -> Nullable<Text>,
        details -> Nullable<Text>,
        ip -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        dedupe_key -> Text,
        to_address -> Text,
        language -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        wave_id -> Nullable<Text>,
        invitation_id -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    wave_data_versions (wave_id, shard) {
        wave_id -> Text,
        shard -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    analytics_cache (wave_id, cache_key) {
        wave_id -> Text,
        cache_key -> Text,
        data_version -> BigInt,
        payload -> Binary,
        computed_at -> Timestamp,
    }
}

diesel::joinable!(services -> organisations (organisation_id));
diesel::joinable!(waves -> instruments (instrument_id));
diesel::joinable!(wave_services -> waves (wave_id));
diesel::joinable!(wave_services -> services (service_id));
diesel::joinable!(invitations -> waves (wave_id));
diesel::joinable!(responses -> waves (wave_id));
diesel::joinable!(invitation_tokens -> invitations (invitation_id));
diesel::joinable!(answers -> responses (response_id));
diesel::joinable!(answers -> waves (wave_id));
diesel::joinable!(user_scopes -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(outbox -> waves (wave_id));
diesel::joinable!(wave_data_versions -> waves (wave_id));

diesel::allow_tables_to_appear_in_same_query!(
    regions,
    organisations,
    services,
    instruments,
    waves,
    wave_services,
    invitations,
    invitation_tokens,
    responses,
    answers,
    users,
    user_scopes,
    api_tokens,
    audit_log,
    outbox,
    analytics_cache,
    wave_data_versions,
);

/// Every table, in creation order; the migration tests walk it.
pub const TABLES: &[&str] = &[
    "regions",
    "organisations",
    "services",
    "instruments",
    "waves",
    "wave_services",
    "invitations",
    "invitation_tokens",
    "responses",
    "answers",
    "users",
    "user_scopes",
    "api_tokens",
    "audit_log",
    "outbox",
    "analytics_cache",
    "wave_data_versions",
];
