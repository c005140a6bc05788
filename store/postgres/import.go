package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/store"
)

// ImportUsers locks the batch's existing rows (by id and by email) for the
// transaction, so that a sign-in migrating one of them meanwhile waits for the
// batch or is seen by it.
func (s *Store) ImportUsers(ctx context.Context, batch []*store.User, now time.Time) ([]store.ImportOutcome, error) {
	now = now.UTC()
	outcomes := make([]store.ImportOutcome, len(batch))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ids := make([]string, 0, len(batch))
		keys := make([]string, 0, len(batch))
		for _, u := range batch {
			ids = append(ids, u.ID)
			if u.Email != "" {
				keys = append(keys, strings.ToLower(u.Email))
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM users
			WHERE id = ANY($1) OR email_key = ANY($2) FOR UPDATE`, ids, keys)
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
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Every write is decided from what was read: send them in one round trip.
		writes := &pgx.Batch{}
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
				writes.Queue(`INSERT INTO users (`+userColumns+`, email_key)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
					userValues(&c)...)
				writes.Queue(`INSERT INTO audit_events (time, kind, user_id, client_id, ip, detail)
					VALUES ($1, $2, $3, '', '', $4)`, now, store.ImportAuditKind, c.ID, store.ImportAuditDetail(&c))
				byID[c.ID] = &c
				if key != "" {
					byEmail[key] = &c
				}
			case store.ImportUpdated:
				e := byID[u.ID]
				store.ApplyImportUpdate(e, u, now)
				writes.Queue(`UPDATE users SET given_name = $1, family_name = $2,
					phone = $3, phone_type = $4, phone_verified = $5, status = $6, updated_at = $7
					WHERE id = $8 AND imported_from <> '' AND migrated_at IS NULL`,
					e.GivenName, e.FamilyName, e.Phone, e.PhoneType, e.PhoneVerified, string(e.Status),
					ts(e.UpdatedAt), e.ID)
			}
		}
		if writes.Len() == 0 {
			return nil
		}
		bctx, cancel := bound(ctx)
		defer cancel()
		return tx.SendBatch(bctx, writes).Close()
	})
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("postgres: import users: id or email taken meanwhile: %w", store.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: import users: %w", err)
	}
	return outcomes, nil
}
