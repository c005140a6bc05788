package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

// opStorage adapts the store to the library. It is a separate type so the
// library's method set never becomes part of Provider's API.
type opStorage struct{ p *Provider }

var (
	_ op.Storage                        = (*opStorage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*opStorage)(nil)
	_ op.CanTerminateSessionFromRequest = (*opStorage)(nil)
	_ op.AuthRequest                    = (*authRequest)(nil)
	_ op.RefreshTokenRequest            = (*refreshRequest)(nil)
)

// Ephemeral record keys.
const (
	keyAuthRequest   = store.KeyAuthRequest
	keyCode          = store.KeyCode
	keyGrant         = store.KeyGrant
	keyAccessToken   = store.KeyAccessToken
	keySession       = store.KeySession
	keyRevokedFamily = store.KeyRevokedFamily
	keyRevokedUser   = store.KeyRevokedUser
	// IdP sessions by their sid (sessions.go).
	keySessionByID    = store.KeySessionByID
	keySessionClients = store.KeySessionClients
	keyUserSessions   = store.KeyUserSessions
	keyRevokedSession = store.KeyRevokedSession
)

func getJSON(ctx context.Context, eph store.Ephemeral, key string, v any) (int64, error) {
	raw, version, err := eph.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return 0, fmt.Errorf("provider: decode %s record: %w", strings.SplitN(key, ":", 3)[1], err)
	}
	return version, nil
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("provider: JWT client authentication is not supported")
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("provider: the JWT profile grant is not supported")
}

func (s *opStorage) Health(ctx context.Context) error {
	if err := s.p.db.Ping(ctx); err != nil {
		return err
	}
	return s.p.eph.Ping(ctx)
}
