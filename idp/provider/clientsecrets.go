package provider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/councilforms/idp/store"
)

// ClientSecrets hashes and verifies client secrets with HMAC-SHA-256 under a
// key derived from the key-encryption key. Generated secrets are 256-bit
// random values, which no one can guess or brute-force from a leaked hash
// without the key, so a slow hash would add nothing but CPU (argon2id cost
// about 50 ms a check); a check costs about a microsecond.
//
// Every process and admin command sharing a database must use the same
// key-encryption key: with another key every stored secret stops verifying.
type ClientSecrets struct {
	key []byte
}

// hmacSecretPrefix marks an HMAC-SHA-256 secret hash; argon2id hashes of
// older registrations start with "$argon2id$".
const hmacSecretPrefix = "hmac-sha256$"

// NewClientSecrets derives the client-secret key from the 32-byte
// key-encryption key.
func NewClientSecrets(kek []byte) (*ClientSecrets, error) {
	if len(kek) != 32 {
		return nil, fmt.Errorf("provider: key-encryption key must be 32 bytes, got %d", len(kek))
	}
	return &ClientSecrets{key: deriveKey(kek, "client-secret")}, nil
}

// Hash returns the stored form of a secret: "hmac-sha256$" and the base64url
// HMAC-SHA-256 of the secret.
func (s *ClientSecrets) Hash(secret string) string {
	return hmacSecretPrefix + base64.RawURLEncoding.EncodeToString(s.mac(secret))
}

func (s *ClientSecrets) mac(secret string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// verifyHMAC reports whether hash is this key's HMAC of secret, comparing in
// constant time; ok is false, not an error, for a hash of another form.
func (s *ClientSecrets) verifyHMAC(secret, hash string) (isHMAC, ok bool) {
	enc, found := strings.CutPrefix(hash, hmacSecretPrefix)
	if !found {
		return false, false
	}
	want, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return true, false
	}
	return true, hmac.Equal(s.mac(secret), want)
}

// LegacySecretVerifier verifies client-secret hashes made before HMAC
// (argon2id PHC strings): *password.Hasher.
type LegacySecretVerifier interface {
	Verify(ctx context.Context, secret, encoded string) (ok, needsRehash bool, err error)
}

// errUnknownSecretHash is a stored hash of no known form: the record is
// damaged, which is the server's fault, not the client's.
var errUnknownSecretHash = errors.New("provider: client secret hash of unknown form")

// verifyClientSecret checks secret against the client's stored hash. An
// argon2id hash that verifies is replaced in the database by the HMAC hash,
// so the slow check is paid once per client; a failed replacement is logged
// and the secret is still accepted.
func (p *Provider) verifyClientSecret(ctx context.Context, c *store.Client, secret string) (bool, error) {
	if isHMAC, ok := p.clientSecrets.verifyHMAC(secret, c.SecretHash); isHMAC {
		return ok || p.previousSecretMatches(c, secret), nil
	}
	if p.previousSecretMatches(c, secret) {
		return true, nil
	}
	if !strings.HasPrefix(c.SecretHash, "$argon2id$") {
		return false, fmt.Errorf("%w (client %s)", errUnknownSecretHash, c.ID)
	}
	if p.cfg.LegacySecretVerifier == nil {
		return false, fmt.Errorf("provider: client %s has an argon2id secret hash and no verifier for it is configured", c.ID)
	}
	ok, _, err := p.cfg.LegacySecretVerifier.Verify(ctx, secret, c.SecretHash)
	if err != nil || !ok {
		return false, err
	}
	if p.isStaticClient(c.ID) {
		return true, nil // not in the database (static clients are hashed with HMAC as they load)
	}
	err = p.db.ReplaceClientSecretHash(ctx, c.ID, c.SecretHash, p.clientSecrets.Hash(secret))
	switch {
	case err == nil:
		p.log.InfoContext(ctx, "client secret rehashed from argon2id to HMAC-SHA-256", "client_id", c.ID)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
		// Rotated or removed meanwhile: the new state stands.
	default:
		p.log.WarnContext(ctx, "client secret: rehash to HMAC-SHA-256 failed; will try again at the next use", "client_id", c.ID, "err", err)
	}
	return true, nil
}

// previousSecretMatches reports whether secret is the one the latest rotation
// replaced, while its overlap lasts. Rotations store HMAC hashes only, but the
// secret replaced may be an older argon2id one: it is not verified (it would
// cost a hash per wrong secret during the overlap) and the form app must use
// the new secret.
func (p *Provider) previousSecretMatches(c *store.Client, secret string) bool {
	if c.PreviousSecretHash == "" || !p.now().Before(c.PreviousSecretExpiresAt) {
		return false
	}
	_, ok := p.clientSecrets.verifyHMAC(secret, c.PreviousSecretHash)
	return ok
}

func (p *Provider) isStaticClient(id string) bool {
	for _, c := range p.cfg.StaticClients {
		if c.ID == id {
			return true
		}
	}
	return false
}
