package provider

// The keyring is one idea kept whole (about 500 lines): reading, creating,
// rotating, sealing and publishing signing keys, whose invariants (one signing
// key per algorithm, each published before it signs and after it stops) are
// kept across these functions together.

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/councilforms/idp/store"
)

// keyCacheTTL is how long a process trusts its copy of the key list. Every
// process re-reads the list from the database at least this often, so all of
// them switch to a new key within this time of its ActiveFrom.
const keyCacheTTL = 30 * time.Second

// sealVersion prefixes sealed private keys so the format can change later.
const sealVersion byte = 1

// keyring reads, caches, creates and rotates signing keys: one signing key
// per algorithm at a time (RS256 and ES256, as clients choose with
// id_token_signed_response_alg), each rotating on its own. Every process
// derives the signing keys from the same rows, so processes sharing a
// database agree without talking to each other.
type keyring struct {
	db      store.SigningKeys
	counter store.Counters // optional: serialises creation of a first key
	sealer  cipher.AEAD
	// alg is the default algorithm, for clients that registered none.
	alg jose.SignatureAlgorithm
	// algs are the algorithms a signing key is kept for, the default first.
	algs         []jose.SignatureAlgorithm
	publishDelay time.Duration // how long a new key is published before it signs
	keepAfter    time.Duration // how long a retired key stays published
	now          func() time.Time

	mu       sync.Mutex
	loadedAt time.Time
	keys     []*store.SigningKey
	private  map[string]*jose.JSONWebKey // unsealed private keys by kid
	public   map[string]jose.JSONWebKey  // decoded public keys by kid
	// jwks is the encoded JWKS response for the published key set named by
	// jwksFor (the published kids, sorted). A kid's public key never
	// changes, so the set of kids is the whole cache key.
	jwksFor string
	jwks    []byte
}

func newKeyring(db store.SigningKeys, kek []byte, alg string, publishDelay, keepAfter time.Duration, now func() time.Time) (*keyring, error) {
	sa, err := parseAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	if len(kek) != 32 {
		return nil, fmt.Errorf("provider: key-encryption key must be 32 bytes, got %d", len(kek))
	}
	block, err := aes.NewCipher(deriveKey(kek, "signing-key-seal"))
	if err != nil {
		return nil, fmt.Errorf("provider: key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("provider: key-encryption key: %w", err)
	}
	algs := []jose.SignatureAlgorithm{sa}
	for _, a := range signingAlgorithms {
		if a != string(sa) {
			algs = append(algs, jose.SignatureAlgorithm(a))
		}
	}
	return &keyring{
		db: db, sealer: aead, alg: sa, algs: algs, publishDelay: publishDelay,
		keepAfter: keepAfter + keyCacheTTL, now: now,
		private: map[string]*jose.JSONWebKey{}, public: map[string]jose.JSONWebKey{},
	}, nil
}

func parseAlgorithm(alg string) (jose.SignatureAlgorithm, error) {
	switch alg {
	case "", "RS256":
		return jose.RS256, nil
	case "ES256":
		return jose.ES256, nil
	}
	return "", fmt.Errorf("provider: signing algorithm %q is not supported (use RS256 or ES256)", alg)
}

// load returns the key list, re-reading it when the cache is stale or force is set.
func (k *keyring) load(ctx context.Context, force bool) ([]*store.SigningKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !force && k.keys != nil && k.now().Sub(k.loadedAt) < keyCacheTTL {
		return k.keys, nil
	}
	keys, err := k.db.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("provider: list signing keys: %w", err)
	}
	k.keys, k.loadedAt = keys, k.now()
	return keys, nil
}

// ensure makes sure a key of every algorithm can sign now (see ensureAlg).
func (k *keyring) ensure(ctx context.Context) error {
	for _, alg := range k.algs {
		if err := k.ensureAlg(ctx, alg); err != nil {
			return err
		}
	}
	return nil
}

// ensureAlg makes sure a key of alg can sign now. When none can, it creates
// one that signs at once: either there is no key of alg at all (no token
// signed with alg exists, so no relying party can hold a JWKS it must find
// the key in; one meeting a new kid fetches the JWKS again), or the keys were
// rotated while no server ran. If a rotated key is waiting to activate, the
// new key hands over to it at that moment.
func (k *keyring) ensureAlg(ctx context.Context, alg jose.SignatureAlgorithm) error {
	keys, err := k.load(ctx, true)
	if err != nil {
		return err
	}
	if activeKey(keys, alg, k.now()) != nil {
		return nil
	}
	// Processes starting together must not each make a key: the first to
	// count makes it, the others wait for it to appear (and make one only if
	// it never does, say because the first one died).
	if k.counter != nil {
		n, err := k.counter.Hit(ctx, store.KeySigningKeyCreate+string(alg), keyCreateWait, k.now())
		if err != nil {
			return fmt.Errorf("provider: signing key creation lock: %w", err)
		}
		if n > 1 && k.waitForActive(ctx, alg) {
			return nil
		}
	}
	now := k.now()
	sk, err := k.create(ctx, alg, immediateActiveFrom(keys, alg, now))
	if err != nil {
		return err
	}
	var next time.Time
	for _, p := range keys {
		if p.Algorithm == string(alg) && p.ActiveFrom.After(now) && p.RetiredAt.IsZero() && (next.IsZero() || p.ActiveFrom.Before(next)) {
			next = p.ActiveFrom
		}
	}
	if !next.IsZero() {
		if err := k.db.RetireSigningKey(ctx, sk.ID, next, next.Add(k.keepAfter)); err != nil {
			return fmt.Errorf("provider: retire signing key %s: %w", sk.ID, err)
		}
	}
	_, err = k.load(ctx, true)
	return err
}

// immediateActiveFrom is when a key of alg that must sign at once starts:
// now, or just before the key of another algorithm that signs now if that
// one started later. A server of the version before per-client algorithms
// signs with the newest active key whatever its algorithm; during a rolling
// upgrade it must not take up the new algorithm's key for every client.
func immediateActiveFrom(keys []*store.SigningKey, alg jose.SignatureAlgorithm, now time.Time) time.Time {
	from := now
	for _, sk := range keys {
		if sk.Algorithm == string(alg) || sk.ActiveFrom.After(now) || (!sk.RetiredAt.IsZero() && !sk.RetiredAt.After(now)) {
			continue
		}
		if before := sk.ActiveFrom.Add(-time.Second); before.Before(from) {
			from = before
		}
	}
	return from
}

// keyCreateWait bounds how long a starting process waits for another one to
// create the first signing key.
const keyCreateWait = 10 * time.Second

func (k *keyring) waitForActive(ctx context.Context, alg jose.SignatureAlgorithm) bool {
	deadline := time.Now().Add(keyCreateWait)
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
		keys, err := k.load(ctx, true)
		if err == nil && activeKey(keys, alg, k.now()) != nil {
			return true
		}
	}
	return false
}

// create generates, seals and stores a key of alg that starts signing at activeFrom.
func (k *keyring) create(ctx context.Context, alg jose.SignatureAlgorithm, activeFrom time.Time) (*store.SigningKey, error) {
	var priv any
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		return nil, fmt.Errorf("provider: generate signing key: %w", err)
	}
	kid := randomID(16)
	jwk := jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(alg), Use: "sig"}
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("provider: encode signing key: %w", err)
	}
	pubJSON, err := jwk.Public().MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("provider: encode public key: %w", err)
	}
	sealed, err := k.seal(kid, privJSON)
	if err != nil {
		return nil, err
	}
	now := k.now()
	sk := &store.SigningKey{
		ID: kid, Algorithm: string(alg), PublicJWK: pubJSON, PrivateEncrypted: sealed,
		CreatedAt: now, ActiveFrom: activeFrom,
	}
	if err := k.db.CreateSigningKey(ctx, sk); err != nil {
		return nil, fmt.Errorf("provider: store signing key %s: %w", kid, err)
	}
	return sk, nil
}

// rotate publishes a new key of alg that starts signing after the publish
// delay and retires every other key of alg at that moment; keys of the other
// algorithm are left alone. Retired keys stay in JWKS until the tokens they
// signed have expired; keys past that are deleted.
func (k *keyring) rotate(ctx context.Context, alg jose.SignatureAlgorithm) (*store.SigningKey, error) {
	keys, err := k.load(ctx, true)
	if err != nil {
		return nil, err
	}
	now := k.now()
	activeFrom := now.Add(k.publishDelay)
	if !slices.ContainsFunc(keys, func(sk *store.SigningKey) bool { return sk.Algorithm == string(alg) }) {
		activeFrom = now // nothing of alg was ever published, so nothing to wait for
	}
	next, err := k.create(ctx, alg, activeFrom)
	if err != nil {
		return nil, err
	}
	for _, sk := range keys {
		if sk.Algorithm != string(alg) || (!sk.RetiredAt.IsZero() && !sk.RetiredAt.After(activeFrom)) {
			continue // already stops signing before the new key starts
		}
		if err := k.db.RetireSigningKey(ctx, sk.ID, activeFrom, activeFrom.Add(k.keepAfter)); err != nil {
			return nil, fmt.Errorf("provider: retire signing key %s: %w", sk.ID, err)
		}
	}
	if err := k.db.DeleteExpiredSigningKeys(ctx, now); err != nil {
		return nil, fmt.Errorf("provider: delete expired signing keys: %w", err)
	}
	if _, err := k.load(ctx, true); err != nil {
		return nil, err
	}
	return next, nil
}

// rotateNow is the emergency rotation of alg, for a key presumed
// compromised: a new key signs at once, without being published first, and
// every other key of alg (the one signing, one pending, retired ones still
// published) stops signing and leaves JWKS at once, so tokens it signed stop
// validating. It returns the new key and the keys it withdrew, as they now are.
func (k *keyring) rotateNow(ctx context.Context, alg jose.SignatureAlgorithm) (*store.SigningKey, []*store.SigningKey, error) {
	keys, err := k.load(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	now := k.now()
	next, err := k.create(ctx, alg, now)
	if err != nil {
		return nil, nil, err
	}
	var withdrawn []*store.SigningKey
	for _, sk := range keys {
		if sk.Algorithm != string(alg) || (!sk.ExpiresAt.IsZero() && !sk.ExpiresAt.After(now)) {
			continue // another algorithm's, or out of JWKS already
		}
		retired := sk.RetiredAt
		if retired.IsZero() || retired.After(now) {
			retired = now
		}
		if err := k.db.RetireSigningKey(ctx, sk.ID, retired, now); err != nil {
			return nil, withdrawn, fmt.Errorf("provider: withdraw signing key %s: %w", sk.ID, err)
		}
		w := *sk
		w.RetiredAt, w.ExpiresAt = retired, now
		withdrawn = append(withdrawn, &w)
	}
	if err := k.db.DeleteExpiredSigningKeys(ctx, now); err != nil {
		return nil, withdrawn, fmt.Errorf("provider: delete expired signing keys: %w", err)
	}
	if _, err := k.load(ctx, true); err != nil {
		return nil, withdrawn, err
	}
	return next, withdrawn, nil
}

// activeKey picks the signing key of alg: among its keys whose ActiveFrom
// has passed and that have not stopped signing, the one that became active
// last (ties by id), so every process with the same rows picks the same key.
func activeKey(keys []*store.SigningKey, alg jose.SignatureAlgorithm, now time.Time) *store.SigningKey {
	var best *store.SigningKey
	for _, sk := range keys {
		if sk.Algorithm != string(alg) || sk.ActiveFrom.After(now) || (!sk.RetiredAt.IsZero() && !sk.RetiredAt.After(now)) {
			continue
		}
		if best == nil || sk.ActiveFrom.After(best.ActiveFrom) ||
			(sk.ActiveFrom.Equal(best.ActiveFrom) && sk.ID > best.ID) {
			best = sk
		}
	}
	return best
}

func keyState(sk *store.SigningKey, active *store.SigningKey, now time.Time) KeyState {
	switch {
	case !sk.ExpiresAt.IsZero() && !sk.ExpiresAt.After(now):
		return KeyExpired
	case active != nil && sk.ID == active.ID:
		return KeyActive
	case sk.ActiveFrom.After(now):
		return KeyPending
	default:
		return KeyRetired
	}
}

// signingKey returns the key of the default algorithm to sign with now, unsealed.
func (k *keyring) signingKey(ctx context.Context) (*jose.JSONWebKey, error) {
	return k.signingKeyFor(ctx, k.alg)
}

// signingKeyFor returns the key of alg to sign with now, unsealed.
func (k *keyring) signingKeyFor(ctx context.Context, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	if !slices.Contains(k.algs, alg) {
		return nil, fmt.Errorf("provider: no signing key is kept for %s", alg)
	}
	keys, err := k.load(ctx, false)
	if err != nil {
		return nil, err
	}
	sk := activeKey(keys, alg, k.now())
	if sk == nil {
		// Keys changed underneath the cache (rotated or removed): read again
		// and, if the database really holds no usable key, make one.
		if err := k.ensureAlg(ctx, alg); err != nil {
			return nil, err
		}
		if keys, err = k.load(ctx, false); err != nil {
			return nil, err
		}
		if sk = activeKey(keys, alg, k.now()); sk == nil {
			return nil, fmt.Errorf("provider: no %s signing key is active", alg)
		}
	}
	return k.unseal(sk)
}

// signingKeyFor returns the unsealed private key that signs tokens with alg
// now: ID tokens of a client whose id_token_signed_response_alg is alg, and
// its logout tokens (pass clientSigningAlg(c)). alg "" means the default
// algorithm (Config.SigningAlgorithm); one other than RS256 and ES256 is an
// error.
func (p *Provider) signingKeyFor(ctx context.Context, alg string) (*jose.JSONWebKey, error) {
	if alg == "" {
		alg = p.cfg.SigningAlgorithm
	}
	sa, err := parseAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	return p.keys.signingKeyFor(ctx, sa)
}

// published returns the public keys to put in JWKS: pending, active and
// retired keys that have not expired, sorted by kid.
func (k *keyring) published(ctx context.Context) ([]jose.JSONWebKey, error) {
	out, _, err := k.publishedSet(ctx)
	return out, err
}

// publishedSet returns the published keys and their kids joined, which
// names the set: each stored public key is decoded once per process.
func (k *keyring) publishedSet(ctx context.Context) ([]jose.JSONWebKey, string, error) {
	keys, err := k.load(ctx, false)
	if err != nil {
		return nil, "", err
	}
	now := k.now()
	out := make([]jose.JSONWebKey, 0, len(keys))
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, sk := range keys {
		if !sk.ExpiresAt.IsZero() && !sk.ExpiresAt.After(now) {
			continue
		}
		jwk, ok := k.public[sk.ID]
		if !ok {
			if err := jwk.UnmarshalJSON(sk.PublicJWK); err != nil {
				return nil, "", fmt.Errorf("provider: decode public key %s: %w", sk.ID, err)
			}
			k.public[sk.ID] = jwk
		}
		out = append(out, jwk)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID < out[j].KeyID })
	var ids strings.Builder
	for _, jwk := range out {
		ids.WriteString(jwk.KeyID)
		ids.WriteByte(' ')
	}
	return out, ids.String(), nil
}

// jwksJSON returns the JWKS response body, encoded once per published key
// set, in the form the library writes it.
func (k *keyring) jwksJSON(ctx context.Context) ([]byte, error) {
	keys, set, err := k.publishedSet(ctx)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.jwks != nil && k.jwksFor == set {
		body := k.jwks
		k.mu.Unlock()
		return body, nil
	}
	k.mu.Unlock()
	ks := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
	for i, jwk := range keys {
		ks.Keys[i] = jose.JSONWebKey{KeyID: jwk.KeyID, Algorithm: jwk.Algorithm, Use: "sig", Key: jwk.Key}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(&ks); err != nil {
		return nil, fmt.Errorf("provider: encode JWKS: %w", err)
	}
	k.mu.Lock()
	k.jwksFor, k.jwks = set, buf.Bytes()
	k.mu.Unlock()
	return buf.Bytes(), nil
}

func (k *keyring) unseal(sk *store.SigningKey) (*jose.JSONWebKey, error) {
	k.mu.Lock()
	cached := k.private[sk.ID]
	k.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	if len(sk.PrivateEncrypted) < 1+k.sealer.NonceSize() || sk.PrivateEncrypted[0] != sealVersion {
		return nil, fmt.Errorf("provider: signing key %s: sealed key is malformed", sk.ID)
	}
	body := sk.PrivateEncrypted[1:]
	nonce, ct := body[:k.sealer.NonceSize()], body[k.sealer.NonceSize():]
	plain, err := k.sealer.Open(nil, nonce, ct, []byte(sk.ID))
	if err != nil {
		return nil, fmt.Errorf("provider: signing key %s: cannot unseal (wrong key-encryption key?): %w", sk.ID, err)
	}
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(plain, &jwk); err != nil {
		return nil, fmt.Errorf("provider: signing key %s: decode: %w", sk.ID, err)
	}
	if rk, ok := jwk.Key.(*rsa.PrivateKey); ok {
		// Without the CRT values precomputed, every signature re-derives them.
		rk.Precompute()
	}
	k.mu.Lock()
	k.private[sk.ID] = &jwk
	k.mu.Unlock()
	return &jwk, nil
}

// seal encrypts a private JWK; the kid is authenticated data so a sealed key
// cannot be moved to another row.
func (k *keyring) seal(kid string, plain []byte) ([]byte, error) {
	nonce := make([]byte, k.sealer.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("provider: seal signing key: %w", err)
	}
	out := append([]byte{sealVersion}, nonce...)
	return k.sealer.Seal(out, nonce, plain, []byte(kid)), nil
}

// hintKeySet verifies signatures of tokens this provider issued (an
// id_token_hint) against the published keys, re-reading them once when the
// kid is unknown so a key created by another process is found at once.
type hintKeySet struct{ keys *keyring }

func (h *hintKeySet) VerifySignature(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, errors.New("provider: token must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	for attempt := 0; attempt < 2; attempt++ {
		if attempt == 1 {
			if _, err := h.keys.load(ctx, true); err != nil {
				return nil, err
			}
		}
		keys, err := h.keys.published(ctx)
		if err != nil {
			return nil, err
		}
		for i := range keys {
			if keys[i].KeyID == kid {
				return jws.Verify(&keys[i])
			}
		}
	}
	return nil, fmt.Errorf("provider: no published key with id %q", kid)
}
