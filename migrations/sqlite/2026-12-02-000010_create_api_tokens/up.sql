-- Personal API tokens: an organiser's systems write through the API with one of these
-- in `Authorization: Bearer`. Only the SHA-256 of a token is stored (it is 32 random
-- bytes, so a plain hash is enough; a copy of the database lets nobody write). `prefix`
-- is the token's first characters, shown so that an organiser can tell tokens apart.
-- A revoked token is kept, marked, so that the account page can say when it stopped.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX api_tokens_account ON api_tokens (account_id);
