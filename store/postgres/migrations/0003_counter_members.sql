-- Sets counted per window (store.Counters.AddMember), e.g. the different phone
-- numbers one account tried in a UTC day. rank is the order in which members first
-- arrived in the window; a concurrent insert of another member with the same rank
-- loses on the unique constraint and takes the next one.
CREATE TABLE counter_members (
    key          text NOT NULL,
    window_ns    bigint NOT NULL,
    window_start bigint NOT NULL,
    member       text NOT NULL,
    rank         integer NOT NULL,
    PRIMARY KEY (key, window_ns, window_start, member),
    UNIQUE (key, window_ns, window_start, rank)
);

-- Windows that have ended are swept by window length and start.
CREATE INDEX counter_members_window ON counter_members (window_ns, window_start);
