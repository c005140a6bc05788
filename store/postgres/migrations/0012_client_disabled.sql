-- A disabled client is refused at authorization and at the token endpoint
-- until enabled again (NULL while enabled).

ALTER TABLE clients ADD COLUMN disabled_at timestamptz;
