-- Roles of the operators' console (idp/admin), granted with `idp admins grant`
-- or by an owner in the console. A role goes with its account.

CREATE TABLE admin_roles (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Why an operator did an action (a reason the console requires).
ALTER TABLE audit_events ADD COLUMN reason TEXT NOT NULL DEFAULT '';
