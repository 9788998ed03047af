-- The writes made with each API token in the last hour, one row each: the limit on
-- writes is counted here, not in a server's memory, so that every server of the site
-- (and a restarted one) agrees on how many a token has left. Rows older than the hour
-- are deleted as the token writes again.
CREATE TABLE api_token_writes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_id INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    written_at TIMESTAMP NOT NULL
);

CREATE INDEX api_token_writes_token ON api_token_writes (token_id, written_at);
