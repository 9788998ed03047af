-- Secrets that every server on this database must share, made by the first start that
-- needs them: the key that signs the CSRF tokens of the sign-in and sign-up forms, when
-- no --secret-key is given. Kept here so that it survives restarts and several servers
-- agree on it. It is then as secret as the database file: keep backups as private.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
