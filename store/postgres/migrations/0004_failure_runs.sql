-- Runs of consecutive failures, ended by a success (wrong one-time codes per
-- destination and per account). A row exists only while its run does.

CREATE TABLE failure_runs (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    last_failure_at timestamptz NOT NULL
);
