package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/councilforms/idp/store"
)

// GrantRole inserts the role unless the user holds it already.
func (s *Store) GrantRole(ctx context.Context, r *store.AdminRole) (bool, error) {
	var granted bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, r.UserID).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO admin_roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, role) DO NOTHING`, r.UserID, r.Role, r.GrantedBy, r.GrantedAt.UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		granted = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: grant role %s: %w", r.Role, err)
	}
	return granted, nil
}

// RevokeRole deletes the role. The check that an owner is not the last one
// and the delete are one write transaction (BEGIN IMMEDIATE on the one
// write connection), so no other revoke comes between them.
func (s *Store) RevokeRole(ctx context.Context, userID, role string) (bool, error) {
	var revoked bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if role == store.RoleOwner {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM admin_roles WHERE role = ? AND user_id <> ?`, role, userID).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				var held int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM admin_roles WHERE role = ? AND user_id = ?`, role, userID).Scan(&held); err != nil {
					return err
				}
				if held > 0 {
					return store.ErrLastOwner
				}
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM admin_roles WHERE user_id = ? AND role = ?`, userID, role)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		revoked = n > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: revoke role %s: %w", role, err)
	}
	return revoked, nil
}

// RolesOf reads the user's roles, sorted.
func (s *Store) RolesOf(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT role FROM admin_roles WHERE user_id = ? ORDER BY role`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: roles of user: %w", err)
	}
	defer rows.Close()
	var roles []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("sqlite: roles of user: %w", err)
		}
		roles = append(roles, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: roles of user: %w", err)
	}
	return roles, nil
}

// ListRoles reads every role held, by user id then role.
func (s *Store) ListRoles(ctx context.Context) ([]*store.AdminRole, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, role, granted_by, granted_at FROM admin_roles ORDER BY user_id, role`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list roles: %w", err)
	}
	defer rows.Close()
	var out []*store.AdminRole
	for rows.Next() {
		var (
			r  store.AdminRole
			ts int64
		)
		if err := rows.Scan(&r.UserID, &r.Role, &r.GrantedBy, &ts); err != nil {
			return nil, fmt.Errorf("sqlite: list roles: %w", err)
		}
		r.GrantedAt = time.Unix(0, ts).UTC()
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list roles: %w", err)
	}
	return out, nil
}
