package provider

// Revocation: markers that void tokens and sessions early, RP-initiated
// logout through the library, and the revocation endpoint (RFC 7009).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

// revocationKeys are the markers RevokeUserTokens and logouts leave for a user:
// everything, and (when clientID is given) one client's.
func revocationKeys(userID, clientID string) []string {
	keys := make([]string, 0, 3)
	keys = append(keys, keyRevokedUser+userID)
	if clientID != "" {
		keys = append(keys, keyRevokedUser+userID+":"+clientID)
	}
	return keys
}

// revokedBefore reports whether something issued at t to the user (and
// client, if given) has been revoked by RevokeUserTokens or a logout, or its
// IdP session sid (if given) has ended.
func (p *Provider) revokedBefore(ctx context.Context, userID, clientID string, t time.Time, sid string) (bool, error) {
	keys := revocationKeys(userID, clientID)
	if sid != "" {
		keys = append(keys, keyRevokedSession+sid)
	}
	markers, err := p.eph.GetMany(ctx, keys...)
	if err != nil {
		return false, fmt.Errorf("provider: load revocation markers: %w", err)
	}
	if sid != "" {
		if markers[len(markers)-1] != nil {
			return true, nil
		}
		markers = markers[:len(markers)-1]
	}
	return revokedBy(markers, t)
}

// revokedBy reports whether any revocation marker (a cut-off time; nil when
// absent) covers something issued at t.
func revokedBy(markers [][]byte, t time.Time) (bool, error) {
	for _, raw := range markers {
		if raw == nil {
			continue
		}
		var cut time.Time
		if err := cut.UnmarshalText(raw); err != nil {
			return false, fmt.Errorf("provider: decode revocation marker: %w", err)
		}
		if !t.After(cut) {
			return true, nil
		}
	}
	return false, nil
}

func (p *Provider) markRevoked(ctx context.Context, userID, clientID string) error {
	key := keyRevokedUser + userID
	if clientID != "" {
		key += ":" + clientID
	}
	raw, _ := p.now().MarshalText()
	if err := p.eph.Put(ctx, key, raw, p.cfg.revocationMarkerTTL()); err != nil {
		return fmt.Errorf("provider: store revocation marker: %w", err)
	}
	return nil
}

func (s *opStorage) TerminateSession(ctx context.Context, userID, clientID string) error {
	_, err := s.TerminateSessionFromRequest(ctx, &op.EndSessionRequest{UserID: userID, ClientID: clientID})
	return err
}

// TerminateSessionFromRequest ends the browser's IdP session everywhere (its
// form apps are told by back-channel logout and its tokens revoked), or,
// without a session cookie, the session a valid id_token_hint names; and it
// revokes the person's tokens for the client that asked (RP-initiated
// logout). The library has already checked that the redirect is a
// registered post-logout URI.
func (s *opStorage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	p := s.p
	// Every failure here is the database's or the ephemeral store's: the
	// person gets the try-again page, and trying again ends what is left.
	failed := func(err error) (string, error) {
		dependencyFailed(ctx, err)
		return "", err
	}
	userID := req.UserID
	ended := false
	if hc := httpFromContext(ctx); hc != nil {
		if sess, err := p.endBrowserSession(ctx, hc.w, hc.r, ""); err != nil {
			return failed(err)
		} else if sess != nil {
			ended = true
			if userID == "" {
				userID = sess.UserID
			}
		}
	}
	if hint := req.IDTokenHintClaims; !ended && hint != nil && hint.SessionID != "" {
		if err := p.endSessionByHint(ctx, hint.GetSubject(), hint.SessionID); err != nil {
			return failed(err)
		}
	}
	if userID != "" && req.ClientID != "" {
		if err := p.db.RevokeUserRefreshTokens(ctx, userID, req.ClientID, p.now()); err != nil {
			return failed(fmt.Errorf("provider: revoke refresh tokens: %w", err))
		}
		if err := p.markRevoked(ctx, userID, req.ClientID); err != nil {
			return failed(err)
		}
	}
	if userID != "" {
		p.audit(ctx, "logout", userID, req.ClientID, "signed out (RP-initiated logout)")
	}
	return req.RedirectURI, nil
}

const refreshTokenIDPrefix = "rt:"

// GetRefreshTokenInfo identifies a refresh token for the revocation endpoint.
func (s *opStorage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rt, err := s.p.db.RefreshTokenByHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", fmt.Errorf("provider: load refresh token: %w", err)
	}
	return rt.UserID, refreshTokenIDPrefix + rt.Hash, nil
}

// RevokeToken revokes a refresh token (with its family) or an access token.
// Unknown tokens are not an error (RFC 7009 section 2.2); a token of another
// client is refused.
func (s *opStorage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	p := s.p
	if hash, ok := strings.CutPrefix(tokenOrID, refreshTokenIDPrefix); ok {
		rt, err := p.db.RefreshTokenByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		if rt.ClientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("The token was not issued to this client.")
		}
		if err := p.revokeFamily(ctx, rt.FamilyID); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		p.audit(ctx, "token.revoked", rt.UserID, clientID, "refresh token family revoked by the client")
		return nil
	}
	var at accessToken
	if _, err := getJSON(ctx, p.eph, keyAccessToken+tokenOrID, &at); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if at.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("The token was not issued to this client.")
	}
	if err := p.eph.Delete(ctx, keyAccessToken+tokenOrID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}
