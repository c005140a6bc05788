package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/councilforms/idp/store"
)

const refreshColumns = `hash, family_id, client_id, user_id, scopes, audience, amr,
	auth_time, created_at, expires_at, idle_expires_at, used_at, revoked_at, session_id`

func insertRefreshToken(ctx context.Context, q querier, t *store.RefreshToken) error {
	_, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (`+refreshColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.FamilyID, t.ClientID, t.UserID, encodeList(t.Scopes), encodeList(t.Audience), encodeList(t.AMR),
		nanos(t.AuthTime), nanos(t.CreatedAt), nanos(t.ExpiresAt), nanos(t.IdleExpiresAt),
		nanos(t.UsedAt), nanos(t.RevokedAt), t.SessionID)
	if isUniqueViolation(err) {
		return fmt.Errorf("hash taken: %w", store.ErrConflict)
	}
	return err
}

func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	// Errors name the family, never the hash: the hash is the lookup key of a live credential.
	if err := insertRefreshToken(ctx, s.write, t); err != nil {
		return fmt.Errorf("sqlite: create refresh token in family %s: %w", t.FamilyID, err)
	}
	return nil
}

func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	var rs refreshScan
	err := s.read.QueryRowContext(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE hash = ?`, hash).Scan(rs.dests()...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: refresh token: %w", notFound(err))
	}
	return rs.token()
}

// RefreshTokenAndUser reads the token and its account in one query.
func (s *Store) RefreshTokenAndUser(ctx context.Context, hash string) (*store.RefreshToken, *store.User, error) {
	var (
		rs refreshScan
		us userScan
	)
	err := s.read.QueryRowContext(ctx, `SELECT `+qualify("t", refreshColumns)+`, `+qualify("u", userColumns)+`
		FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?`, hash).Scan(append(rs.dests(), us.dests()...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: refresh token and user: %w", notFound(err))
	}
	t, err := rs.token()
	if err != nil {
		return nil, nil, err
	}
	return t, us.user(), nil
}

// refreshScan receives the refreshColumns of a row.
type refreshScan struct {
	t                                               store.RefreshToken
	scopes, aud, amr                                string
	authTime, created, expires, idle, used, revoked sql.NullInt64
}

func (s *refreshScan) dests() []any {
	t := &s.t
	return []any{&t.Hash, &t.FamilyID, &t.ClientID, &t.UserID, &s.scopes, &s.aud, &s.amr,
		&s.authTime, &s.created, &s.expires, &s.idle, &s.used, &s.revoked, &t.SessionID}
}

func (s *refreshScan) token() (*store.RefreshToken, error) {
	t := s.t
	var err error
	if t.Scopes, err = decodeList(s.scopes); err == nil {
		if t.Audience, err = decodeList(s.aud); err == nil {
			t.AMR, err = decodeList(s.amr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: refresh token in family %s: %w", t.FamilyID, err)
	}
	t.AuthTime, t.CreatedAt, t.ExpiresAt = fromNanos(s.authTime), fromNanos(s.created), fromNanos(s.expires)
	t.IdleExpiresAt, t.UsedAt, t.RevokedAt = fromNanos(s.idle), fromNanos(s.used), fromNanos(s.revoked)
	return &t, nil
}

// qualify prefixes every column of a comma-separated list with a table alias.
func qualify(alias, columns string) string {
	return alias + "." + strings.Join(strings.Fields(strings.ReplaceAll(columns, ",", " ")), ", "+alias+".")
}

// RotateRefreshToken marks oldHash used only if it is still current (the
// conditional UPDATE is the compare-and-set) and inserts next in the same
// transaction, so of two concurrent rotations exactly one succeeds.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET used_at = ?
			WHERE hash = ? AND used_at IS NULL AND revoked_at IS NULL`, now.UnixNano(), oldHash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var exists int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM refresh_tokens WHERE hash = ?`, oldHash).Scan(&exists)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("token already used or revoked: %w", store.ErrConflict)
		}
		return insertRefreshToken(ctx, tx, next)
	})
	if err != nil {
		return fmt.Errorf("sqlite: rotate refresh token in family %s: %w", next.FamilyID, err)
	}
	return nil
}

// RevokeRefreshFamily keeps the first revocation time of tokens already revoked.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE family_id = ? AND revoked_at IS NULL`, now.UnixNano(), familyID)
	if err != nil {
		return fmt.Errorf("sqlite: revoke refresh family %s: %w", familyID, err)
	}
	return nil
}

func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID, clientID string, now time.Time) error {
	var err error
	if clientID == "" {
		_, err = s.write.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
			WHERE user_id = ? AND revoked_at IS NULL`, now.UnixNano(), userID)
	} else {
		_, err = s.write.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
			WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL`, now.UnixNano(), userID, clientID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: revoke refresh tokens of user %s: %w", userID, err)
	}
	return nil
}

func (s *Store) SessionClients(ctx context.Context, userID, sessionID string, now time.Time) ([]store.SessionClient, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT DISTINCT session_id, client_id FROM refresh_tokens
		WHERE user_id = ? AND session_id <> '' AND (? = '' OR session_id = ?)
			AND revoked_at IS NULL AND expires_at > ?
		ORDER BY session_id, client_id`, userID, sessionID, sessionID, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("sqlite: session clients of user %s: %w", userID, err)
	}
	defer rows.Close()
	var scs []store.SessionClient
	for rows.Next() {
		var sc store.SessionClient
		if err := rows.Scan(&sc.SessionID, &sc.ClientID); err != nil {
			return nil, fmt.Errorf("sqlite: session clients of user %s: %w", userID, err)
		}
		scs = append(scs, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: session clients of user %s: %w", userID, err)
	}
	return scs, nil
}

func (s *Store) RevokeSessionRefreshTokens(ctx context.Context, userID, sessionID string, now time.Time) error {
	if sessionID == "" {
		return fmt.Errorf("sqlite: revoke session refresh tokens of user %s: no session id", userID)
	}
	_, err := s.write.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ?
		WHERE user_id = ? AND session_id = ? AND revoked_at IS NULL`, now.UnixNano(), userID, sessionID)
	if err != nil {
		return fmt.Errorf("sqlite: revoke session refresh tokens of user %s: %w", userID, err)
	}
	return nil
}

// PruneRefreshTokens walks the tokens expired by cut in the order of the
// refresh_tokens_expiry index, a batch at a time, and deletes those of each
// batch whose family has no token live at cut. The cursor moves past tokens
// kept (used tokens of a live family), so each is read once per call.
func (s *Store) PruneRefreshTokens(ctx context.Context, cut time.Time) (int64, error) {
	var (
		total     int64
		afterExp  int64 = math.MinInt64
		afterHash string
	)
	for {
		rows, err := s.read.QueryContext(ctx, `SELECT hash, min(expires_at, idle_expires_at) FROM refresh_tokens
			WHERE min(expires_at, idle_expires_at) <= ?
				AND (min(expires_at, idle_expires_at), hash) > (?, ?)
			ORDER BY min(expires_at, idle_expires_at), hash LIMIT ?`,
			cut.UnixNano(), afterExp, afterHash, store.PruneRefreshBatch)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune refresh tokens: %w", err)
		}
		var args []any
		for rows.Next() {
			if err := rows.Scan(&afterHash, &afterExp); err != nil {
				rows.Close()
				return total, fmt.Errorf("sqlite: prune refresh tokens: %w", err)
			}
			args = append(args, afterHash)
		}
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("sqlite: prune refresh tokens: %w", err)
		}
		if len(args) == 0 {
			return total, nil
		}
		res, err := s.write.ExecContext(ctx, `DELETE FROM refresh_tokens
			WHERE hash IN (?`+strings.Repeat(", ?", len(args)-1)+`)
				AND NOT EXISTS (SELECT 1 FROM refresh_tokens o WHERE o.family_id = refresh_tokens.family_id
					AND min(o.expires_at, o.idle_expires_at) > ?)`, append(args, cut.UnixNano())...)
		if err != nil {
			return total, fmt.Errorf("sqlite: prune refresh tokens: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqlite: prune refresh tokens: %w", err)
		}
		total += n
		if len(args) < store.PruneRefreshBatch {
			return total, nil
		}
	}
}
