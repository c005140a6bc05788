package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/store"
)

// GrantRole inserts the role unless the user holds it already.
func (s *Store) GrantRole(ctx context.Context, r *store.AdminRole) (bool, error) {
	var granted bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1 FOR SHARE`, r.UserID).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO admin_roles (user_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, role) DO NOTHING`, r.UserID, r.Role, r.GrantedBy, r.GrantedAt.UTC())
		granted = err == nil && tag.RowsAffected() > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: grant role %s: %w", r.Role, err)
	}
	return granted, nil
}

// RevokeRole deletes the role. Revoking the role owner locks every owner's
// row first (FOR UPDATE), so two revokes of the role owner run one after the
// other and the second sees what the first left: the last owner is kept.
func (s *Store) RevokeRole(ctx context.Context, userID, role string) (bool, error) {
	var revoked bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if role == store.RoleOwner {
			rows, err := tx.Query(ctx, `SELECT user_id FROM admin_roles WHERE role = $1 ORDER BY user_id FOR UPDATE`, role)
			if err != nil {
				return err
			}
			owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if slices.Equal(owners, []string{userID}) {
				return store.ErrLastOwner
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM admin_roles WHERE user_id = $1 AND role = $2`, userID, role)
		revoked = err == nil && tag.RowsAffected() > 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: revoke role %s: %w", role, err)
	}
	return revoked, nil
}

// RolesOf reads the user's roles, sorted.
func (s *Store) RolesOf(ctx context.Context, userID string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT role FROM admin_roles WHERE user_id = $1 ORDER BY role`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: roles of user: %w", err)
	}
	roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: roles of user: %w", err)
	}
	return roles, nil
}

// ListRoles reads every role held, by user id then role.
func (s *Store) ListRoles(ctx context.Context) ([]*store.AdminRole, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id, role, granted_by, granted_at FROM admin_roles ORDER BY user_id, role`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list roles: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.AdminRole, error) {
		var r store.AdminRole
		if err := row.Scan(&r.UserID, &r.Role, &r.GrantedBy, &r.GrantedAt); err != nil {
			return nil, err
		}
		r.GrantedAt = r.GrantedAt.UTC()
		return &r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list roles: %w", err)
	}
	return out, nil
}
