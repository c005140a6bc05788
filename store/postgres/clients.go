package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/councilforms/idp/store"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, scopes, created_at,
	backchannel_logout_uri, backchannel_logout_session_required, id_token_signed_response_alg,
	previous_secret_hash, previous_secret_expires_at, disabled_at`

func scanClient(row interface{ Scan(...any) error }) (*store.Client, error) {
	var (
		c                      store.Client
		created, previous, off pgtype.Timestamptz
	)
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs,
		&c.Scopes, &created, &c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired, &c.IDTokenSignedResponseAlg,
		&c.PreviousSecretHash, &previous, &off); err != nil {
		return nil, err
	}
	c.PreviousSecretExpiresAt = fromTS(previous)
	c.DisabledAt = fromTS(off)
	c.RedirectURIs = fromList(c.RedirectURIs)
	c.PostLogoutRedirectURIs = fromList(c.PostLogoutRedirectURIs)
	c.Scopes = fromList(c.Scopes)
	c.CreatedAt = fromTS(created)
	return &c, nil
}

func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.Name, c.SecretHash, c.Public, list(c.RedirectURIs), list(c.PostLogoutRedirectURIs),
		list(c.Scopes), ts(c.CreatedAt), c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.IDTokenSignedResponseAlg,
		c.PreviousSecretHash, ts(c.PreviousSecretExpiresAt), ts(c.DisabledAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: create client %s: id taken: %w", c.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create client %s: %w", c.ID, err)
	}
	return nil
}

func (s *Store) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: client %s: %w", id, notFound(err))
	}
	return c, nil
}

func (s *Store) UpdateClient(ctx context.Context, c *store.Client) error {
	tag, err := s.pool.Exec(ctx, `UPDATE clients SET name = $2, public = $3, redirect_uris = $4,
		post_logout_redirect_uris = $5, scopes = $6, backchannel_logout_uri = $7,
		backchannel_logout_session_required = $8, id_token_signed_response_alg = $9, disabled_at = $10 WHERE id = $1`,
		c.ID, c.Name, c.Public, list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.Scopes),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.IDTokenSignedResponseAlg, ts(c.DisabledAt))
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: update client %s: %w", c.ID, err)
	}
	return nil
}

func (s *Store) ListClients(ctx context.Context) ([]*store.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
	}
	defer rows.Close()
	var cs []*store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list clients: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list clients: %w", err)
	}
	return cs, nil
}

// DeleteClient removes the client and, in the same transaction, its refresh
// tokens: they could never be used again.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM clients WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if err := checkAffected(tag); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM refresh_tokens WHERE client_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete client %s: %w", id, err)
	}
	return nil
}

func (s *Store) SetClientSecret(ctx context.Context, id, secretHash string, keepPreviousUntil time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE clients SET
			previous_secret_hash = CASE WHEN $3::timestamptz IS NULL THEN '' ELSE secret_hash END,
			previous_secret_expires_at = $3, secret_hash = $1
		WHERE id = $2`, secretHash, id, ts(keepPreviousUntil))
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: set client secret %s: %w", id, err)
	}
	return nil
}

func (s *Store) ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE clients SET secret_hash = $3 WHERE id = $1 AND secret_hash = $2`, id, oldHash, newHash)
	if err == nil && tag.RowsAffected() == 0 {
		// Nothing replaced: tell a rotated secret from a removed client.
		var one int
		err = s.pool.QueryRow(ctx, `SELECT 1 FROM clients WHERE id = $1`, id).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			err = store.ErrNotFound
		} else if err == nil {
			err = store.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: replace client secret hash %s: %w", id, err)
	}
	return nil
}
