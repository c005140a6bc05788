package b2c

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// How long the policy's discovery document and keys are kept, and how soon an
// unknown key id may fetch them again (B2C rolls its keys over with notice).
const (
	keysTTL     = time.Hour
	refetchWait = time.Minute
	leeway      = 5 * time.Minute
)

// keyCache holds the policy's issuer and signing keys.
type keyCache struct {
	client       *http.Client
	discoveryURL string
	now          func() time.Time

	mu      sync.Mutex
	issuer  string
	keys    jose.JSONWebKeySet
	fetched time.Time
}

// idClaims are the claims of a B2C ID token that the check reads.
type idClaims struct {
	jwt.Claims
	OID string `json:"oid"`
}

// verify checks raw's signature, issuer, audience and times, and returns its sub
// and oid.
func (k *keyCache) verify(ctx context.Context, raw, clientID string) (sub, oid string, err error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256})
	if err != nil {
		return "", "", fmt.Errorf("parse: %w", err)
	}
	if len(tok.Headers) != 1 {
		return "", "", errors.New("not one signature")
	}
	kid := tok.Headers[0].KeyID
	issuer, key, err := k.key(ctx, kid)
	if err != nil {
		return "", "", err
	}
	var c idClaims
	if err := tok.Claims(key.Key, &c); err != nil {
		return "", "", fmt.Errorf("signature: %w", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{clientID}, Time: k.now()}, leeway); err != nil {
		return "", "", fmt.Errorf("claims: %w", err)
	}
	if c.Expiry == nil {
		return "", "", errors.New("no exp")
	}
	return c.Subject, c.OID, nil
}

// key is the policy's issuer and the key kid, fetching the discovery document and
// the JWKS when they are old or do not hold kid.
func (k *keyCache) key(ctx context.Context, kid string) (string, *jose.JSONWebKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	fresh := !k.fetched.IsZero() && now.Sub(k.fetched) < keysTTL
	if fresh {
		if keys := k.keys.Key(kid); len(keys) > 0 {
			return k.issuer, &keys[0], nil
		}
		if now.Sub(k.fetched) < refetchWait {
			return "", nil, fmt.Errorf("unknown key id %q", kid)
		}
	}
	if err := k.fetch(ctx); err != nil {
		return "", nil, err
	}
	if keys := k.keys.Key(kid); len(keys) > 0 {
		return k.issuer, &keys[0], nil
	}
	return "", nil, fmt.Errorf("unknown key id %q", kid)
}

func (k *keyCache) fetch(ctx context.Context) error {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := k.getJSON(ctx, k.discoveryURL, &disc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if disc.Issuer == "" || disc.JWKSURI == "" {
		return errors.New("discovery without issuer or jwks_uri")
	}
	var set jose.JSONWebKeySet
	if err := k.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	k.issuer, k.keys, k.fetched = disc.Issuer, set, k.now()
	return nil
}

func (k *keyCache) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}
