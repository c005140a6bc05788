-- The IdP session (sid) a refresh token's grant came from, so that ending the
-- session revokes its tokens and tells its form apps (back-channel logout);
-- outbox claims by channel (email, backchannel_logout).

ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX refresh_tokens_user_session ON refresh_tokens (user_id, session_id);
CREATE INDEX outbox_channel_due ON outbox (channel, next_attempt_at) WHERE status IN ('queued', 'sending');
