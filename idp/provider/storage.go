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
	keyAuthRequest   = "oidc:authreq:"  // + auth request id
	keyCode          = "oidc:code:"     // + sha256(code): the redeemable auth request
	keyGrant         = "oidc:grant:"    // + sha256(code): what was issued from a redeemed code
	keyAccessToken   = "oidc:at:"       // + token id
	keySession       = "oidc:session:"  // + sha256(cookie value)
	keyRevokedFamily = "oidc:rvk:fam:"  // + family id: access tokens of the family are void
	keyRevokedUser   = "oidc:rvk:user:" // + user id [+ ":" + client id]: tokens issued before the stored time are void
	// IdP sessions by their sid (sessions.go).
	keySessionByID    = "oidc:sid:"        // + sid: the session record's key and its user
	keySessionClients = "oidc:sidclients:" // + sid: a list of the clients given a code in the session
	keyUserSessions   = "oidc:usersids:"   // + user id: a list of the sids of the user's sessions
	keyRevokedSession = "oidc:rvk:sid:"    // + sid: tokens issued in the session are void
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
