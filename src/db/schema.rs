// @generated automatically by Diesel CLI.

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
    }
}

diesel::joinable!(events -> cities (city_id));

diesel::allow_tables_to_appear_in_same_query!(cities, data_revision, events,);
