package provider

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/councilforms/idp/store"
)

func kidOf(t *testing.T, rawJWT string) string {
	t.Helper()
	jws, err := jose.ParseSigned(rawJWT, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.KeyID
}

// jwksKids are the kids of the published keys of alg ("" for every algorithm).
func jwksKids(t *testing.T, e *env, alg ...string) []string {
	t.Helper()
	var kids []string
	for _, k := range fetchJWKS(t, e, e.issuer+"/keys").Keys {
		if !k.IsPublic() {
			t.Fatalf("JWKS holds a private key %s", k.KeyID)
		}
		if len(alg) == 0 || k.Algorithm == alg[0] {
			kids = append(kids, k.KeyID)
		}
	}
	return kids
}

func TestKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), func(c *Config) { c.KeyPublishDelay = 2 * time.Minute })
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		before := r.mustExchange(r.signIn(e.browser(), f), f)
		oldKid := kidOf(t, before.rawID)

		esKids := jwksKids(t, e, "ES256")
		if len(esKids) != 1 {
			t.Fatalf("ES256 keys in JWKS = %v, want one", esKids)
		}
		// `idp keys rotate --alg RS256` runs in another process: it only writes rows.
		infos, err := RotateSigningKeys(context.Background(), e.st.db, e.cfg, "RS256")
		if err != nil || len(infos) != 1 {
			t.Fatal(infos, err)
		}
		info := infos[0]
		if info.State != KeyPending || info.ID == oldKid || info.Algorithm != "RS256" {
			t.Fatalf("rotated key = %+v, want a new pending RS256 key", info)
		}
		e.clock.advance(keyCacheTTL + time.Second) // the server re-reads the keys

		// Published before it signs: both keys in JWKS, the old one still signs.
		kids := jwksKids(t, e, "RS256")
		if len(kids) != 2 || !strings.Contains(strings.Join(kids, " "), oldKid) || !strings.Contains(strings.Join(kids, " "), info.ID) {
			t.Fatalf("JWKS during the overlap = %v, want %s and %s", kids, oldKid, info.ID)
		}
		f = newFlow()
		if kid := kidOf(t, r.mustExchange(r.signIn(e.browser(), f), f).rawID); kid != oldKid {
			t.Fatalf("signed with %s before the new key's activation, want %s", kid, oldKid)
		}

		e.clock.advance(2 * time.Minute)
		f = newFlow()
		after := r.mustExchange(r.signIn(e.browser(), f), f)
		if kid := kidOf(t, after.rawID); kid != info.ID {
			t.Fatalf("signed with %s after activation, want %s", kid, info.ID)
		}
		// Tokens signed before the rotation still verify, with a fresh RP too.
		if _, err := e.rp("formapp").verifier.Verify(r.ctx, before.rawID); err != nil {
			t.Fatalf("old ID token after rotation: %v", err)
		}
		if kids := jwksKids(t, e, "RS256"); len(kids) != 2 {
			t.Fatalf("JWKS right after activation = %v, want both keys", kids)
		}
		// An ID token signed by the retired key still works as id_token_hint.
		f = newFlow()
		res := e.visit(e.browser(), r.authURL(f)+"&id_token_hint="+before.rawID)
		if res.callback == nil || res.param("code") == "" {
			t.Fatalf("old id_token_hint refused: %v status %d", res.callback, res.status)
		}

		// Once tokens signed by the old key have expired it leaves JWKS.
		e.clock.advance(e.cfg.IDTokenTTL + keyCacheTTL + time.Minute)
		if kids := jwksKids(t, e, "RS256"); len(kids) != 1 || kids[0] != info.ID {
			t.Fatalf("JWKS after the retired key expired = %v, want only %s", kids, info.ID)
		}
		// The ES256 key was not rotated with the RS256 one.
		if kids := jwksKids(t, e, "ES256"); len(kids) != 1 || kids[0] != esKids[0] {
			t.Fatalf("ES256 keys after an RS256 rotation = %v, want %v", kids, esKids)
		}
	})
}

func TestFirstKeyActiveAtOnceAndSealed(t *testing.T) {
	st := memorySQLite(t)
	e := newEnv(t, st, nil)
	keys, err := st.db.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var algs []string
	for _, k := range keys {
		if k.ActiveFrom.After(k.CreatedAt) {
			t.Errorf("first %s key is not active at creation", k.Algorithm)
		}
		if bytes.Contains(k.PrivateEncrypted, []byte(`"d"`)) || bytes.Contains(k.PrivateEncrypted, []byte(`"kty"`)) {
			t.Fatal("private key stored in the clear")
		}
		algs = append(algs, k.Algorithm)
	}
	sort.Strings(algs)
	if strings.Join(algs, " ") != "ES256 RS256" {
		t.Fatalf("first keys = %v, want one RS256 and one ES256 key", algs)
	}
	infos, err := ListSigningKeys(context.Background(), st.db, e.cfg)
	if err != nil || len(infos) != 2 || infos[0].State != KeyActive || infos[1].State != KeyActive {
		t.Fatalf("ListSigningKeys = %+v, %v", infos, err)
	}

	// Another key-encryption key cannot open the stored key: refused at start.
	cfg := e.cfg
	cfg.KeyEncryptionKey = bytes.Repeat([]byte{7}, 32)
	if _, err := New(cfg, st.db, st.eph, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "unseal") {
		t.Fatalf("wrong key-encryption key: %v", err)
	}
	cfg.KeyEncryptionKey = []byte("short")
	if _, err := New(cfg, st.db, st.eph, nil); err == nil {
		t.Fatal("accepted a short key-encryption key")
	}
}

func TestES256(t *testing.T) {
	e := newEnv(t, memorySQLite(t), func(c *Config) { c.SigningAlgorithm = "ES256" })
	e.signInAs(e.newUser(), time.Time{})
	r := e.rp("formapp")
	f := newFlow()
	tok := r.mustExchange(r.signIn(e.browser(), f), f)
	if alg := tok.idToken; alg == nil {
		t.Fatal("no id token")
	}
	jws, err := jose.ParseSigned(tok.rawID, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("ID token is not ES256: %v", err)
	}
	if jws.Signatures[0].Header.Algorithm != "ES256" {
		t.Fatalf("alg %s", jws.Signatures[0].Header.Algorithm)
	}
}

// Two processes behind a load balancer, sharing the database and Redis.
func TestTwoInstancesShareState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		t.Run("concurrent first start agrees on the key", func(t *testing.T) {
			st := open(t)
			e := &env{t: t, st: st, clock: &testClock{}, cfg: Config{
				Issuer: "https://idp.example", KeyEncryptionKey: bytes.Repeat([]byte{1}, 32),
			}}
			var wg sync.WaitGroup
			ps := make([]*Provider, 2)
			for i := range ps {
				wg.Add(1)
				go func() { defer wg.Done(); ps[i] = e.newInstance() }()
			}
			wg.Wait()
			k0, err0 := ps[0].keys.signingKey(context.Background())
			k1, err1 := ps[1].keys.signingKey(context.Background())
			if err0 != nil || err1 != nil || k0.KeyID != k1.KeyID {
				t.Fatalf("instances sign with %v and %v (%v, %v)", k0, k1, err0, err1)
			}
		})

		e := newEnv(t, open(t), func(c *Config) { c.KeyPublishDelay = time.Minute })
		p1, p2 := e.p, e.newInstance()
		// The browser talks to instance 1; the form app's back channel to 2.
		e.pick = func(r *http.Request) *Provider {
			switch r.URL.Path {
			case "/oauth/token", "/userinfo", "/oauth/introspect", "/revoke":
				return p2
			}
			return p1
		}
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(e.browser(), f), f) // code from 1 redeemed at 2
		k1, _ := p1.keys.signingKey(context.Background())
		if kid := kidOf(t, tok.rawID); kid != k1.KeyID {
			t.Fatalf("instance 2 signed with %s, instance 1 signs with %s", kid, k1.KeyID)
		}
		if _, err := r.userinfo(tok.raw.AccessToken); err != nil {
			t.Fatalf("userinfo at instance 2: %v", err)
		}
		// Code reuse is caught across instances too.
		e.pick = func(*http.Request) *Provider { return p1 }
		code := r.signIn(e.browser(), f)
		r.mustExchange(code, f)
		e.pick = func(*http.Request) *Provider { return p2 }
		if _, err := r.exchange(code, f); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("code reused at the other instance: %v", err)
		}

		// A rotation (of both algorithms) reaches both instances without
		// restarting either.
		infos, err := RotateSigningKeys(context.Background(), e.st.db, e.cfg, "")
		if err != nil || len(infos) != 2 {
			t.Fatal(infos, err)
		}
		e.clock.advance(time.Minute + keyCacheTTL)
		for i, p := range []*Provider{p1, p2} {
			for _, info := range infos {
				k, err := p.signingKeyFor(context.Background(), info.Algorithm)
				if err != nil || k.KeyID != info.ID {
					t.Fatalf("instance %d signs %s with %v (%v), want %s", i+1, info.Algorithm, k, err, info.ID)
				}
			}
		}
	})
}

// Keys rotated while no server ran: the server must still start and sign,
// and hand over to the rotated key when it activates.
func TestStartWithOnlyAPendingKey(t *testing.T) {
	st := memorySQLite(t)
	clock := &testClock{}
	kek := bytes.Repeat([]byte{3}, 32)
	ctx := context.Background()
	cli, err := newKeyring(st.db, kek, "RS256", time.Minute, 5*time.Minute, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	pending, err := cli.create(ctx, jose.RS256, clock.now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	server, _ := newKeyring(st.db, kek, "RS256", time.Minute, 5*time.Minute, clock.now)
	if err := server.ensure(ctx); err != nil {
		t.Fatal(err)
	}
	now, err := server.signingKey(ctx)
	if err != nil || now.KeyID == pending.ID {
		t.Fatalf("signs with %v (%v), want a new immediate key", now, err)
	}
	if pub, _ := server.published(ctx); len(pub) != 3 {
		t.Fatalf("published %d keys, want both RS256 keys and the ES256 key", len(pub))
	}
	clock.advance(time.Minute + keyCacheTTL)
	later, err := server.signingKey(ctx)
	if err != nil || later.KeyID != pending.ID {
		t.Fatalf("after activation signs with %v (%v), want %s", later, err, pending.ID)
	}
}

// The JWKS and discovery responses are encoded once and served from memory;
// they must be what the library itself would write, with its CORS headers.
func TestCachedJWKSAndDiscoveryMatchTheLibrary(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		get := func(path string) (*http.Response, []byte) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, e.issuer+path, nil)
			req.Header.Set("Origin", "https://rp.example")
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			return resp, body
		}
		want := httptest.NewRecorder()
		op.Keys(want, httptest.NewRequest(http.MethodGet, "/keys", nil), e.p.storage)
		for range 2 {
			resp, body := get("/keys")
			if !bytes.Equal(body, want.Body.Bytes()) {
				t.Fatalf("JWKS = %s, the library writes %s", body, want.Body.Bytes())
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://rp.example" {
				t.Errorf("JWKS Access-Control-Allow-Origin = %q", got)
			}
			if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "public, max-age=300" {
				t.Errorf("JWKS headers %v", resp.Header)
			}
		}
		_, first := get("/.well-known/openid-configuration")
		_, second := get("/.well-known/openid-configuration")
		if !bytes.Equal(first, second) || !bytes.HasSuffix(first, []byte("}\n")) {
			t.Fatalf("discovery changed between requests: %s then %s", first, second)
		}
	})
}

// headerOf returns the alg and kid of a signed token.
func headerOf(t *testing.T, rawJWT string) (alg, kid string) {
	t.Helper()
	jws, err := jose.ParseSigned(rawJWT, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return jws.Signatures[0].Header.Algorithm, jws.Signatures[0].Header.KeyID
}

// verifyWithJWKS checks rawJWT's signature against the published key its
// kid names, which must be of alg.
func verifyWithJWKS(t *testing.T, e *env, rawJWT, alg string) {
	t.Helper()
	gotAlg, kid := headerOf(t, rawJWT)
	if gotAlg != alg {
		t.Fatalf("token alg %s, want %s", gotAlg, alg)
	}
	set := fetchJWKS(t, e, e.issuer+"/keys")
	keys := set.Key(kid)
	if len(keys) != 1 || keys[0].Algorithm != alg {
		t.Fatalf("JWKS keys for kid %s = %+v, want one %s key", kid, keys, alg)
	}
	jws, err := jose.ParseSigned(rawJWT, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		t.Fatalf("%s token does not verify against JWKS: %v", alg, err)
	}
}

func setClientAlg(t *testing.T, e *env, id, alg string) {
	t.Helper()
	if _, err := UpdateClient(context.Background(), e.st.db, id, ClientChange{IDTokenSignedResponseAlg: &alg}); err != nil {
		t.Fatal(err)
	}
}

// Each client's ID tokens, from the code and from refresh grants, are signed
// with its id_token_signed_response_alg; a client without one gets the
// default. A strict RP (go-oidc, configured from discovery) accepts both.
func TestPerClientSigningAlgorithm(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		setClientAlg(t, e, "other", "ES256")
		setClientAlg(t, e, "spa", "RS256")
		e.signInAs(e.newUser(), time.Time{})
		b := e.browser()
		for client, alg := range map[string]string{"formapp": "RS256", "other": "ES256", "spa": "RS256"} {
			r := e.rp(client)
			f := newFlow()
			tok := r.mustExchange(r.signIn(b, f), f) // verified by go-oidc from discovery
			verifyWithJWKS(t, e, tok.rawID, alg)
			// at_hash is computed with the same algorithm (go-oidc checks it).
			if err := tok.idToken.VerifyAccessToken(tok.raw.AccessToken); err != nil {
				t.Errorf("%s: at_hash: %v", client, err)
			}
			next, err := r.refresh(tok.raw.RefreshToken)
			if err != nil {
				t.Fatalf("%s: refresh: %v", client, err)
			}
			refreshed, err := r.verify(next, "")
			if err != nil {
				t.Fatalf("%s: refreshed ID token: %v", client, err)
			}
			verifyWithJWKS(t, e, refreshed.rawID, alg)
			if err := refreshed.idToken.VerifyAccessToken(next.AccessToken); err != nil {
				t.Errorf("%s: refreshed at_hash: %v", client, err)
			}
		}
	})
}

// With ES256 as the service's default, a client without a choice gets ES256
// and one that chose RS256 gets RS256; discovery names the default first.
func TestPerClientSigningAlgorithmWithES256Default(t *testing.T) {
	e := newEnv(t, memorySQLite(t), func(c *Config) { c.SigningAlgorithm = "ES256" })
	setClientAlg(t, e, "other", "RS256")
	e.signInAs(e.newUser(), time.Time{})
	for client, alg := range map[string]string{"formapp": "ES256", "other": "RS256"} {
		r := e.rp(client)
		f := newFlow()
		verifyWithJWKS(t, e, r.mustExchange(r.signIn(e.browser(), f), f).rawID, alg)
	}
	var d struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := e.rp("formapp").provider.Claims(&d); err != nil || strings.Join(d.Algs, " ") != "ES256 RS256" {
		t.Fatalf("id_token_signing_alg_values_supported = %v (%v)", d.Algs, err)
	}
}

func TestSigningKeyFor(t *testing.T) {
	e := newEnv(t, memorySQLite(t), nil)
	ctx := context.Background()
	for alg, want := range map[string]string{"": "RS256", "RS256": "RS256", "ES256": "ES256"} {
		k, err := e.p.signingKeyFor(ctx, alg)
		if err != nil || k.Algorithm != want || k.IsPublic() || k.KeyID == "" {
			t.Fatalf("signingKeyFor(%q) = %+v, %v; want the private %s key", alg, k, err, want)
		}
		if !slices.Contains(jwksKids(t, e, want), k.KeyID) {
			t.Errorf("signingKeyFor(%q) = %s, not published as %s", alg, k.KeyID, want)
		}
	}
	if _, err := e.p.signingKeyFor(ctx, "HS256"); err == nil {
		t.Error("signingKeyFor(HS256) gave a key")
	}
	if got := clientSigningAlg(&store.Client{IDTokenSignedResponseAlg: "ES256"}); got != "ES256" {
		t.Errorf("clientSigningAlg = %q", got)
	}
	if got := clientSigningAlg(&store.Client{}); got != "" {
		t.Errorf("clientSigningAlg of a client without a choice = %q, want \"\" (the default)", got)
	}
}

// A database from before per-client algorithms holds only RS256 keys: the
// server keeps signing with them and adds an ES256 key, which signs at once
// (no ES256 token was ever issued, so no relying party holds a JWKS without it).
func TestUpgradeAddsTheOtherAlgorithm(t *testing.T) {
	st := memorySQLite(t)
	kek := bytes.Repeat([]byte{5}, 32)
	old, err := newKeyring(st.db, kek, "RS256", time.Minute, 5*time.Minute, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := old.create(context.Background(), jose.RS256, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, st, func(c *Config) { c.KeyEncryptionKey = kek })
	if kids := jwksKids(t, e, "RS256"); len(kids) != 1 || kids[0] != rs.ID {
		t.Fatalf("RS256 keys after the upgrade = %v, want only %s", kids, rs.ID)
	}
	es := jwksKids(t, e, "ES256")
	if len(es) != 1 {
		t.Fatalf("ES256 keys after the upgrade = %v, want one", es)
	}
	// A server of the previous version, still running during a rolling
	// upgrade, signs with the newest active key whatever its algorithm: that
	// must stay its RS256 key.
	keys, err := st.db.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var newest *store.SigningKey
	for _, k := range keys {
		if !k.ActiveFrom.After(time.Now()) && (newest == nil || k.ActiveFrom.After(newest.ActiveFrom)) {
			newest = k
		}
	}
	if newest == nil {
		t.Fatal("no active key")
	}
	if newest.ID != rs.ID {
		t.Fatalf("the newest active key is the %s key %s, want the RS256 key %s", newest.Algorithm, newest.ID, rs.ID)
	}
	setClientAlg(t, e, "other", "ES256")
	e.signInAs(e.newUser(), time.Time{})
	for client, kid := range map[string]string{"formapp": rs.ID, "other": es[0]} {
		r := e.rp(client)
		f := newFlow()
		if got := kidOf(t, r.mustExchange(r.signIn(e.browser(), f), f).rawID); got != kid {
			t.Errorf("%s: signed with %s, want %s", client, got, kid)
		}
	}
}
