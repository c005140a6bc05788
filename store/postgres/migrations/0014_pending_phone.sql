-- A phone number a person set themselves after losing their phone (the
-- self-service route, IDP_PHONE_RECOVERY): it replaces the account's phone
-- only once effective_at has passed, so that the email announcing it reaches
-- the account first. One per account; a new request replaces the old.

CREATE TABLE pending_phones (
    user_id      text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone        text NOT NULL,
    phone_type   text NOT NULL DEFAULT '',
    requested_at timestamptz NOT NULL,
    effective_at timestamptz NOT NULL
);
