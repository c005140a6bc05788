-- Outgoing email, delivered by workers with retries. Bodies hold one-time codes and
-- are cleared once a message is sent or has failed.

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL DEFAULT '',
    text_body       text NOT NULL DEFAULT '',
    html_body       text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    last_error      text NOT NULL DEFAULT ''
);

-- Workers look for due messages; only queued and sending ones can be due.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status IN ('queued', 'sending');
-- Operators list by status, newest first.
CREATE INDEX outbox_status_created ON outbox (status, created_at, id);
