package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/councilforms/idp/store"
)

func (s *Store) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO signing_keys
		(id, algorithm, public_jwk, private_encrypted, created_at, active_from, retired_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Algorithm, nonNilBytes(k.PublicJWK), nonNilBytes(k.PrivateEncrypted),
		ts(k.CreatedAt), ts(k.ActiveFrom), ts(k.RetiredAt), ts(k.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: create signing key %s: id taken: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create signing key %s: %w", k.ID, err)
	}
	return nil
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, algorithm, public_jwk, private_encrypted,
		created_at, active_from, retired_at, expires_at
		FROM signing_keys ORDER BY active_from, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list signing keys: %w", err)
	}
	defer rows.Close()
	var ks []*store.SigningKey
	for rows.Next() {
		var (
			k                                 store.SigningKey
			created, active, retired, expires pgtype.Timestamptz
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicJWK, &k.PrivateEncrypted,
			&created, &active, &retired, &expires); err != nil {
			return nil, fmt.Errorf("postgres: list signing keys: %w", err)
		}
		k.CreatedAt, k.ActiveFrom = fromTS(created), fromTS(active)
		k.RetiredAt, k.ExpiresAt = fromTS(retired), fromTS(expires)
		ks = append(ks, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list signing keys: %w", err)
	}
	return ks, nil
}

func (s *Store) RetireSigningKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE signing_keys SET retired_at = $1, expires_at = $2 WHERE id = $3`,
		ts(retiredAt), ts(expiresAt), id)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: retire signing key %s: %w", id, err)
	}
	return nil
}

func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < $1`, now.UTC())
	if err != nil {
		return fmt.Errorf("postgres: delete expired signing keys: %w", err)
	}
	return nil
}

// nonNilBytes keeps NOT NULL bytea columns happy when a caller passes nil.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
