-- Durable per-day counts (store.DailyCounts): texts and calls by form app,
-- channel and outcome, and completed sign-ins by form app. client_id is '' when
-- no form app was involved.
CREATE TABLE daily_counts (
    day       date NOT NULL,
    client_id text NOT NULL,
    kind      text NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (day, client_id, kind)
);
