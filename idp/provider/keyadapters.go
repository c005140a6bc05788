package provider

// Key adapters: the keyring's keys as the library's op.SigningKey and op.Key.

import (
	"context"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

type signingKey struct{ jwk *jose.JSONWebKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k signingKey) Key() any   { return k.jwk.Key }
func (k signingKey) ID() string { return k.jwk.KeyID }

type publicKey struct{ jwk jose.JSONWebKey }

func (k publicKey) ID() string { return k.jwk.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm {
	return jose.SignatureAlgorithm(k.jwk.Algorithm)
}
func (k publicKey) Use() string { return "sig" }
func (k publicKey) Key() any    { return k.jwk.Key }

// SigningKey is the key for the client of the token request being served:
// the library asks with only a context, so GetClientByClientID, which the
// library calls with the client id it authenticates (Basic or form) before
// it creates any token, notes that client's algorithm on the request. The
// library takes the at_hash and c_hash algorithm from the same key. Outside
// a token request it is the default algorithm's key.
func (s *opStorage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	alg := ""
	if hc := httpFromContext(ctx); hc != nil {
		alg = hc.signingAlg
	}
	jwk, err := s.p.signingKeyFor(ctx, alg)
	if err != nil {
		return nil, err
	}
	return signingKey{jwk: jwk}, nil
}

// SignatureAlgorithms are every algorithm a client may choose, the default
// first (discovery's id_token_signing_alg_values_supported).
func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return slices.Clone(s.p.keys.algs), nil
}

func (s *opStorage) KeySet(ctx context.Context) ([]op.Key, error) {
	keys, err := s.p.keys.published(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]op.Key, len(keys))
	for i, k := range keys {
		out[i] = publicKey{jwk: k}
	}
	return out, nil
}
