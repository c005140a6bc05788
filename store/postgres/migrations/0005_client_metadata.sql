-- Client metadata for back-channel logout and the per-client ID token
-- signing algorithm. Additive only: older servers ignore the new columns.

ALTER TABLE clients ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required boolean NOT NULL DEFAULT false;
-- '' means the provider's default algorithm.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text NOT NULL DEFAULT '';
