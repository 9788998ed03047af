-- Password checks under way. A sign-in (or a password change) reserves one here, in the
-- same write transaction that counts the failures, before its slow Argon2id verification,
-- and removes it when the verification is over: a wrong password then becomes a row of
-- login_failures, a right one leaves nothing. While it runs, a check takes one of the
-- throttle's places, so that guesses sent all at once cannot all pass the count before
-- any of them has failed; a right password never counts as a failure.
CREATE TABLE login_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL,
    client TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL
);

CREATE INDEX login_checks_email ON login_checks (email, started_at);
CREATE INDEX login_checks_client ON login_checks (client, started_at);
