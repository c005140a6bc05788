-- Client metadata for back-channel logout and the per-client ID token
-- signing algorithm. Additive only: older servers ignore the new columns.

ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;
-- '' means the provider's default algorithm.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT '';
