package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/councilforms/idp/store"
)

func (s *Store) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO signing_keys
		(id, algorithm, public_jwk, private_encrypted, created_at, active_from, retired_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, nonNilBytes(k.PublicJWK), nonNilBytes(k.PrivateEncrypted),
		nanos(k.CreatedAt), nanos(k.ActiveFrom), nanos(k.RetiredAt), nanos(k.ExpiresAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create signing key %s: id taken: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create signing key %s: %w", k.ID, err)
	}
	return nil
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, algorithm, public_jwk, private_encrypted,
		created_at, active_from, retired_at, expires_at
		FROM signing_keys ORDER BY active_from, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	defer rows.Close()
	var ks []*store.SigningKey
	for rows.Next() {
		var (
			k                                 store.SigningKey
			created, active, retired, expires sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.PublicJWK, &k.PrivateEncrypted,
			&created, &active, &retired, &expires); err != nil {
			return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
		}
		k.CreatedAt, k.ActiveFrom = fromNanos(created), fromNanos(active)
		k.RetiredAt, k.ExpiresAt = fromNanos(retired), fromNanos(expires)
		ks = append(ks, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	return ks, nil
}

func (s *Store) RetireSigningKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ?, expires_at = ? WHERE id = ?`,
		nanos(retiredAt), nanos(expiresAt), id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: retire signing key %s: %w", id, err)
	}
	return nil
}

func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM signing_keys WHERE expires_at IS NOT NULL AND expires_at < ?`,
		now.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: delete expired signing keys: %w", err)
	}
	return nil
}

// nonNilBytes keeps NOT NULL blob columns happy when a caller passes nil.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
