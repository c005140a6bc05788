-- Initial schema. Times are timestamptz (microsecond precision); NULL stands for
-- the zero time (not set).

CREATE TABLE users (
    id             text PRIMARY KEY,
    email          text NOT NULL,
    -- email_key is the lower-cased email (NULL when there is no email): the
    -- case-insensitive uniqueness rule lives in its unique index. It is computed
    -- by the application so that both durable backends fold case the same way.
    email_key      text UNIQUE,
    email_verified boolean NOT NULL DEFAULT false,
    given_name     text NOT NULL DEFAULT '',
    family_name    text NOT NULL DEFAULT '',
    password_hash  text NOT NULL DEFAULT '',
    phone          text NOT NULL DEFAULT '',
    phone_type     text NOT NULL DEFAULT '',
    phone_verified boolean NOT NULL DEFAULT false,
    status         text NOT NULL,
    failed_logins  integer NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz,
    updated_at     timestamptz
);

CREATE TABLE clients (
    id                        text PRIMARY KEY,
    name                      text NOT NULL DEFAULT '',
    secret_hash               text NOT NULL DEFAULT '',
    public                    boolean NOT NULL DEFAULT false,
    redirect_uris             text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    scopes                    text[] NOT NULL DEFAULT '{}',
    created_at                timestamptz
);

CREATE TABLE signing_keys (
    id                text PRIMARY KEY,
    algorithm         text NOT NULL,
    public_jwk        bytea NOT NULL,
    private_encrypted bytea NOT NULL,
    created_at        timestamptz,
    active_from       timestamptz,
    retired_at        timestamptz,
    expires_at        timestamptz
);

CREATE TABLE refresh_tokens (
    hash            text PRIMARY KEY,
    family_id       text NOT NULL,
    client_id       text NOT NULL,
    user_id         text NOT NULL,
    scopes          text[] NOT NULL DEFAULT '{}',
    audience        text[] NOT NULL DEFAULT '{}',
    amr             text[] NOT NULL DEFAULT '{}',
    auth_time       timestamptz,
    created_at      timestamptz,
    expires_at      timestamptz,
    idle_expires_at timestamptz,
    used_at         timestamptz,
    revoked_at      timestamptz
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);

-- Append-only: the application only ever inserts and selects.
CREATE TABLE audit_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time      timestamptz NOT NULL,
    kind      text NOT NULL,
    user_id   text NOT NULL DEFAULT '',
    client_id text NOT NULL DEFAULT '',
    ip        text NOT NULL DEFAULT '',
    detail    text NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_time ON audit_events (time DESC, id DESC);
CREATE INDEX audit_events_user_time ON audit_events (user_id, time DESC, id DESC);

-- One row per key, window length and window. window_ns and window_start are
-- nanoseconds; window_start is a multiple of window_ns since the Unix epoch.
CREATE TABLE counters (
    key          text NOT NULL,
    window_ns    bigint NOT NULL,
    window_start bigint NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (key, window_ns, window_start)
);
