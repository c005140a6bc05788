package provider

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		resp, err := e.srv.Client().Get(e.issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("discovery content type %q", ct)
		}
		var d struct {
			Issuer               string   `json:"issuer"`
			JWKSURI              string   `json:"jwks_uri"`
			ResponseTypes        []string `json:"response_types_supported"`
			GrantTypes           []string `json:"grant_types_supported"`
			Scopes               []string `json:"scopes_supported"`
			CodeChallengeMethods []string `json:"code_challenge_methods_supported"`
			TokenAuthMethods     []string `json:"token_endpoint_auth_methods_supported"`
			IDTokenAlgs          []string `json:"id_token_signing_alg_values_supported"`
			EndSession           string   `json:"end_session_endpoint"`
			Userinfo             string   `json:"userinfo_endpoint"`
			Introspection        string   `json:"introspection_endpoint"`
			Revocation           string   `json:"revocation_endpoint"`
			RequestParameter     bool     `json:"request_parameter_supported"`
			IssParameter         bool     `json:"authorization_response_iss_parameter_supported"`
			ResponseModes        []string `json:"response_modes_supported"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d.Issuer != e.issuer {
			t.Errorf("issuer %q, want %q", d.Issuer, e.issuer)
		}
		if !d.IssParameter || d.RequestParameter || !slices.Equal(d.ResponseModes, []string{"query"}) {
			t.Errorf("iss parameter %v, request parameter %v, response modes %v", d.IssParameter, d.RequestParameter, d.ResponseModes)
		}
		if !slices.Equal(d.ResponseTypes, []string{"code"}) {
			t.Errorf("response_types_supported = %v, want [code]", d.ResponseTypes)
		}
		if !slices.Equal(d.GrantTypes, []string{"authorization_code", "refresh_token"}) {
			t.Errorf("grant_types_supported = %v", d.GrantTypes)
		}
		if !slices.Equal(d.CodeChallengeMethods, []string{"S256"}) {
			t.Errorf("code_challenge_methods_supported = %v, want [S256]", d.CodeChallengeMethods)
		}
		for _, s := range []string{"openid", "profile", "email", "phone", "offline_access"} {
			if !slices.Contains(d.Scopes, s) {
				t.Errorf("scopes_supported lacks %s: %v", s, d.Scopes)
			}
		}
		for _, m := range []string{"client_secret_basic", "client_secret_post", "none"} {
			if !slices.Contains(d.TokenAuthMethods, m) {
				t.Errorf("token auth methods lack %s: %v", m, d.TokenAuthMethods)
			}
		}
		if !slices.Equal(d.IDTokenAlgs, []string{"RS256", "ES256"}) {
			t.Errorf("id_token algs = %v", d.IDTokenAlgs)
		}
		for name, u := range map[string]string{"end_session": d.EndSession, "userinfo": d.Userinfo, "introspection": d.Introspection, "revocation": d.Revocation} {
			if !strings.HasPrefix(u, e.issuer+"/") {
				t.Errorf("%s endpoint %q not under the issuer", name, u)
			}
		}
		tr, err := e.srv.Client().PostForm(e.issuer+"/oauth/token", map[string][]string{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"spa"}})
		if err != nil {
			t.Fatal(err)
		}
		tr.Body.Close()
		if tr.StatusCode != http.StatusBadRequest || tr.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(tr.Header.Get("Content-Type"), "application/json") {
			t.Errorf("token endpoint error: status %d headers %v", tr.StatusCode, tr.Header)
		}
		keys := fetchJWKS(t, e, d.JWKSURI)
		var algs []string
		for _, k := range keys.Keys {
			if k.KeyID == "" || !k.IsPublic() {
				t.Fatalf("jwks = %+v, want public keys with a kid", keys.Keys)
			}
			algs = append(algs, k.Algorithm)
		}
		if slices.Sort(algs); !slices.Equal(algs, []string{"ES256", "RS256"}) {
			t.Fatalf("jwks algorithms = %v, want one RS256 and one ES256 key", algs)
		}
	})
}

func fetchJWKS(t *testing.T, e *env, uri string) jose.JSONWebKeySet {
	t.Helper()
	resp, err := e.srv.Client().Get(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&ks); err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestCodeFlowClaimsAndUserinfo(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		authTime := time.Now().Add(-time.Minute).Truncate(time.Second)
		e.signInAs(u, authTime)
		r := e.rp("formapp")
		f := newFlow()
		code := r.signIn(e.browser(), f)
		tok := r.mustExchange(code, f)

		c := tok.claims
		want := map[string]any{
			"sub": u.ID, "name": "Ann Smith", "given_name": "Ann", "family_name": "Smith",
			"email": u.Email, "email_verified": true, "phone_number": "+447700900123", "phone_number_verified": true,
			"acr": ACRMultiFactor, "azp": "formapp",
		}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("id token %s = %v, want %v", k, c[k], v)
			}
		}
		if got := int64(c["auth_time"].(float64)); got != authTime.Unix() {
			t.Errorf("auth_time = %d, want %d", got, authTime.Unix())
		}
		if amr, _ := json.Marshal(c["amr"]); string(amr) != `["pwd","sms"]` {
			t.Errorf("amr = %s", amr)
		}
		if tok.raw.RefreshToken == "" {
			t.Error("no refresh token despite offline_access")
		}
		if tok.raw.TokenType != "Bearer" || tok.raw.AccessToken == "" {
			t.Errorf("access token %q type %q", tok.raw.AccessToken, tok.raw.TokenType)
		}

		ui, err := r.userinfo(tok.raw.AccessToken)
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		for _, k := range []string{"sub", "name", "email", "phone_number"} {
			if ui[k] != want[k] {
				t.Errorf("userinfo %s = %v, want %v", k, ui[k], want[k])
			}
		}

		in := r.introspect(tok.raw.AccessToken)
		if in["active"] != true || in["sub"] != u.ID || in["client_id"] != "formapp" || !strings.Contains(in["scope"].(string), "email") {
			t.Errorf("introspection = %v", in)
		}
		// Another client may not introspect formapp's token.
		if in := e.rp("other").introspect(tok.raw.AccessToken); in["active"] != false {
			t.Errorf("other client's introspection = %v, want inactive", in)
		}
	})
}

func TestScopesLimitClaims(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	r.conf.Scopes = []string{"openid", "email"}
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f), f)
	if tok.claims["email"] == nil {
		t.Error("email scope did not give the email claim")
	}
	for _, k := range []string{"name", "phone_number", "given_name"} {
		if _, ok := tok.claims[k]; ok {
			t.Errorf("claim %s present without its scope", k)
		}
	}
	if tok.raw.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
}

func TestRefreshRotationReuseAndRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		first := r.mustExchange(r.signIn(e.browser(), f), f)

		second, err := r.refresh(first.raw.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if second.RefreshToken == "" || second.RefreshToken == first.raw.RefreshToken {
			t.Fatalf("refresh token was not rotated")
		}
		if _, err := r.verify(second, ""); err != nil {
			t.Fatalf("refreshed id token: %v", err)
		}
		third, err := r.refresh(second.RefreshToken)
		if err != nil {
			t.Fatalf("second refresh: %v", err)
		}

		// Presenting the spent first token is reuse: the whole family goes.
		if _, err := r.refresh(first.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("reused refresh token: err %v, want invalid_grant", err)
		}
		if _, err := r.refresh(third.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("current token after reuse: err %v, want invalid_grant", err)
		}
		if in := r.introspect(third.AccessToken); in["active"] != false {
			t.Errorf("access token of a revoked family still active: %v", in)
		}
		if _, err := r.userinfo(third.AccessToken); err == nil {
			t.Error("userinfo accepted an access token of a revoked family")
		}

		// Revocation endpoint: a refresh token revokes its family.
		f2 := newFlow()
		fresh := r.mustExchange(r.signIn(e.browser(), f2), f2)
		if st := r.revoke(fresh.raw.RefreshToken, "refresh_token"); st != http.StatusOK {
			t.Fatalf("revoke refresh token: status %d", st)
		}
		if _, err := r.refresh(fresh.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("revoked refresh token: err %v, want invalid_grant", err)
		}
		// And an access token on its own.
		f3 := newFlow()
		fresh = r.mustExchange(r.signIn(e.browser(), f3), f3)
		if in := r.introspect(fresh.raw.AccessToken); in["active"] != true {
			t.Fatalf("fresh access token inactive: %v", in)
		}
		if st := r.revoke(fresh.raw.AccessToken, "access_token"); st != http.StatusOK {
			t.Fatalf("revoke access token: status %d", st)
		}
		if in := r.introspect(fresh.raw.AccessToken); in["active"] != false {
			t.Errorf("revoked access token still active: %v", in)
		}
		if _, err := r.refresh(fresh.raw.RefreshToken); err != nil {
			t.Errorf("revoking the access token alone broke the refresh token: %v", err)
		}
		// Unknown tokens are not an error (RFC 7009).
		if st := r.revoke("not-a-token", ""); st != http.StatusOK {
			t.Errorf("revoke unknown token: status %d", st)
		}
	})
}

func TestRefreshTokenBoundToClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(e.browser(), f), f)

		thief := e.rp("other")
		if _, err := thief.refresh(tok.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("other client's refresh: err %v, want invalid_grant", err)
		}
		if st := thief.revoke(tok.raw.RefreshToken, "refresh_token"); st == http.StatusOK {
			t.Error("another client revoked formapp's refresh token")
		}
		if _, err := r.refresh(tok.raw.RefreshToken); err != nil {
			t.Fatalf("owner's refresh after the attempt: %v", err)
		}
	})
}

// A refresh grant reads the account with the token: a disabled account is
// refused at once (its token left as it was), and its changed name is in the
// next ID token.
func TestRefreshFollowsTheAccount(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		e.signInAs(u, time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(e.browser(), f), f)
		set := func(change func(*store.User)) { t.Helper(); e.changeUser(u.ID, change) }

		set(func(x *store.User) { x.Status = store.UserDisabled })
		if _, err := r.refresh(tok.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("refresh for a disabled account: %v, want invalid_grant", err)
		}
		set(func(x *store.User) { x.Status, x.GivenName = store.UserActive, "Annie" })
		next, err := r.refresh(tok.raw.RefreshToken)
		if err != nil {
			t.Fatalf("refresh after the account is enabled again: %v", err)
		}
		raw, _ := next.Extra("id_token").(string)
		idt, err := r.verifier.Verify(r.ctx, raw)
		if err != nil {
			t.Fatalf("ID token from refresh: %v", err)
		}
		var claims struct {
			GivenName string `json:"given_name"`
		}
		if err := idt.Claims(&claims); err != nil || claims.GivenName != "Annie" {
			t.Errorf("given_name after the change = %q (%v), want Annie", claims.GivenName, err)
		}
	})
}

func TestRefreshLifetimes(t *testing.T) {
	e := newEnv(t, memorySQLite(t), func(c *Config) {
		c.RefreshTokenTTL = 3 * time.Hour
		c.RefreshTokenIdleTTL = time.Hour
	})
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f), f)
	rt := tok.raw.RefreshToken
	// Used every 50 minutes the token stays alive, until the absolute limit.
	for i := 0; i < 3; i++ {
		e.clock.advance(50 * time.Minute)
		next, err := r.refresh(rt)
		if err != nil {
			t.Fatalf("refresh %d within the idle limit: %v", i, err)
		}
		rt = next.RefreshToken
	}
	e.clock.advance(40 * time.Minute) // 190 minutes: past the 3 hour family limit
	if _, err := r.refresh(rt); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("refresh past the absolute lifetime: err %v, want invalid_grant", err)
	}

	f2 := newFlow()
	tok = r.mustExchange(r.signIn(e.browser(), f2), f2)
	e.clock.advance(61 * time.Minute)
	if _, err := r.refresh(tok.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("refresh after idling: err %v, want invalid_grant", err)
	}
}

func TestCodeReuseRevokesTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		code := r.signIn(e.browser(), f)
		tok := r.mustExchange(code, f)
		if _, err := r.userinfo(tok.raw.AccessToken); err != nil {
			t.Fatalf("userinfo before reuse: %v", err)
		}
		if _, err := r.exchange(code, f); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("second use of a code: err %v, want invalid_grant", err)
		}
		if _, err := r.userinfo(tok.raw.AccessToken); err == nil {
			t.Error("access token from a reused code still works")
		}
		if _, err := r.refresh(tok.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("refresh token from a reused code: err %v, want invalid_grant", err)
		}
	})
}

func TestFailedRedemptionSpendsCode(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	f := newFlow()
	code := r.signIn(e.browser(), f)
	if _, err := r.exchange(code, newFlow()); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("wrong PKCE verifier: err %v, want invalid_grant", err)
	}
	// The failed attempt spent the code.
	if _, err := r.exchange(code, f); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("code after a failed attempt: err %v, want invalid_grant", err)
	}
}

func TestBadAuthorizeRequestsShowErrorPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		r := e.rp("formapp")
		cases := map[string]func(*rp){
			"unregistered redirect URI": func(r *rp) { r.conf.RedirectURL = "https://evil.example/callback" },
			"redirect URI prefix":       func(r *rp) { r.conf.RedirectURL = "https://" + rpHost + "/formapp/callback/extra" },
			"unknown client":            func(r *rp) { r.conf.ClientID = "nobody" },
		}
		for name, mutate := range cases {
			t.Run(name, func(t *testing.T) {
				rr := *r
				mutate(&rr)
				resp, err := e.browser().Get(rr.authURL(newFlow()))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("status %d, want 400", resp.StatusCode)
				}
				if loc := resp.Header.Get("Location"); loc != "" {
					t.Errorf("redirected to %q", loc)
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<h1>This sign-in link is not valid</h1>") {
					t.Errorf("not the error page: %s %q", resp.Header.Get("Content-Type"), body)
				}
			})
		}
	})
}

func TestAuthorizeErrorsGoBackToClient(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	r := e.rp("formapp")
	cases := map[string]struct {
		opts []oauth2.AuthCodeOption
		want string
	}{
		"plain PKCE":            {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge_method", "plain")}, "invalid_request"},
		"implicit flow":         {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("response_type", "id_token")}, "unsupported_response_type"},
		"token":                 {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("response_type", "token")}, "unsupported_response_type"},
		"hybrid":                {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("response_type", "code id_token")}, "unsupported_response_type"},
		"unknown response_type": {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("response_type", "foo")}, "unsupported_response_type"},
		"request_uri":           {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("request_uri", "https://"+rpHost+"/req")}, "request_uri_not_supported"},
		"no openid scope":       {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("scope", "email")}, "invalid_scope"},
		"prompt none and more":  {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "none login")}, "invalid_request"},
		"form_post":             {[]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("response_mode", "form_post")}, "invalid_request"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFlow()
			res := e.visit(e.browser(), r.authURL(f, c.opts...))
			if res.param("error") != c.want || res.param("state") != f.state || res.param("iss") != e.issuer {
				t.Errorf("callback %v (status %d %q), want error=%s with state", res.callback, res.status, res.body, c.want)
			}
		})
	}
}

func TestPublicClientNeedsPKCE(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("spa")
		f := newFlow()
		noPKCE := r.conf.AuthCodeURL(f.state, gooidc.Nonce(f.nonce))
		res := e.visit(e.browser(), noPKCE)
		if res.param("error") != "invalid_request" {
			t.Fatalf("public client without PKCE: callback %v status %d, want error=invalid_request", res.callback, res.status)
		}
		// With S256 a public client signs in with no secret at all.
		tok := r.mustExchange(r.signIn(e.browser(), f), f)
		if tok.claims["sub"] == "" {
			t.Fatal("no sub")
		}
		// The refresh token of a public client works with client_id only.
		if _, err := r.refresh(tok.raw.RefreshToken); err != nil {
			t.Fatalf("public client refresh: %v", err)
		}
	})
}

func TestClientSecretPostAndWrongSecret(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	r.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	f := newFlow()
	r.mustExchange(r.signIn(e.browser(), f), f)

	wrong := e.rp("formapp")
	wrong.conf.ClientSecret = "not-the-secret"
	wrong.conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // no retry with the spent code
	f2 := newFlow()
	if _, err := wrong.exchange(wrong.signIn(e.browser(), f2), f2); oauthErrorCode(err) != "invalid_client" {
		t.Fatalf("wrong secret: err %v, want invalid_client", err)
	}
}
