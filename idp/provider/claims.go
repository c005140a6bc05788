package provider

// Claims: what the ID token, userinfo and introspection say about a person
// (scopes to claims, sid, acr from amr), and whether the account may still
// be served.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/councilforms/idp/idp/amr"
	"github.com/councilforms/idp/store"
)

// ACR values: what strength of sign-in the amr proves (idp/amr).
const (
	ACRMultiFactor  = amr.MultiFactor
	ACRSingleFactor = amr.SingleFactor
)

func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // superseded by SetUserinfoFromRequest
}

// SetUserinfoFromRequest fills an ID token's claims: the user's, and sid, the
// IdP session the grant came from (Back-Channel Logout 1.0 section 2.1).
func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.p.setUserinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	var sid string
	switch r := req.(type) {
	case *authRequest:
		sid = r.SessionID
	case *refreshRequest:
		sid = r.token.SessionID
	}
	if sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

func (s *opStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	at, err := s.p.accessTokenByID(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.p.setUserinfo(ctx, info, at.UserID, at.Scopes)
}

func (s *opStorage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	at, err := s.p.accessTokenByID(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if !slices.Contains(at.Audience, clientID) {
		return errors.New("provider: token not issued to the introspecting client")
	}
	info := new(oidc.UserInfo)
	if err := s.p.setUserinfo(ctx, info, at.UserID, at.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = at.Scopes
	resp.ClientID = at.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(at.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(at.IssuedAt)
	resp.AuthTime = oidc.FromTime(at.AuthTime)
	resp.AuthenticationMethodsReferences = at.AMR
	resp.Audience = at.Audience
	resp.Issuer = s.p.cfg.Issuer
	resp.JWTID = at.ID
	return nil
}

// setUserinfo fills the claims the scopes allow; sub is always set.
func (p *Provider) setUserinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	u, err := p.userByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("provider: load user: %w", err)
	}
	if u.Status != store.UserActive {
		return errors.New("provider: user is disabled")
	}
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.GivenName = u.GivenName
			info.FamilyName = u.FamilyName
			info.Name = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
			// The language the person chose on the pages (OpenID Connect Core
			// 5.1 locale), once they have.
			if tag, err := language.Parse(u.Locale); u.Locale != "" && err == nil {
				info.Locale = oidc.NewLocale(tag)
			}
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.EmailVerified)
		case oidc.ScopePhone:
			if u.Phone != "" {
				info.PhoneNumber = u.Phone
				info.PhoneNumberVerified = oidc.Bool(u.PhoneVerified)
			}
		}
	}
	return nil
}

// userMaySignIn refuses tokens for users who are gone or disabled.
func (p *Provider) userMaySignIn(ctx context.Context, userID string) error {
	u, err := p.userByID(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("provider: user no longer exists")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(fmt.Errorf("provider: load user: %w", err))
	}
	if u.Status != store.UserActive {
		return errors.New("provider: user is disabled")
	}
	return nil
}

// userByID reads a user once per HTTP request: the row read at the start of
// a token request is the one its checks and claims agree on. Nothing is kept
// beyond the request, so a disabled account or a changed name is seen by the
// next one.
func (p *Provider) userByID(ctx context.Context, userID string) (*store.User, error) {
	hc := httpFromContext(ctx)
	if hc != nil && hc.user != nil && hc.user.ID == userID {
		return hc.user, nil
	}
	u, err := p.db.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if hc != nil {
		hc.user = u
	}
	return u, nil
}
