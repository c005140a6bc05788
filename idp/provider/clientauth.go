package provider

// Client authentication: the library's client lookup and secret check, with
// the limits on wrong secrets (clientthrottle.go) and the secret hashes
// (clientsecrets.go).

import (
	"context"
	"errors"
	"fmt"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

func (s *opStorage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.p.client(ctx, clientID)
	// An unknown or disabled client is invalid_client wherever the library
	// asks (the token endpoint answers 401 invalid_client, a refresh grant
	// included, never a server error); /authorize shows its error page.
	if errors.Is(err, store.ErrNotFound) {
		return nil, oidc.ErrInvalidClient().WithParent(fmt.Errorf("provider: unknown client %q", clientID))
	}
	if err == nil && !c.DisabledAt.IsZero() {
		// Disabled by an admin: refused everywhere as an unknown client is.
		return nil, oidc.ErrInvalidClient().WithParent(fmt.Errorf("provider: client %q is disabled", clientID))
	}
	if err != nil {
		dependencyFailed(ctx, err)
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if hc := httpFromContext(ctx); hc != nil {
		hc.clientID, hc.signingAlg = c.ID, clientSigningAlg(c)
	}
	return &oidcClient{c: c, p: s.p, askedResponseType: askedResponseType(ctx)}, nil
}

// AuthorizeClientIDSecret checks a client's secret, after the limits on
// failed attempts (limits.ClientSecrets): a caller past them is refused
// before any secret is checked, and withClientThrottle answers 429.
func (s *opStorage) AuthorizeClientIDSecret(ctx context.Context, clientID, secret string) error {
	p := s.p
	network := networkOf(p.clientIP(ctx))
	// The client id's failures are read with the network's, though checked
	// only once the client is known to have a secret.
	fails, err := p.throttle.failures(ctx, clientID, network)
	if err != nil {
		return p.clientAuthRefused(ctx, err)
	}
	if err := p.throttle.checkNetwork(fails); err != nil {
		return p.clientAuthRefused(ctx, err)
	}
	// An unknown client id or a public client has no secret to guess, and
	// client ids are not secret: such requests cost no hashing and are not
	// counted, so made-up ids from ever new addresses write nothing.
	c, err := p.client(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("provider: unknown client")
	}
	if err == nil && !c.DisabledAt.IsZero() {
		return errors.New("provider: client is disabled")
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if c.Public || c.SecretHash == "" {
		return errors.New("provider: public client presented a secret")
	}
	if err := p.throttle.checkClient(ctx, c.ID, network, fails); err != nil {
		return p.clientAuthRefused(ctx, err)
	}
	ok, err := p.verifyClientSecret(ctx, c, secret)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if !ok {
		s.p.audit(ctx, "client.auth_failed", "", clientID, "wrong client secret")
		return p.clientAuthFailed(ctx, c.ID, network, errors.New("provider: wrong client secret"))
	}
	if err := p.throttle.succeeded(ctx, c.ID, network); err != nil {
		p.log.WarnContext(ctx, "client authentication: could not record the network as known", "client_id", c.ID, "err", err)
	}
	return nil
}

// clientAuthFailed counts a failed client authentication and returns fail;
// when the count cannot be recorded the request fails as a server error
// rather than go uncounted.
func (p *Provider) clientAuthFailed(ctx context.Context, clientID, network string, fail error) error {
	locked, err := p.throttle.failed(ctx, clientID, network)
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	if locked != "" {
		// Once per lock, not per refused request: a guesser cannot flood the log.
		p.log.WarnContext(ctx, "client authentication locked after too many failed attempts",
			"locked", locked, "client_id", clientID, "ip", p.clientIP(ctx))
	}
	return fail
}

// clientAuthRefused turns a throttle refusal into the 429 answer; any other
// error (the counters could not be read) fails closed as a server error.
func (p *Provider) clientAuthRefused(ctx context.Context, err error) error {
	var t errThrottled
	if !errors.As(err, &t) {
		return oidc.ErrServerError().WithParent(err)
	}
	if hc := httpFromContext(ctx); hc != nil {
		hc.throttled = &t
	}
	return t
}
