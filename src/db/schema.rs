// @generated automatically by Diesel CLI.

diesel::table! {
    accounts (id) {
        id -> Integer,
        email -> Text,
        display_name -> Text,
        organisation -> Text,
        password_hash -> Text,
        is_admin -> Bool,
        is_trusted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    api_token_writes (id) {
        id -> Integer,
        token_id -> Integer,
        written_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Integer,
        account_id -> Integer,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    cities (id) {
        id -> Integer,
        slug -> Text,
        name -> Text,
        country -> Text,
        country_code -> Text,
        field -> Text,
        designation_year -> Integer,
        latitude -> Double,
        longitude -> Double,
        timezone -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    data_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::table! {
    event_closed_dates (event_id, day) {
        event_id -> Integer,
        day -> Date,
    }
}

diesel::table! {
    event_occurrences (event_id, occurrence_date) {
        event_id -> Integer,
        occurrence_date -> Date,
        status -> Text,
        start_date -> Date,
        start_time -> Nullable<Time>,
        end_date -> Date,
        end_time -> Nullable<Time>,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        title -> Nullable<Text>,
        overridden -> Bool,
    }
}

diesel::table! {
    event_opening_hours (event_id, weekday) {
        event_id -> Integer,
        weekday -> Integer,
        opens -> Time,
        closes -> Time,
    }
}

diesel::table! {
    event_reviews (event_id) {
        event_id -> Integer,
        approved_form -> Text,
        approved_at -> Timestamp,
        changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    event_series (event_id) {
        event_id -> Integer,
        rule -> Text,
    }
}

diesel::table! {
    events (id) {
        id -> Integer,
        uid -> Text,
        city_id -> Integer,
        kind -> Text,
        field -> Text,
        title -> Text,
        description -> Text,
        venue_name -> Text,
        venue_address -> Text,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        all_day -> Bool,
        start_date -> Date,
        start_time -> Nullable<Time>,
        end_date -> Date,
        end_time -> Nullable<Time>,
        timezone -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        url -> Nullable<Text>,
        price -> Nullable<Text>,
        is_free -> Bool,
        organizer_name -> Nullable<Text>,
        status -> Text,
        moderation -> Text,
        sequence -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        organiser_id -> Nullable<Integer>,
        moderation_note -> Nullable<Text>,
        status_note -> Nullable<Text>,
        first_published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    imported_events (source_id, source_uid) {
        source_id -> Integer,
        source_uid -> Text,
        event_id -> Integer,
        content_hash -> Text,
        source_timezone -> Nullable<Text>,
        vanished -> Bool,
    }
}

diesel::table! {
    login_checks (id) {
        id -> Integer,
        email -> Text,
        client -> Text,
        started_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Integer,
        email -> Text,
        client -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    moderation_log (id) {
        id -> Integer,
        actor_id -> Nullable<Integer>,
        actor_name -> Text,
        action -> Text,
        event_id -> Nullable<Integer>,
        account_id -> Nullable<Integer>,
        city_id -> Nullable<Integer>,
        subject -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    moderator_roles (id) {
        id -> Integer,
        account_id -> Integer,
        city_id -> Nullable<Integer>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    server_secrets (name) {
        name -> Text,
        value -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Integer,
        token_hash -> Text,
        account_id -> Integer,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    shipped_cities (name, country_code) {
        name -> Text,
        country_code -> Text,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    sign_ups (id) {
        id -> Integer,
        client -> Text,
        signed_up_at -> Timestamp,
    }
}

diesel::table! {
    source_run_notes (run_id, position) {
        run_id -> Integer,
        position -> Integer,
        level -> Text,
        uid -> Nullable<Text>,
        summary -> Nullable<Text>,
        reason -> Text,
    }
}

diesel::table! {
    source_runs (id) {
        id -> Integer,
        source_id -> Integer,
        started_at -> Timestamp,
        duration_ms -> Integer,
        http_status -> Nullable<Integer>,
        bytes -> Nullable<BigInt>,
        outcome -> Text,
        message -> Nullable<Text>,
        created -> Integer,
        updated -> Integer,
        unchanged -> Integer,
        cancelled -> Integer,
        removed -> Integer,
        skipped -> Integer,
    }
}

diesel::table! {
    sources (id) {
        id -> Integer,
        owner_id -> Integer,
        city_id -> Integer,
        url -> Nullable<Text>,
        name -> Text,
        kind -> Text,
        field -> Nullable<Text>,
        category_map -> Text,
        on_vanish -> Text,
        paused -> Bool,
        etag -> Nullable<Text>,
        last_modified -> Nullable<Text>,
        body_hash -> Nullable<Text>,
        next_fetch_at -> Timestamp,
        failures -> Integer,
        lease_until -> Nullable<Timestamp>,
        lease_holder -> Nullable<Text>,
        created_by -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(api_token_writes -> api_tokens (token_id));
diesel::joinable!(api_tokens -> accounts (account_id));
diesel::joinable!(event_closed_dates -> events (event_id));
diesel::joinable!(event_occurrences -> events (event_id));
diesel::joinable!(event_opening_hours -> events (event_id));
diesel::joinable!(event_reviews -> events (event_id));
diesel::joinable!(event_series -> events (event_id));
diesel::joinable!(events -> cities (city_id));
diesel::joinable!(imported_events -> events (event_id));
diesel::joinable!(imported_events -> sources (source_id));
diesel::joinable!(moderation_log -> cities (city_id));
diesel::joinable!(moderation_log -> events (event_id));
diesel::joinable!(moderator_roles -> accounts (account_id));
diesel::joinable!(moderator_roles -> cities (city_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(source_run_notes -> source_runs (run_id));
diesel::joinable!(source_runs -> sources (source_id));
diesel::joinable!(sources -> cities (city_id));

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    api_token_writes,
    api_tokens,
    cities,
    data_revision,
    event_closed_dates,
    event_occurrences,
    event_opening_hours,
    event_reviews,
    event_series,
    events,
    imported_events,
    login_checks,
    login_failures,
    moderation_log,
    moderator_roles,
    server_secrets,
    sessions,
    shipped_cities,
    sign_ups,
    source_run_notes,
    source_runs,
    sources,
);
