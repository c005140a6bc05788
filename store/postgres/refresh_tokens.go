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

const refreshColumns = `hash, family_id, client_id, user_id, scopes, audience, amr,
	auth_time, created_at, expires_at, idle_expires_at, used_at, revoked_at, session_id`

const insertRefreshTokenSQL = `INSERT INTO refresh_tokens (` + refreshColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// refreshTokenArgs are t's values for insertRefreshTokenSQL.
func refreshTokenArgs(t *store.RefreshToken) []any {
	return []any{t.Hash, t.FamilyID, t.ClientID, t.UserID, list(t.Scopes), list(t.Audience), list(t.AMR),
		ts(t.AuthTime), ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.IdleExpiresAt), ts(t.UsedAt), ts(t.RevokedAt), t.SessionID}
}

func insertRefreshToken(ctx context.Context, q querier, t *store.RefreshToken) error {
	_, err := q.Exec(ctx, insertRefreshTokenSQL, refreshTokenArgs(t)...)
	return insertRefreshTokenError(err)
}

func insertRefreshTokenError(err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("hash taken: %w", store.ErrConflict)
	}
	return err
}

func (s *Store) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	// Errors name the family, never the hash: the hash is the lookup key of a live credential.
	if err := insertRefreshToken(ctx, s.pool, t); err != nil {
		return fmt.Errorf("postgres: create refresh token in family %s: %w", t.FamilyID, err)
	}
	return nil
}

func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	var rs refreshScan
	err := s.pool.QueryRow(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE hash = $1`, hash).Scan(rs.dests()...)
	if err != nil {
		return nil, fmt.Errorf("postgres: refresh token: %w", notFound(err))
	}
	return rs.token(), nil
}

// refreshTokenAndUserSQL reads a refresh token ($1, its hash) joined with its account.
var refreshTokenAndUserSQL = `SELECT ` + qualify("t", refreshColumns) + `, ` + qualify("u", userColumns) + `
	FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1`

// RefreshTokenAndUser reads the token and its account in one query.
func (s *Store) RefreshTokenAndUser(ctx context.Context, hash string) (*store.RefreshToken, *store.User, error) {
	var (
		rs refreshScan
		us userScan
	)
	err := s.pool.QueryRow(ctx, refreshTokenAndUserSQL, hash).Scan(append(rs.dests(), us.dests()...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: refresh token and user: %w", notFound(err))
	}
	return rs.token(), us.user(), nil
}

// refreshScan receives the refreshColumns of a row.
type refreshScan struct {
	t                                               store.RefreshToken
	authTime, created, expires, idle, used, revoked pgtype.Timestamptz
}

func (s *refreshScan) dests() []any {
	t := &s.t
	return []any{&t.Hash, &t.FamilyID, &t.ClientID, &t.UserID, &t.Scopes, &t.Audience, &t.AMR,
		&s.authTime, &s.created, &s.expires, &s.idle, &s.used, &s.revoked, &t.SessionID}
}

func (s *refreshScan) token() *store.RefreshToken {
	t := s.t
	t.Scopes, t.Audience, t.AMR = fromList(t.Scopes), fromList(t.Audience), fromList(t.AMR)
	t.AuthTime, t.CreatedAt, t.ExpiresAt = fromTS(s.authTime), fromTS(s.created), fromTS(s.expires)
	t.IdleExpiresAt, t.UsedAt, t.RevokedAt = fromTS(s.idle), fromTS(s.used), fromTS(s.revoked)
	return &t
}

// RotateRefreshToken marks oldHash used only if it is still current (the
// conditional UPDATE is the compare-and-set: a concurrent rotation blocks on the
// row lock, then finds used_at set and matches nothing) and inserts next in the
// same transaction.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	// One statement, so one round trip and an atomic change: the old token is marked
	// used only if it is current, and the next one is inserted only if it was.
	t := next
	tag, err := s.pool.Exec(ctx, `WITH used AS (
			UPDATE refresh_tokens SET used_at = $15
			WHERE hash = $16 AND used_at IS NULL AND revoked_at IS NULL
			RETURNING 1)
		INSERT INTO refresh_tokens (`+refreshColumns+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM used`,
		t.Hash, t.FamilyID, t.ClientID, t.UserID, list(t.Scopes), list(t.Audience), list(t.AMR),
		ts(t.AuthTime), ts(t.CreatedAt), ts(t.ExpiresAt), ts(t.IdleExpiresAt), ts(t.UsedAt), ts(t.RevokedAt),
		t.SessionID, now.UTC(), oldHash)
	switch {
	case isUniqueViolation(err):
		err = fmt.Errorf("hash taken: %w", store.ErrConflict)
	case err == nil && tag.RowsAffected() == 0:
		// Not rotated: tell a spent or revoked token (reuse) from an unknown one.
		var exists bool
		if err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refresh_tokens WHERE hash = $1)`,
			oldHash).Scan(&exists); err == nil {
			err = store.ErrNotFound
			if exists {
				err = fmt.Errorf("token already used or revoked: %w", store.ErrConflict)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: rotate refresh token in family %s: %w", next.FamilyID, err)
	}
	return nil
}

// RevokeRefreshFamily keeps the first revocation time of tokens already revoked.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
		WHERE family_id = $2 AND revoked_at IS NULL`, now.UTC(), familyID)
	if err != nil {
		return fmt.Errorf("postgres: revoke refresh family %s: %w", familyID, err)
	}
	return nil
}

func (s *Store) RevokeUserRefreshTokens(ctx context.Context, userID, clientID string, now time.Time) error {
	var err error
	if clientID == "" {
		_, err = s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
			WHERE user_id = $2 AND revoked_at IS NULL`, now.UTC(), userID)
	} else {
		_, err = s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
			WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL`, now.UTC(), userID, clientID)
	}
	if err != nil {
		return fmt.Errorf("postgres: revoke refresh tokens of user %s: %w", userID, err)
	}
	return nil
}

func (s *Store) SessionClients(ctx context.Context, userID, sessionID string, now time.Time) ([]store.SessionClient, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT session_id, client_id FROM refresh_tokens
		WHERE user_id = $1 AND session_id <> '' AND ($2 = '' OR session_id = $2)
			AND revoked_at IS NULL AND expires_at > $3
		ORDER BY session_id, client_id`, userID, sessionID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("postgres: session clients of user %s: %w", userID, err)
	}
	scs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SessionClient, error) {
		var sc store.SessionClient
		err := row.Scan(&sc.SessionID, &sc.ClientID)
		return sc, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: session clients of user %s: %w", userID, err)
	}
	return scs, nil
}

func (s *Store) RevokeSessionRefreshTokens(ctx context.Context, userID, sessionID string, now time.Time) error {
	if sessionID == "" {
		return fmt.Errorf("postgres: revoke session refresh tokens of user %s: no session id", userID)
	}
	_, err := s.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $1
		WHERE user_id = $2 AND session_id = $3 AND revoked_at IS NULL`, now.UTC(), userID, sessionID)
	if err != nil {
		return fmt.Errorf("postgres: revoke session refresh tokens of user %s: %w", userID, err)
	}
	return nil
}

// qualify prefixes every column of a comma-separated list with a table alias.
func qualify(alias, columns string) string {
	return alias + "." + strings.Join(strings.Fields(strings.ReplaceAll(columns, ",", " ")), ", "+alias+".")
}

// PruneRefreshTokens walks the tokens expired by cut in the order of the
// refresh_tokens_expiry index, a batch at a time, and deletes those of each
// batch whose family has no token live at cut. The cursor moves past tokens
// kept (used tokens of a live family), so each is read once per call.
func (s *Store) PruneRefreshTokens(ctx context.Context, cut time.Time) (int64, error) {
	cut = cut.UTC()
	var (
		total     int64
		afterExp  = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
		afterHash string
	)
	for {
		rows, err := s.pool.Query(ctx, `SELECT hash, LEAST(expires_at, idle_expires_at) FROM refresh_tokens
			WHERE LEAST(expires_at, idle_expires_at) <= $1
				AND (LEAST(expires_at, idle_expires_at), hash) > ($2, $3)
			ORDER BY LEAST(expires_at, idle_expires_at), hash LIMIT $4`,
			cut, afterExp, afterHash, store.PruneRefreshBatch)
		if err != nil {
			return total, fmt.Errorf("postgres: prune refresh tokens: %w", err)
		}
		var hashes []string
		for rows.Next() {
			if err := rows.Scan(&afterHash, &afterExp); err != nil {
				rows.Close()
				return total, fmt.Errorf("postgres: prune refresh tokens: %w", err)
			}
			hashes = append(hashes, afterHash)
		}
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("postgres: prune refresh tokens: %w", err)
		}
		if len(hashes) == 0 {
			return total, nil
		}
		tag, err := s.pool.Exec(ctx, `DELETE FROM refresh_tokens t WHERE t.hash = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM refresh_tokens o
				WHERE o.family_id = t.family_id AND LEAST(o.expires_at, o.idle_expires_at) > $2)`, hashes, cut)
		if err != nil {
			return total, fmt.Errorf("postgres: prune refresh tokens: %w", err)
		}
		total += tag.RowsAffected()
		if len(hashes) < store.PruneRefreshBatch {
			return total, nil
		}
	}
}
