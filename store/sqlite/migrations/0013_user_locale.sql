-- The language a person reads the pages and their emails, texts and calls
-- in ("en", "cy"); empty until they have chosen or signed in since.

ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT '';
