package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/store"
)

const clientByIDSQL = `SELECT ` + clientColumns + ` FROM clients WHERE id = $1`

// ClientAndUser reads the client and the account in one batch: both
// statements in one round trip.
func (s *Store) ClientAndUser(ctx context.Context, clientID, userID string) (*store.Client, *store.User, error) {
	b := &pgx.Batch{}
	b.Queue(clientByIDSQL, clientID)
	b.Queue(`SELECT `+userColumns+` FROM users WHERE id = $1`, userID)
	br, cancel := s.pool.sendBatch(ctx, b)
	defer cancel()
	c, cerr := scanClient(br.QueryRow())
	u, uerr := scanUser(br.QueryRow())
	if err := batchResult(br, cerr, uerr); err != nil {
		return nil, nil, fmt.Errorf("postgres: client %s and user: %w", clientID, err)
	}
	if uerr != nil {
		u = nil
	}
	return c, u, nil
}

// ClientAndRefreshToken reads the client, and the token joined with its
// account, in one batch: both statements in one round trip.
func (s *Store) ClientAndRefreshToken(ctx context.Context, clientID, hash string) (*store.Client, *store.RefreshToken, *store.User, error) {
	b := &pgx.Batch{}
	b.Queue(clientByIDSQL, clientID)
	b.Queue(refreshTokenAndUserSQL, hash)
	br, cancel := s.pool.sendBatch(ctx, b)
	defer cancel()
	c, cerr := scanClient(br.QueryRow())
	var (
		rs refreshScan
		us userScan
	)
	terr := br.QueryRow().Scan(append(rs.dests(), us.dests()...)...)
	if err := batchResult(br, cerr, terr); err != nil {
		return nil, nil, nil, fmt.Errorf("postgres: client %s and refresh token: %w", clientID, err)
	}
	if terr != nil {
		return c, nil, nil, nil
	}
	return c, rs.token(), us.user(), nil
}

// CreateRefreshTokenAndUser inserts the token and reads its account in one
// batch: both statements in one round trip, the read only if the insert
// succeeded.
func (s *Store) CreateRefreshTokenAndUser(ctx context.Context, t *store.RefreshToken) (*store.User, error) {
	b := &pgx.Batch{}
	b.Queue(insertRefreshTokenSQL, refreshTokenArgs(t)...)
	b.Queue(`SELECT `+userColumns+` FROM users WHERE id = $1`, t.UserID)
	br, cancel := s.pool.sendBatch(ctx, b)
	defer cancel()
	_, ierr := br.Exec()
	u, uerr := scanUser(br.QueryRow())
	err := br.Close()
	switch {
	case ierr != nil:
		err = insertRefreshTokenError(ierr)
	case uerr != nil && !errors.Is(uerr, pgx.ErrNoRows):
		err = uerr
	case uerr != nil:
		u = nil
	}
	if err != nil {
		// Errors name the family, never the hash: the hash is the lookup key of a live credential.
		return nil, fmt.Errorf("postgres: create refresh token in family %s: %w", t.FamilyID, err)
	}
	return u, nil
}

// batchResult closes a batch that read a client (cerr) and a row that may
// be absent (rerr) and returns its error: ErrNotFound without the client,
// nil without the row.
func batchResult(br pgx.BatchResults, cerr, rerr error) error {
	err := br.Close()
	switch {
	case cerr != nil:
		return notFound(cerr)
	case rerr != nil && !errors.Is(rerr, pgx.ErrNoRows):
		return rerr
	}
	return err
}
