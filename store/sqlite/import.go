package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/councilforms/idp/store"
)

// ImportUsers runs in one IMMEDIATE transaction, which holds the write lock
// throughout: nothing else writes the batch's rows meanwhile.
func (s *Store) ImportUsers(ctx context.Context, batch []*store.User, now time.Time) ([]store.ImportOutcome, error) {
	now = now.UTC()
	outcomes := make([]store.ImportOutcome, len(batch))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ids := make([]string, 0, len(batch))
		keys := make([]string, 0, len(batch))
		for _, u := range batch {
			ids = append(ids, u.ID)
			if u.Email != "" {
				keys = append(keys, strings.ToLower(u.Email))
			}
		}
		idsJSON, _ := json.Marshal(ids) // a []string always marshals
		keysJSON, _ := json.Marshal(keys)
		rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users
			WHERE id IN (SELECT value FROM json_each(?)) OR email_key IN (SELECT value FROM json_each(?))`,
			string(idsJSON), string(keysJSON))
		if err != nil {
			return err
		}
		byID, byEmail := map[string]*store.User{}, map[string]*store.User{}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return err
			}
			byID[u.ID] = u
			if u.Email != "" {
				byEmail[strings.ToLower(u.Email)] = u
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		insert, err := tx.PrepareContext(ctx, `INSERT INTO users (`+userColumns+`, email_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		audit, err := tx.PrepareContext(ctx, `INSERT INTO audit_events (time, kind, user_id, client_id, ip, detail)
			VALUES (?, ?, ?, '', '', ?)`)
		if err != nil {
			return err
		}
		defer audit.Close()
		for i, u := range batch {
			key := strings.ToLower(u.Email)
			var other *store.User
			if key != "" {
				other = byEmail[key]
			}
			outcomes[i] = store.DecideImport(u, byID[u.ID], other)
			switch outcomes[i] {
			case store.ImportCreated:
				c := *u
				if c.UpdatedAt.IsZero() {
					c.UpdatedAt = now
				}
				if _, err := insert.ExecContext(ctx, userValues(&c)...); err != nil {
					return fmt.Errorf("create %s: %w", u.ID, err)
				}
				if _, err := audit.ExecContext(ctx, nanos(now), store.ImportAuditKind, c.ID, store.ImportAuditDetail(&c)); err != nil {
					return fmt.Errorf("audit %s: %w", u.ID, err)
				}
				byID[c.ID] = &c
				if key != "" {
					byEmail[key] = &c
				}
			case store.ImportUpdated:
				e := byID[u.ID]
				store.ApplyImportUpdate(e, u, now)
				if _, err := tx.ExecContext(ctx, `UPDATE users SET given_name = ?, family_name = ?,
					phone = ?, phone_type = ?, phone_verified = ?, status = ?, updated_at = ?
					WHERE id = ? AND imported_from <> '' AND migrated_at IS NULL`,
					e.GivenName, e.FamilyName, e.Phone, e.PhoneType, e.PhoneVerified, string(e.Status),
					nanos(e.UpdatedAt), e.ID); err != nil {
					return fmt.Errorf("update %s: %w", u.ID, err)
				}
			}
		}
		return nil
	})
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("sqlite: import users: id or email taken meanwhile: %w", store.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: import users: %w", err)
	}
	return outcomes, nil
}
