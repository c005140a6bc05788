package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/store"
)

// ClientAndUser reads the client and the account in one batch: both
// statements in one round trip.
func (s *Store) ClientAndUser(ctx context.Context, clientID, userID string) (*store.Client, *store.User, error) {
	var (
		c          *store.Client
		u          *store.User
		cerr, uerr error
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT `+clientColumns+` FROM clients WHERE id = $1`, clientID).QueryRow(func(row pgx.Row) error {
		c, cerr = scanClient(row)
		return nil
	})
	b.Queue(`SELECT `+userColumns+` FROM users WHERE id = $1`, userID).QueryRow(func(row pgx.Row) error {
		u, uerr = scanUser(row)
		return nil
	})
	if err := s.pool.batch(ctx, b); err != nil {
		return nil, nil, fmt.Errorf("postgres: client %s and user: %w", clientID, err)
	}
	if err := batchResult(cerr, uerr); err != nil {
		return nil, nil, fmt.Errorf("postgres: client %s and user: %w", clientID, err)
	}
	return c, u, nil
}

// ClientAndRefreshToken reads the client, and the token joined with its
// account, in one batch: both statements in one round trip.
func (s *Store) ClientAndRefreshToken(ctx context.Context, clientID, hash string) (*store.Client, *store.RefreshToken, *store.User, error) {
	var (
		c          *store.Client
		cerr, terr error
		rs         refreshScan
		us         userScan
		foundToken bool
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT `+clientColumns+` FROM clients WHERE id = $1`, clientID).QueryRow(func(row pgx.Row) error {
		c, cerr = scanClient(row)
		return nil
	})
	b.Queue(refreshTokenAndUserSQL, hash).QueryRow(func(row pgx.Row) error {
		terr = row.Scan(append(rs.dests(), us.dests()...)...)
		foundToken = terr == nil
		return nil
	})
	if err := s.pool.batch(ctx, b); err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: client %s and refresh token: %w", clientID, err)
	}
	if err := batchResult(cerr, terr); err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: client %s and refresh token: %w", clientID, err)
	}
	if !foundToken {
		return c, nil, nil, nil
	}
	return c, rs.token(), us.user(), nil
}

// batchResult is the error of a batch that read a client (cerr) and a row
// that may be absent (rerr): ErrNotFound without the client, nil without
// the row.
func batchResult(cerr, rerr error) error {
	if cerr != nil {
		return notFound(cerr)
	}
	if rerr != nil && !errors.Is(rerr, pgx.ErrNoRows) {
		return rerr
	}
	return nil
}
