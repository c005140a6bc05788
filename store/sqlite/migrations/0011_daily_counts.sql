-- Durable per-day counts (store.DailyCounts): texts and calls by form app,
-- channel and outcome, and completed sign-ins by form app. day is the UTC date
-- as YYYY-MM-DD; client_id is '' when no form app was involved.
CREATE TABLE daily_counts (
    day       TEXT NOT NULL,
    client_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, client_id, kind)
) STRICT, WITHOUT ROWID;
