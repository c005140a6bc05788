-- Who did an admin action on a person's or form app's behalf.

ALTER TABLE audit_events ADD COLUMN operator text NOT NULL DEFAULT '';
