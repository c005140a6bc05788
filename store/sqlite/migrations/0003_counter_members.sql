-- Sets counted per window (store.Counters.AddMember), e.g. the different phone
-- numbers one account tried in a UTC day. rank is the order in which members first
-- arrived in the window.
CREATE TABLE counter_members (
    key          TEXT NOT NULL,
    window_ns    INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    member       TEXT NOT NULL,
    rank         INTEGER NOT NULL,
    PRIMARY KEY (key, window_ns, window_start, member),
    UNIQUE (key, window_ns, window_start, rank)
) STRICT, WITHOUT ROWID;

-- Windows that have ended are swept by window length and start.
CREATE INDEX counter_members_window ON counter_members (window_ns, window_start);
