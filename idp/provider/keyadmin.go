package provider

// Signing keys for the admin commands (idp keys list, idp keys rotate) and
// the console's signing keys page.

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/councilforms/idp/store"
)

// KeyState is where a signing key is in its life.
type KeyState string

const (
	KeyPending KeyState = "pending" // published in JWKS, not signing yet
	KeyActive  KeyState = "active"  // signs new tokens
	KeyRetired KeyState = "retired" // published until ExpiresAt so older tokens verify
	KeyExpired KeyState = "expired" // past ExpiresAt, no longer published
)

// KeyInfo describes a signing key without its private part.
type KeyInfo struct {
	ID         string
	Algorithm  string
	State      KeyState
	CreatedAt  time.Time
	ActiveFrom time.Time
	RetiredAt  time.Time
	ExpiresAt  time.Time
}

func (k *keyring) infos(ctx context.Context) ([]KeyInfo, error) {
	keys, err := k.load(ctx, true)
	if err != nil {
		return nil, err
	}
	now := k.now()
	out := make([]KeyInfo, 0, len(keys))
	for _, sk := range keys {
		out = append(out, keyInfo(sk, activeKey(keys, jose.SignatureAlgorithm(sk.Algorithm), now), now))
	}
	return out, nil
}

func keyInfo(sk, active *store.SigningKey, now time.Time) KeyInfo {
	return KeyInfo{
		ID: sk.ID, Algorithm: sk.Algorithm, State: keyState(sk, active, now),
		CreatedAt: sk.CreatedAt, ActiveFrom: sk.ActiveFrom, RetiredAt: sk.RetiredAt, ExpiresAt: sk.ExpiresAt,
	}
}

// ListSigningKeys describes every stored signing key (for `idp keys list`).
func ListSigningKeys(ctx context.Context, db store.SigningKeys, cfg Config) ([]KeyInfo, error) {
	cfg = cfg.withDefaults()
	k, err := newKeyring(db, cfg.KeyEncryptionKey, cfg.SigningAlgorithm, cfg.KeyPublishDelay, cfg.keyKeepAfter(), time.Now)
	if err != nil {
		return nil, err
	}
	return k.infos(ctx)
}

// RotateSigningKeys publishes, for alg (RS256 or ES256) or for every
// algorithm when alg is "", a new signing key that starts signing after
// cfg.KeyPublishDelay and retires the current key of its algorithm at that
// moment (for `idp keys rotate`). Every server process picks the new keys up
// by itself.
func RotateSigningKeys(ctx context.Context, db store.SigningKeys, cfg Config, alg string) ([]KeyInfo, error) {
	cfg = cfg.withDefaults()
	k, err := newKeyring(db, cfg.KeyEncryptionKey, cfg.SigningAlgorithm, cfg.KeyPublishDelay, cfg.keyKeepAfter(), time.Now)
	if err != nil {
		return nil, err
	}
	algs := k.algs
	if alg != "" {
		sa, err := parseAlgorithm(alg)
		if err != nil {
			return nil, err
		}
		algs = []jose.SignatureAlgorithm{sa}
	}
	var out []KeyInfo
	for _, a := range algs {
		sk, err := k.rotate(ctx, a)
		if err != nil {
			return out, err
		}
		now := time.Now()
		out = append(out, keyInfo(sk, activeKey(k.keys, a, now), now))
	}
	return out, nil
}

// EmergencyRotation is what EmergencyRotateSigningKeys did for one algorithm.
type EmergencyRotation struct {
	New KeyInfo // signs from now
	// Withdrawn are the keys of the algorithm that stopped signing and left
	// JWKS at once: tokens they signed no longer validate.
	Withdrawn []KeyInfo
}

// EmergencyRotateSigningKeys replaces, for alg (RS256 or ES256) or for every
// algorithm when alg is "", the signing key at once, for a key presumed
// compromised (`idp keys rotate --emergency`): the new key signs from now,
// with no hour of publication first, and the old keys leave JWKS now, so
// every token they signed stops validating and form apps must fetch JWKS
// again (most do when they meet an unknown kid). Running servers switch on
// their next re-read of the keys, within 30 seconds.
func EmergencyRotateSigningKeys(ctx context.Context, db store.SigningKeys, cfg Config, alg string) ([]EmergencyRotation, error) {
	cfg = cfg.withDefaults()
	k, err := newKeyring(db, cfg.KeyEncryptionKey, cfg.SigningAlgorithm, cfg.KeyPublishDelay, cfg.keyKeepAfter(), time.Now)
	if err != nil {
		return nil, err
	}
	algs := k.algs
	if alg != "" {
		sa, err := parseAlgorithm(alg)
		if err != nil {
			return nil, err
		}
		algs = []jose.SignatureAlgorithm{sa}
	}
	var out []EmergencyRotation
	for _, a := range algs {
		sk, withdrawn, err := k.rotateNow(ctx, a)
		now := time.Now()
		var r EmergencyRotation
		for _, w := range withdrawn {
			r.Withdrawn = append(r.Withdrawn, keyInfo(w, nil, now))
		}
		if err != nil {
			if len(r.Withdrawn) > 0 {
				out = append(out, r)
			}
			return out, err
		}
		r.New = keyInfo(sk, activeKey(k.keys, a, now), now)
		out = append(out, r)
	}
	return out, nil
}
