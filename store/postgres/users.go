package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/councilforms/idp/store"
)

const userColumns = `id, email, email_verified, given_name, family_name, password_hash,
	phone, phone_type, phone_verified, status, failed_logins, locked_until, created_at, updated_at,
	imported_from, migrated_at, last_sign_in_at, locale`

// emailKey is the value the case-insensitive uniqueness rule is enforced on;
// NULL when there is no email, so accounts without one do not collide. Go folds
// the case (not SQL lower()) so that both durable backends agree.
func emailKey(email string) any {
	if email == "" {
		return nil
	}
	return strings.ToLower(email)
}

func scanUser(row interface{ Scan(...any) error }) (*store.User, error) {
	var us userScan
	if err := row.Scan(us.dests()...); err != nil {
		return nil, err
	}
	return us.user(), nil
}

// userScan receives the userColumns of a row.
type userScan struct {
	u                        store.User
	phoneType, status        string
	locked, created, updated pgtype.Timestamptz
	migrated, lastSignIn     pgtype.Timestamptz
}

func (s *userScan) dests() []any {
	u := &s.u
	return []any{&u.ID, &u.Email, &u.EmailVerified, &u.GivenName, &u.FamilyName, &u.PasswordHash,
		&u.Phone, &s.phoneType, &u.PhoneVerified, &s.status, &u.FailedLogins, &s.locked, &s.created, &s.updated,
		&u.ImportedFrom, &s.migrated, &s.lastSignIn, &u.Locale}
}

func (s *userScan) user() *store.User {
	u := s.u
	u.PhoneType, u.Status = s.phoneType, store.UserStatus(s.status)
	u.LockedUntil, u.CreatedAt, u.UpdatedAt = fromTS(s.locked), fromTS(s.created), fromTS(s.updated)
	u.MigratedAt, u.LastSignInAt = fromTS(s.migrated), fromTS(s.lastSignIn)
	return &u
}

// userValues are u's userColumns followed by its email_key, for an INSERT.
func userValues(u *store.User) []any {
	return []any{u.ID, u.Email, u.EmailVerified, u.GivenName, u.FamilyName, u.PasswordHash,
		u.Phone, u.PhoneType, u.PhoneVerified, string(u.Status), u.FailedLogins,
		ts(u.LockedUntil), ts(u.CreatedAt), ts(u.UpdatedAt),
		u.ImportedFrom, ts(u.MigratedAt), ts(u.LastSignInAt), u.Locale, emailKey(u.Email)}
}

func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`, email_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		userValues(u)...)
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: create user %s: id or email taken: %w", u.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create user %s: %w", u.ID, err)
	}
	return nil
}

func (s *Store) UserByID(ctx context.Context, id string) (*store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: user %s: %w", id, notFound(err))
	}
	return u, nil
}

func (s *Store) UserByEmail(ctx context.Context, email string) (*store.User, error) {
	key := emailKey(email)
	if key == nil {
		return nil, fmt.Errorf("postgres: user by email: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = $1`, key))
	if err != nil {
		// The address is personal data: keep it out of errors that may be logged.
		return nil, fmt.Errorf("postgres: user by email: %w", notFound(err))
	}
	return u, nil
}

func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET
		email = $1, email_key = $2, email_verified = $3, given_name = $4, family_name = $5, password_hash = $6,
		phone = $7, phone_type = $8, phone_verified = $9, status = $10, failed_logins = $11, locked_until = $12,
		updated_at = $13, imported_from = $14, migrated_at = $15, last_sign_in_at = $16, locale = $17
		WHERE id = $18`,
		u.Email, emailKey(u.Email), u.EmailVerified, u.GivenName, u.FamilyName, u.PasswordHash,
		u.Phone, u.PhoneType, u.PhoneVerified, string(u.Status), u.FailedLogins, ts(u.LockedUntil),
		ts(u.UpdatedAt), u.ImportedFrom, ts(u.MigratedAt), ts(u.LastSignInAt), u.Locale, u.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: update user %s: email taken: %w", u.ID, store.ErrConflict)
	}
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: update user %s: %w", u.ID, err)
	}
	return nil
}

func (s *Store) RecordLoginFailure(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx,
		`UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: record login failure %s: %w", userID, notFound(err))
	}
	return n, nil
}

func (s *Store) RecordSignIn(ctx context.Context, userID string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET last_sign_in_at = $1 WHERE id = $2`, ts(at), userID)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: record sign-in %s: %w", userID, err)
	}
	return nil
}

func (s *Store) LockUser(ctx context.Context, userID string, until time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET locked_until = $1 WHERE id = $2`, ts(until), userID)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: lock user %s: %w", userID, err)
	}
	return nil
}

func (s *Store) ResetLoginFailures(ctx context.Context, userID string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, userID)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: reset login failures %s: %w", userID, err)
	}
	return nil
}

// likePattern makes search a LIKE pattern matching it anywhere, as plain text.
func likePattern(search string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(search)) + "%"
}

func (s *Store) ListUsers(ctx context.Context, search string, limit int) ([]*store.User, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE email_key LIKE $1 ESCAPE '\' ORDER BY email_key LIMIT $2`,
		likePattern(search), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return out, nil
}

func (s *Store) EraseUser(ctx context.Context, userID, email, pseudonym string) (bool, error) {
	var existed bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, userID)
		if err != nil {
			return err
		}
		existed = tag.RowsAffected() > 0
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM refresh_tokens WHERE user_id = $1`, []any{userID}},
			{`UPDATE audit_events SET user_id = $2, ip = '', client_id = '', detail = '' WHERE user_id = $1`, []any{userID, pseudonym}},
			{`DELETE FROM outbox WHERE channel = 'email' AND lower(recipient) = lower($1) AND status IN ('queued', 'sending')`, []any{email}},
			{`UPDATE outbox SET recipient = $2, subject = '', text_body = '', html_body = '', last_error = ''
				WHERE channel = 'email' AND lower(recipient) = lower($1)`, []any{email, pseudonym}},
			// A request still queued keeps the id it is for (the end of her
			// sessions); once taken, it names the pseudonym.
			{`UPDATE outbox SET recipient = $2 WHERE recipient = $1 AND channel <> 'email' AND status <> 'queued'`, []any{userID, pseudonym}},
			// Counters and runs of the account (store/keys.go: they end with its id).
			{`DELETE FROM counters WHERE key LIKE '%:' || $1`, []any{userID}},
			{`DELETE FROM counter_members WHERE key LIKE '%:' || $1`, []any{userID}},
			{`DELETE FROM failure_runs WHERE key LIKE '%:' || $1`, []any{userID}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: erase user %s: %w", pseudonym, err)
	}
	return existed, nil
}
