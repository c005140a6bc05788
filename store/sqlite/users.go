package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/councilforms/idp/store"
)

const userColumns = `id, email, email_verified, given_name, family_name, password_hash,
	phone, phone_type, phone_verified, status, failed_logins, locked_until, created_at, updated_at,
	imported_from, migrated_at, last_sign_in_at, locale`

// emailKey is the value the case-insensitive uniqueness rule is enforced on;
// NULL when there is no email, so accounts without one do not collide.
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
	locked, created, updated sql.NullInt64
	migrated, lastSignIn     sql.NullInt64
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
	u.LockedUntil, u.CreatedAt, u.UpdatedAt = fromNanos(s.locked), fromNanos(s.created), fromNanos(s.updated)
	u.MigratedAt, u.LastSignInAt = fromNanos(s.migrated), fromNanos(s.lastSignIn)
	return &u
}

// userValues are u's userColumns followed by its email_key, for an INSERT.
func userValues(u *store.User) []any {
	return []any{u.ID, u.Email, u.EmailVerified, u.GivenName, u.FamilyName, u.PasswordHash,
		u.Phone, u.PhoneType, u.PhoneVerified, string(u.Status), u.FailedLogins,
		nanos(u.LockedUntil), nanos(u.CreatedAt), nanos(u.UpdatedAt),
		u.ImportedFrom, nanos(u.MigratedAt), nanos(u.LastSignInAt), u.Locale, emailKey(u.Email)}
}

func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO users (`+userColumns+`, email_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		userValues(u)...)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create user %s: id or email taken: %w", u.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create user %s: %w", u.ID, err)
	}
	return nil
}

func (s *Store) UserByID(ctx context.Context, id string) (*store.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: user %s: %w", id, notFound(err))
	}
	return u, nil
}

func (s *Store) UserByEmail(ctx context.Context, email string) (*store.User, error) {
	key := emailKey(email)
	if key == nil {
		return nil, fmt.Errorf("sqlite: user by email: %w", store.ErrNotFound)
	}
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = ?`, key))
	if err != nil {
		// The address is personal data: keep it out of errors that may be logged.
		return nil, fmt.Errorf("sqlite: user by email: %w", notFound(err))
	}
	return u, nil
}

func (s *Store) UpdateUser(ctx context.Context, u *store.User) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET
		email = ?, email_key = ?, email_verified = ?, given_name = ?, family_name = ?, password_hash = ?,
		phone = ?, phone_type = ?, phone_verified = ?, status = ?, failed_logins = ?, locked_until = ?,
		updated_at = ?, imported_from = ?, migrated_at = ?, last_sign_in_at = ?, locale = ?
		WHERE id = ?`,
		u.Email, emailKey(u.Email), u.EmailVerified, u.GivenName, u.FamilyName, u.PasswordHash,
		u.Phone, u.PhoneType, u.PhoneVerified, string(u.Status), u.FailedLogins, nanos(u.LockedUntil),
		nanos(u.UpdatedAt), u.ImportedFrom, nanos(u.MigratedAt), nanos(u.LastSignInAt), u.Locale, u.ID)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: update user %s: email taken: %w", u.ID, store.ErrConflict)
	}
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update user %s: %w", u.ID, err)
	}
	return nil
}

func (s *Store) RecordLoginFailure(ctx context.Context, userID string) (int, error) {
	var n int
	err := s.write.QueryRowContext(ctx,
		`UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: record login failure %s: %w", userID, notFound(err))
	}
	return n, nil
}

func (s *Store) RecordSignIn(ctx context.Context, userID string, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET last_sign_in_at = ? WHERE id = ?`, nanos(at), userID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: record sign-in %s: %w", userID, err)
	}
	return nil
}

func (s *Store) LockUser(ctx context.Context, userID string, until time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, nanos(until), userID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: lock user %s: %w", userID, err)
	}
	return nil
}

func (s *Store) ResetLoginFailures(ctx context.Context, userID string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?`, userID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: reset login failures %s: %w", userID, err)
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
	rows, err := s.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key LIKE ? ESCAPE '\' ORDER BY email_key LIMIT ?`,
		likePattern(search), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	var out []*store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return out, nil
}

func (s *Store) EraseUser(ctx context.Context, userID, email, pseudonym string) (bool, error) {
	var existed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		existed = n > 0
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM refresh_tokens WHERE user_id = ?`, []any{userID}},
			{`UPDATE audit_events SET user_id = ?, ip = '', client_id = '', detail = '' WHERE user_id = ?`, []any{pseudonym, userID}},
			{`DELETE FROM outbox WHERE channel = 'email' AND lower(recipient) = lower(?) AND status IN ('queued', 'sending')`, []any{email}},
			{`UPDATE outbox SET recipient = ?, subject = '', text_body = '', html_body = '', last_error = ''
				WHERE channel = 'email' AND lower(recipient) = lower(?)`, []any{pseudonym, email}},
			// A request still queued keeps the id it is for (the end of her
			// sessions); once taken, it names the pseudonym.
			{`UPDATE outbox SET recipient = ? WHERE recipient = ? AND channel <> 'email' AND status <> 'queued'`, []any{pseudonym, userID}},
			// Counters and runs of the account (store/keys.go: they end with its id).
			{`DELETE FROM counters WHERE key LIKE '%:' || ?`, []any{userID}},
			{`DELETE FROM counter_members WHERE key LIKE '%:' || ?`, []any{userID}},
			{`DELETE FROM failure_runs WHERE key LIKE '%:' || ?`, []any{userID}},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: erase user %s: %w", pseudonym, err)
	}
	return existed, nil
}
