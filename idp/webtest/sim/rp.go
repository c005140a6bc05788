package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// RelyingParty is a form app's OpenID Connect client, built on x/oauth2 and
// go-oidc (libraries independent of the provider's): PKCE (S256), state and
// nonce on every authorization request, the authorization response checked as
// a careful client does, and, with a Verifier, the ID token verified.
type RelyingParty struct {
	Issuer string
	Config *oauth2.Config
	// Verifier checks ID tokens; nil leaves them unchecked (the load driver,
	// which measures the provider, not the client).
	Verifier *oidc.IDTokenVerifier
	// Client makes the server-to-server calls; nil: http.DefaultClient.
	Client *http.Client
}

// Authorization is one authorization request: the URL to send the browser
// to and what the relying party keeps to finish it.
type Authorization struct {
	URL, State, Verifier, Nonce string
}

// Start is a fresh authorization request ('Login or Register').
func (rp *RelyingParty) Start(opts ...oauth2.AuthCodeOption) Authorization {
	a := Authorization{State: rand.Text(), Verifier: oauth2.GenerateVerifier(), Nonce: rand.Text()}
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.Verifier), oidc.Nonce(a.Nonce)}, opts...)
	a.URL = rp.Config.AuthCodeURL(a.State, opts...)
	return a
}

// Code checks the redirect back to the relying party (no error, the state
// sent, iss of RFC 9207 when present) and returns the authorization code.
func (rp *RelyingParty) Code(a Authorization, callback *url.URL) (string, error) {
	if callback == nil {
		return "", errors.New("the journey did not return to the redirect URI")
	}
	q := callback.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorization error %s: %s", e, q.Get("error_description"))
	}
	if got := q.Get("state"); got != a.State {
		return "", fmt.Errorf("authorization response state %q, want %q", got, a.State)
	}
	if iss := q.Get("iss"); iss != "" && iss != rp.Issuer {
		return "", fmt.Errorf("authorization response from issuer %q", iss)
	}
	code := q.Get("code")
	if code == "" {
		return "", fmt.Errorf("authorization response without a code: %s", callback)
	}
	return code, nil
}

// Context carries rp's HTTP client to x/oauth2.
func (rp *RelyingParty) Context(ctx context.Context) context.Context {
	if rp.Client == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, rp.Client)
}

// Tokens is what a code exchange returned.
type Tokens struct {
	*oauth2.Token
	RawIDToken string
	IDToken    *oidc.IDToken // nil without a Verifier
}

// Exchange redeems an authorization code. The response must carry an ID
// token; with a Verifier it is verified and its nonce must be a's.
func (rp *RelyingParty) Exchange(ctx context.Context, a Authorization, code string) (*Tokens, error) {
	tok, err := rp.Config.Exchange(rp.Context(ctx), code, oauth2.VerifierOption(a.Verifier))
	if err != nil {
		return nil, fmt.Errorf("code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, errors.New("code exchange: no ID token")
	}
	out := &Tokens{Token: tok, RawIDToken: raw}
	if rp.Verifier == nil {
		return out, nil
	}
	if out.IDToken, err = rp.Verifier.Verify(ctx, raw); err != nil {
		return nil, fmt.Errorf("verify ID token: %w", err)
	}
	if out.IDToken.Nonce != a.Nonce {
		return nil, fmt.Errorf("ID token nonce %q, want %q", out.IDToken.Nonce, a.Nonce)
	}
	return out, nil
}

// Refresh redeems a refresh token; rotation means the response carries a new
// one, different from the one spent.
func (rp *RelyingParty) Refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	tok, err := rp.Config.TokenSource(rp.Context(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("refresh grant: %w", err)
	}
	if tok.RefreshToken == "" || tok.RefreshToken == refreshToken {
		return nil, errors.New("refresh grant: the refresh token was not rotated")
	}
	if tok.AccessToken == "" {
		return nil, errors.New("refresh grant: no access token")
	}
	return tok, nil
}
