-- A phone number a person set themselves after losing their phone (the
-- self-service route, IDP_PHONE_RECOVERY): it replaces the account's phone
-- only once effective_at has passed, so that the email announcing it reaches
-- the account first. One per account; a new request replaces the old.

CREATE TABLE pending_phones (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone        TEXT NOT NULL,
    phone_type   TEXT NOT NULL DEFAULT '',
    requested_at INTEGER NOT NULL,
    effective_at INTEGER NOT NULL
) STRICT;
