-- A rotated client secret keeps working until previous_secret_expires_at, so a
-- form app can switch to the new one without an outage.

ALTER TABLE clients ADD COLUMN previous_secret_hash text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_expires_at timestamptz;
