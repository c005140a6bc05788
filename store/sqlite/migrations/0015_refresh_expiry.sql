-- The order in which refresh tokens stop being usable (the earlier of their
-- absolute and idle expiry), for PruneRefreshTokens to find expired families
-- without reading the whole table.
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (min(expires_at, idle_expires_at), hash);
