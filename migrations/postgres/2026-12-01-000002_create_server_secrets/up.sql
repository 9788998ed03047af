-- Secrets that every server on this database must share, made by the first start that
-- needs them: the key that signs the CSRF tokens of the sign-in and sign-up forms, when
-- no --secret-key is given. Kept here so that it survives restarts and several servers
-- agree on it. It is then as secret as the database: keep backups as private.
--
-- PostgreSQL translation note: SQLite's BLOB is bytea here, which Diesel maps to the
-- same Binary type (Vec<u8>). Two servers starting at once may both try to insert the
-- first secret; the primary key makes one of them fail, as on SQLite, and on PostgreSQL
-- that failure also aborts the rest of its transaction, so the application should insert
-- with ON CONFLICT (name) DO NOTHING and then read the row back.
CREATE TABLE server_secrets (
    name text PRIMARY KEY,
    value bytea NOT NULL,
    created_at timestamp NOT NULL
);
