package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/councilforms/idp/store"
)

// A refresh grant spans two stores: the rotation commits in the durable
// store, the new access token lives in the ephemeral one. Neither failure
// may leave a client whose grant failed holding a token the provider treats
// as spent, or its next try would look like theft (RFC 9700 reuse) and cost
// the person their session:
//
//   - The access token is written before the rotation commits. If the
//     ephemeral store fails, nothing is rotated and the presented token stays
//     current however long the outage lasts.
//   - A failure after the commit (the answer lost to a timeout, a dropped
//     connection, an error signing the ID token) is covered by the reuse
//     interval: for RefreshReuseInterval after a rotation, the token's own
//     client presenting it again gets the same successor, as long as that
//     successor is unused. The successor's value is not stored anywhere (the
//     store holds only hashes): it is derived from the presented token with a
//     key only the provider holds (successorValue), so it can be given again.
//
// Past the interval, from another client, or after the successor was used,
// a second presentation is reuse, as before: the family is revoked and
// refresh.reuse audited.

// successorValue is the refresh token that replaces value when value is
// rotated: an HMAC of value under a key derived from the key-encryption key.
// It is as unguessable as a random token to anyone without that key, and the
// same every time, so a retry of a rotation can be answered with the
// successor the first attempt made. A process with another key-encryption key
// derives other successors; their retries then count as reuse, as every
// second presentation did before successors were derived.
func (p *Provider) successorValue(value string) string {
	m := hmac.New(sha256.New, deriveKey(p.cfg.KeyEncryptionKey, "refresh-token-successor"))
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// presentingClient is the client the token endpoint looked up for this
// request, "" outside one.
func presentingClient(ctx context.Context) string {
	if hc := httpFromContext(ctx); hc != nil {
		return hc.clientID
	}
	return ""
}

// retriedRotation returns the successor of used, a refresh token already
// rotated, when presenting used (whose value is value) again is a retry of
// that rotation; nil when it is reuse. A retry is the token's own client
// presenting it within RefreshReuseInterval of the rotation while the
// successor has been neither used nor revoked.
func (p *Provider) retriedRotation(ctx context.Context, used *store.RefreshToken, value string, now time.Time) (*store.RefreshToken, error) {
	interval := p.cfg.RefreshReuseInterval
	if interval <= 0 || now.Sub(used.UsedAt) >= interval || presentingClient(ctx) != used.ClientID {
		return nil, nil
	}
	next, err := p.db.RefreshTokenByHash(ctx, hashToken(p.successorValue(value)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil // rotated to a successor this process cannot derive
	}
	if err != nil {
		return nil, fmt.Errorf("provider: load successor refresh token: %w", err)
	}
	if next.FamilyID != used.FamilyID || !next.UsedAt.IsZero() || !next.RevokedAt.IsZero() {
		return nil, nil
	}
	return next, nil
}

// refreshServerError is the answer to a refresh grant a store failure
// stopped: 500 server_error, which tells the client to keep its refresh token
// and try again (invalid_grant would tell it to discard the token). The cause
// is logged by the library, never shown to the client.
func refreshServerError(err error) *oidc.Error {
	return oidc.ErrServerError().
		WithDescription("The refresh could not be completed. Keep the refresh token and try again.").
		WithParent(err)
}

// refreshFailed stands in for a refresh token that could not be read. The
// library answers every error of TokenRequestByRefreshToken with
// invalid_grant, so the failure travels in the request instead and
// CreateAccessAndRefreshTokens, which the library calls next, reports it as
// a server error. The request names the presenting client and allows every
// scope, so that the library's checks in between let it through.
func (p *Provider) refreshFailed(ctx context.Context, err error) *refreshRequest {
	return &refreshRequest{
		token:   &store.RefreshToken{ClientID: presentingClient(ctx)},
		scopes:  supportedScopes,
		failure: refreshServerError(err),
	}
}

// refreshAfterLostRace decides a rotation of old that found old no longer
// current: another presentation of the same token rotated (or revoked) it
// first. It returns nil when this presentation is a retry of that rotation,
// whose successor the grant then gives; otherwise the error to answer with,
// after handling reuse.
func (p *Provider) refreshAfterLostRace(ctx context.Context, old *store.RefreshToken, value string) error {
	cur, err := p.db.RefreshTokenByHash(ctx, old.Hash)
	if errors.Is(err, store.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("The refresh token is not valid.")
	}
	if err != nil {
		return refreshServerError(fmt.Errorf("provider: reload refresh token: %w", err))
	}
	if !cur.RevokedAt.IsZero() {
		return oidc.ErrInvalidGrant().WithDescription("The refresh token has been revoked.")
	}
	next, err := p.retriedRotation(ctx, cur, value, p.now())
	if err != nil {
		return refreshServerError(err)
	}
	if next == nil {
		p.refreshReuse(ctx, cur)
		return oidc.ErrInvalidGrant().WithDescription("The refresh token has already been used.")
	}
	return nil
}
