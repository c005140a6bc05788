-- Accounts imported from Azure AD B2C or another instance's export, and when an
-- account last signed in. imported_from is '' for accounts made here; migrated_at
-- is NULL until an imported account first signs in here.

ALTER TABLE users ADD COLUMN imported_from TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN migrated_at INTEGER;
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
