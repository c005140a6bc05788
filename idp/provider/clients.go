package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

// ErrInvalidClient reports a client registration that breaks the rules; the
// message says which rule.
var ErrInvalidClient = errors.New("invalid client")

// client returns a static client, else the registered one, read once per
// HTTP request. Nothing is kept beyond the request, so a client disabled,
// edited or given a new secret (in the console or with the CLI, on any
// process) is seen by the next one.
//
// At the token endpoint the same round trip brings what the grant checks
// next: for a code exchange the account of the code (taken just before),
// whose row the ID token's claims use (userByID); for a refresh grant the
// presented token with its account (TokenRequestByRefreshToken).
func (p *Provider) client(ctx context.Context, id string) (*store.Client, error) {
	for _, c := range p.cfg.StaticClients {
		if c.ID == id {
			return c, nil
		}
	}
	hc := httpFromContext(ctx)
	if hc != nil && hc.client != nil && hc.client.ID == id {
		return hc.client, nil
	}
	var (
		c   *store.Client
		err error
	)
	switch {
	case hc == nil:
		c, err = p.db.ClientByID(ctx, id)
	case hc.codeUserID != "":
		var u *store.User
		if c, u, err = p.db.ClientAndUser(ctx, id, hc.codeUserID); u != nil {
			hc.user = u
		}
	case hc.refreshToken != "" && hc.refresh == nil:
		var read refreshRead
		if c, read.rt, read.user, err = p.db.ClientAndRefreshToken(ctx, id, hashToken(hc.refreshToken)); err == nil {
			hc.refresh = &read
		}
	default:
		c, err = p.db.ClientByID(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("provider: client %q: %w", id, err)
	}
	if hc != nil {
		hc.client = c
	}
	return c, nil
}

// oidcClient presents a store.Client to the library.
type oidcClient struct {
	c *store.Client
	p *Provider
	// askedResponseType is the response_type of the request being served.
	askedResponseType oidc.ResponseType
}

var _ op.Client = (*oidcClient)(nil)

func (c *oidcClient) GetID() string                    { return c.c.ID }
func (c *oidcClient) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *oidcClient) PostLogoutRedirectURIs() []string { return c.c.PostLogoutRedirectURIs }

// ResponseTypes includes the response type the current /authorize request
// asks for, so the library lets it through to CreateAuthRequest, which
// refuses anything but code with unsupported_response_type (the library would
// answer unauthorized_client, which means something else: RFC 6749 4.1.2.1).
func (c *oidcClient) ResponseTypes() []oidc.ResponseType {
	if c.askedResponseType != "" && c.askedResponseType != oidc.ResponseTypeCode {
		return []oidc.ResponseType{oidc.ResponseTypeCode, c.askedResponseType}
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *oidcClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// ApplicationType is web for every client: registration already limits plain
// http redirect URIs to loopback hosts, and redirect URIs match exactly.
func (c *oidcClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

func (c *oidcClient) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic // client_secret_post is accepted as well
}

// LoginURL is the provider's own continue step, which tries the IdP session
// before sending the browser to the login pages.
func (c *oidcClient) LoginURL(id string) string {
	return c.p.issuerPath + "/authorize/continue?id=" + url.QueryEscape(id)
}
func (c *oidcClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *oidcClient) IDTokenLifetime() time.Duration      { return c.p.cfg.IDTokenTTL }
func (c *oidcClient) DevMode() bool                       { return false }
func (c *oidcClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *oidcClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *oidcClient) IsScopeAllowed(string) bool { return false } // no custom scopes

// IDTokenUserinfoClaimsAssertion puts the profile, email and phone claims in
// the ID token as well as at userinfo, so a form app needs no extra call.
func (c *oidcClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *oidcClient) ClockSkew() time.Duration             { return 0 }

// IDTokenSigningAlg is the JWS algorithm of the client's ID tokens: its
// id_token_signed_response_alg, else the provider's default. The library has
// no such hook; SigningKey picks the key by it (storage.go).
func (c *oidcClient) IDTokenSigningAlg() string {
	if alg := clientSigningAlg(c.c); alg != "" {
		return alg
	}
	return c.p.cfg.SigningAlgorithm
}

// BackchannelLogoutURI is where the client receives logout tokens; "" for none.
func (c *oidcClient) BackchannelLogoutURI() string { return c.c.BackchannelLogoutURI }

// BackchannelLogoutSessionRequired: the client's logout tokens must carry sid.
func (c *oidcClient) BackchannelLogoutSessionRequired() bool {
	return c.c.BackchannelLogoutSessionRequired
}

// signingAlgorithms are the values id_token_signed_response_alg may take;
// a signing key of each is kept (keys.go).
var signingAlgorithms = []string{"RS256", "ES256"}

// clientSigningAlg is the algorithm a client registered for its ID tokens
// (and logout tokens), "" when it registered none: the provider's default
// then applies (signingKeyFor takes "" to mean that).
func clientSigningAlg(c *store.Client) string {
	if c == nil {
		return ""
	}
	return c.IDTokenSignedResponseAlg
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateClient checks a client registration: id pattern, a name, at least
// one redirect URI, every redirect, post-logout and back-channel logout URI
// absolute, https (plain http only for localhost, 127.0.0.1 and ::1), without
// fragment, user info or wildcard; scopes among those supported; an ID token
// signing algorithm, when given, RS256 or ES256.
func ValidateClient(c *store.Client) error {
	if !clientIDPattern.MatchString(c.ID) {
		return fmt.Errorf("%w: id %q must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalidClient, c.ID)
	}
	name := strings.TrimSpace(c.Name)
	if name == "" || len(name) > 100 || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: name must be 1-100 printable characters", ErrInvalidClient)
	}
	if len(c.RedirectURIs) == 0 {
		return fmt.Errorf("%w: at least one redirect URI is required", ErrInvalidClient)
	}
	for _, u := range c.RedirectURIs {
		if err := validateClientURI(u); err != nil {
			return fmt.Errorf("%w: redirect URI %q: %v", ErrInvalidClient, u, err)
		}
	}
	for _, u := range c.PostLogoutRedirectURIs {
		if err := validateClientURI(u); err != nil {
			return fmt.Errorf("%w: post-logout redirect URI %q: %v", ErrInvalidClient, u, err)
		}
	}
	for _, s := range c.Scopes {
		if !slices.Contains(supportedScopes, s) {
			return fmt.Errorf("%w: scope %q is not supported (use %s)", ErrInvalidClient, s, strings.Join(supportedScopes, ", "))
		}
	}
	if u := c.BackchannelLogoutURI; u != "" {
		if err := validateClientURI(u); err != nil {
			return fmt.Errorf("%w: back-channel logout URI %q: %v", ErrInvalidClient, u, err)
		}
	}
	if alg := c.IDTokenSignedResponseAlg; alg != "" && !slices.Contains(signingAlgorithms, alg) {
		return fmt.Errorf("%w: ID token signing algorithm %q is not supported (use %s)", ErrInvalidClient, alg, strings.Join(signingAlgorithms, " or "))
	}
	return nil
}

func validateClientURI(raw string) error {
	if strings.ContainsAny(raw, "*") {
		return errors.New("wildcards are not allowed")
	}
	if strings.Contains(raw, "#") {
		return errors.New("a fragment is not allowed")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URI")
	}
	if !u.IsAbs() || u.Host == "" {
		return errors.New("must be an absolute URI such as https://forms.example.gov.uk/callback")
	}
	if u.User != nil {
		return errors.New("user information is not allowed")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (plain http is allowed only for localhost)")
	}
	return errors.New("must use https")
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
