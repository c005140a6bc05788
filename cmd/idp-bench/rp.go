package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/webtest/sim"
)

// scopes the bench client asks for: offline_access so that the code exchange
// returns a refresh token for the refresh scenario.
var scopes = []string{"openid", "profile", "email", "phone", "offline_access"}

// discovery is the part of the provider metadata a relying party uses.
type discovery struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
}

// relyingParty is the bench's OAuth 2.0 client: a public client using PKCE
// (S256), as the demo form app is, on the relying party the tests share
// (package sim). It does not verify ID tokens: the bench measures the
// provider, not the client.
type relyingParty struct {
	sim.RelyingParty
	meta   discovery
	client *http.Client // server-to-server calls (no cookies)
}

// discoveryURL is the address of issuer's discovery document, whether or not
// issuer ends in a slash.
func discoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

func discover(ctx context.Context, client *http.Client, issuer string) (discovery, error) {
	var d discovery
	body, err := get(ctx, client, discoveryURL(issuer), "application/json")
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return d, fmt.Errorf("discovery document: %w", err)
	}
	if d.Issuer != issuer {
		return d, fmt.Errorf("discovery names issuer %q, want %q", d.Issuer, issuer)
	}
	if d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" || d.UserinfoEndpoint == "" || d.JWKSURI == "" {
		return d, errors.New("discovery document lacks an endpoint")
	}
	return d, nil
}

func newRelyingParty(ctx context.Context, client *http.Client, issuer, clientID, redirectURI string) (*relyingParty, error) {
	meta, err := discover(ctx, client, issuer)
	if err != nil {
		return nil, err
	}
	return &relyingParty{
		meta:   meta,
		client: client,
		RelyingParty: sim.RelyingParty{
			Issuer: issuer,
			Client: client,
			Config: &oauth2.Config{
				ClientID:    clientID,
				RedirectURL: redirectURI,
				Scopes:      scopes,
				Endpoint: oauth2.Endpoint{
					AuthURL:   meta.AuthorizationEndpoint,
					TokenURL:  meta.TokenEndpoint,
					AuthStyle: oauth2.AuthStyleInParams, // a public client: client_id in the body
				},
			},
		},
	}, nil
}

func (rp *relyingParty) start() sim.Authorization { return rp.Start() }

// code checks the redirect back to the relying party as a careful client does
// (state, iss of RFC 9207, no error) and returns the authorization code.
func (rp *relyingParty) code(a sim.Authorization, callback *url.URL) (string, error) {
	return rp.Code(a, callback)
}

// exchange redeems an authorization code. The response must carry an ID
// token and a refresh token (offline_access was asked for).
func (rp *relyingParty) exchange(ctx context.Context, a sim.Authorization, code string) (*oauth2.Token, error) {
	tok, err := rp.Exchange(ctx, a, code)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("code exchange: no refresh token (does the client allow offline_access?)")
	}
	return tok.Token, nil
}

func (rp *relyingParty) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	return rp.Refresh(ctx, refreshToken)
}

// userinfo fetches the claims for an access token and checks there is a subject.
func (rp *relyingParty) userinfo(ctx context.Context, accessToken string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.meta.UserinfoEndpoint, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := rp.client.Do(req)
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return fmt.Errorf("userinfo: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("userinfo: status %d", res.StatusCode)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(body, &claims); err != nil || claims.Sub == "" {
		return errors.New("userinfo: no subject in the response")
	}
	return nil
}

// isJSON reports whether contentType is a JSON media type (such as
// application/jwk-set+json, which some providers serve JWKS as) when
// mediaType is application/json.
func isJSON(mediaType, contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return mediaType == "application/json" && strings.HasPrefix(mt, "application/") && strings.HasSuffix(strings.TrimSpace(mt), "+json")
}

// get fetches url and returns the body of a 200 response of the given media type.
func get(ctx context.Context, client *http.Client, url, mediaType string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaType)
	req.Header.Set("User-Agent", userAgent)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, mediaType) && !isJSON(mediaType, ct) {
		return nil, fmt.Errorf("GET %s: content type %q, want %s", url, ct, mediaType)
	}
	return body, nil
}
