package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/councilforms/idp/store"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, scopes, created_at,
	backchannel_logout_uri, backchannel_logout_session_required, id_token_signed_response_alg,
	previous_secret_hash, previous_secret_expires_at, disabled_at`

func scanClient(row interface{ Scan(...any) error }) (*store.Client, error) {
	var (
		c                       store.Client
		redirects, logouts, scp string
		created, previous, off  sql.NullInt64
	)
	if err := row.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &redirects, &logouts, &scp, &created,
		&c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired, &c.IDTokenSignedResponseAlg,
		&c.PreviousSecretHash, &previous, &off); err != nil {
		return nil, err
	}
	c.PreviousSecretExpiresAt = fromNanos(previous)
	c.DisabledAt = fromNanos(off)
	var err error
	if c.RedirectURIs, err = decodeList(redirects); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = decodeList(logouts); err != nil {
		return nil, err
	}
	if c.Scopes, err = decodeList(scp); err != nil {
		return nil, err
	}
	c.CreatedAt = fromNanos(created)
	return &c, nil
}

func (s *Store) CreateClient(ctx context.Context, c *store.Client) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.SecretHash, c.Public, encodeList(c.RedirectURIs), encodeList(c.PostLogoutRedirectURIs),
		encodeList(c.Scopes), nanos(c.CreatedAt), c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.IDTokenSignedResponseAlg,
		c.PreviousSecretHash, nanos(c.PreviousSecretExpiresAt), nanos(c.DisabledAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create client %s: id taken: %w", c.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create client %s: %w", c.ID, err)
	}
	return nil
}

func (s *Store) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	c, err := scanClient(s.read.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("sqlite: client %s: %w", id, notFound(err))
	}
	return c, nil
}

func (s *Store) UpdateClient(ctx context.Context, c *store.Client) error {
	res, err := s.write.ExecContext(ctx, `UPDATE clients SET name = ?, public = ?, redirect_uris = ?,
		post_logout_redirect_uris = ?, scopes = ?, backchannel_logout_uri = ?,
		backchannel_logout_session_required = ?, id_token_signed_response_alg = ?, disabled_at = ? WHERE id = ?`,
		c.Name, c.Public, encodeList(c.RedirectURIs), encodeList(c.PostLogoutRedirectURIs), encodeList(c.Scopes),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.IDTokenSignedResponseAlg, nanos(c.DisabledAt), c.ID)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update client %s: %w", c.ID, err)
	}
	return nil
}

func (s *Store) ListClients(ctx context.Context) ([]*store.Client, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+clientColumns+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	defer rows.Close()
	var cs []*store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list clients: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	return cs, nil
}

// DeleteClient removes the client and, in the same transaction, its refresh
// tokens: they could never be used again.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if err := checkAffected(res); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE client_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete client %s: %w", id, err)
	}
	return nil
}

func (s *Store) SetClientSecret(ctx context.Context, id, secretHash string, keepPreviousUntil time.Time) error {
	until := nanos(keepPreviousUntil)
	res, err := s.write.ExecContext(ctx, `UPDATE clients SET
			previous_secret_hash = CASE WHEN ? IS NULL THEN '' ELSE secret_hash END,
			previous_secret_expires_at = ?, secret_hash = ?
		WHERE id = ?`, until, until, secretHash, id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: set client secret %s: %w", id, err)
	}
	return nil
}

func (s *Store) ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT secret_hash FROM clients WHERE id = ?`, id).Scan(&current); err != nil {
			return notFound(err)
		}
		if current != oldHash {
			return store.ErrConflict
		}
		_, err := tx.ExecContext(ctx, `UPDATE clients SET secret_hash = ? WHERE id = ?`, newHash, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: replace client secret hash %s: %w", id, err)
	}
	return nil
}
