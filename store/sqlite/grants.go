package sqlite

import (
	"context"
	"errors"

	"github.com/councilforms/idp/store"
)

// ClientAndUser reads the client, then the account: the database is in
// process, so two statements cost no network round trip.
func (s *Store) ClientAndUser(ctx context.Context, clientID, userID string) (*store.Client, *store.User, error) {
	c, err := s.ClientByID(ctx, clientID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.UserByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return c, u, nil
}

// ClientAndRefreshToken reads the client, then the token with its account
// (as ClientAndUser, two statements in process).
func (s *Store) ClientAndRefreshToken(ctx context.Context, clientID, hash string) (*store.Client, *store.RefreshToken, *store.User, error) {
	c, err := s.ClientByID(ctx, clientID)
	if err != nil {
		return nil, nil, nil, err
	}
	t, u, err := s.RefreshTokenAndUser(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return c, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return c, t, u, nil
}

// CreateRefreshTokenAndUser inserts the token, then reads its account (as
// ClientAndUser, two statements in process).
func (s *Store) CreateRefreshTokenAndUser(ctx context.Context, t *store.RefreshToken) (*store.User, error) {
	if err := s.CreateRefreshToken(ctx, t); err != nil {
		return nil, err
	}
	u, err := s.UserByID(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return u, err
}
