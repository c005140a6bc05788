-- Initial schema. Times are integer Unix nanoseconds in UTC; NULL stands for the
-- zero time (not set). Lists are JSON arrays of strings.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    -- email_key is the lower-cased email (NULL when there is no email): the
    -- case-insensitive uniqueness rule lives in its unique index.
    email_key      TEXT UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0,
    given_name     TEXT NOT NULL DEFAULT '',
    family_name    TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    phone          TEXT NOT NULL DEFAULT '',
    phone_type     TEXT NOT NULL DEFAULT '',
    phone_verified INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER,
    created_at     INTEGER,
    updated_at     INTEGER
) STRICT;

CREATE TABLE clients (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL DEFAULT '',
    secret_hash               TEXT NOT NULL DEFAULT '',
    public                    INTEGER NOT NULL DEFAULT 0,
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    scopes                    TEXT NOT NULL DEFAULT '[]',
    created_at                INTEGER
) STRICT;

CREATE TABLE signing_keys (
    id                TEXT PRIMARY KEY,
    algorithm         TEXT NOT NULL,
    public_jwk        BLOB NOT NULL,
    private_encrypted BLOB NOT NULL,
    created_at        INTEGER,
    active_from       INTEGER,
    retired_at        INTEGER,
    expires_at        INTEGER
) STRICT;

CREATE TABLE refresh_tokens (
    hash            TEXT PRIMARY KEY,
    family_id       TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    scopes          TEXT NOT NULL DEFAULT '[]',
    audience        TEXT NOT NULL DEFAULT '[]',
    amr             TEXT NOT NULL DEFAULT '[]',
    auth_time       INTEGER,
    created_at      INTEGER,
    expires_at      INTEGER,
    idle_expires_at INTEGER,
    used_at         INTEGER,
    revoked_at      INTEGER
) STRICT;

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);

CREATE TABLE audit_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time      INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    client_id TEXT NOT NULL DEFAULT '',
    ip        TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_events_time ON audit_events (time, id);
CREATE INDEX audit_events_user_time ON audit_events (user_id, time, id);

-- One row per key, window length and window. window_ns and window_start are
-- nanoseconds; window_start is a multiple of window_ns since the Unix epoch.
CREATE TABLE counters (
    key          TEXT NOT NULL,
    window_ns    INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_ns, window_start)
) STRICT, WITHOUT ROWID;
