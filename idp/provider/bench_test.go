package provider

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/storetest"
)

// benchProvider is a provider on PostgreSQL and Redis signing with alg, with
// one account and the public client "spa" (as the load driver's), for the
// benchmarks of the endpoints' handlers without HTTP transport.
func benchProvider(b *testing.B, alg string) (*Provider, *store.User) {
	b.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, storetest.PostgresURL(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	rurl, prefix := storetest.Redis(b)
	eph, err := redis.Open(ctx, rurl, prefix)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eph.Close() })
	kek := make([]byte, 32)
	rand.Read(kek)
	p, err := newProvider(Config{Issuer: "https://login.example.org", KeyEncryptionKey: kek, SigningAlgorithm: alg},
		db, eph, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	u := &store.User{
		ID: "user-bench", Email: "ann.smith@example.org", EmailVerified: true, GivenName: "Ann", FamilyName: "Smith",
		PasswordHash: "x", Phone: "+447700900123", PhoneType: "mobile", PhoneVerified: true, Status: store.UserActive,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	secrets, err := NewClientSecrets(kek)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := AddClient(ctx, db, secrets, NewClient{ID: "spa", Name: "Public form", Public: true,
		RedirectURIs: []string{"https://rp.example/spa/callback"}}, now); err != nil {
		b.Fatal(err)
	}
	return p, u
}

// BenchmarkUserinfo: GET /userinfo through the provider's handler, on
// PostgreSQL and Redis, for one access token: the token's decryption, its
// record and revocation markers in Redis, the account in PostgreSQL, the
// claims encoded. The server CPU and the round trips of one userinfo request,
// without HTTP transport.
func BenchmarkUserinfo(b *testing.B) {
	ctx := context.Background()
	p, u := benchProvider(b, "RS256")
	now := time.Now()
	at := &accessToken{
		ID: newAccessTokenID("formapp", "family-1", "session-1"), ClientID: "formapp", UserID: u.ID,
		Scopes: []string{"openid", "profile", "email", "phone"}, Audience: []string{"formapp"}, AMR: []string{"pwd", "sms"},
		AuthTime: now, IssuedAt: now, ExpiresAt: now.Add(time.Hour), FamilyID: "family-1", SessionID: "session-1",
	}
	if err := p.storeAccessToken(ctx, at); err != nil {
		b.Fatal(err)
	}
	bearer, err := p.op.Crypto().Encrypt(at.ID + ":" + u.ID)
	if err != nil {
		b.Fatal(err)
	}
	h := p.Handler()
	req := httptest.NewRequest(http.MethodGet, "https://login.example.org/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	defer reportCPU(b)()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("userinfo: %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkTokenEndpoint: POST /oauth/token through the provider's handler,
// on PostgreSQL and Redis, for the public client with PKCE, as the load
// driver's code and refresh scenarios: a code exchange (with offline_access:
// a refresh token, an access token and an ID token) and a refresh grant
// (rotation, a new access token and ID token), with each signing algorithm.
func BenchmarkTokenEndpoint(b *testing.B) {
	for _, alg := range signingAlgorithms {
		b.Run("code/"+alg, func(b *testing.B) {
			p, u := benchProvider(b, alg)
			h := p.Handler()
			verifier := oauth2.GenerateVerifier()
			defer reportCPU(b)()
			for b.Loop() {
				b.StopTimer()
				code := benchCode(b, p, u, verifier)
				b.StartTimer()
				benchToken(b, h, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"spa"},
					"redirect_uri": {"https://rp.example/spa/callback"}, "code_verifier": {verifier}})
			}
		})
		b.Run("refresh/"+alg, func(b *testing.B) {
			p, u := benchProvider(b, alg)
			h := p.Handler()
			verifier := oauth2.GenerateVerifier()
			rt := benchToken(b, h, url.Values{"grant_type": {"authorization_code"}, "code": {benchCode(b, p, u, verifier)},
				"client_id": {"spa"}, "redirect_uri": {"https://rp.example/spa/callback"}, "code_verifier": {verifier}}).RefreshToken
			defer reportCPU(b)()
			for b.Loop() {
				rt = benchToken(b, h, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}).RefreshToken
			}
		})
	}
}

// benchCode stores a finished sign-in of u for the client "spa" and returns
// its code, as finish would.
func benchCode(b *testing.B, p *Provider, u *store.User, verifier string) string {
	b.Helper()
	now := time.Now()
	ar := &authRequest{
		ID: randomID(16), CreatedAt: now, ClientID: "spa", RedirectURI: "https://rp.example/spa/callback",
		Scopes: []string{"openid", "profile", "email", "phone", "offline_access"}, State: "s", Nonce: "n",
		CodeChallenge: oauth2.S256ChallengeFromVerifier(verifier), CodeChallengeMethod: "S256",
		IsDone: true, UserID: u.ID, AMR: []string{"pwd", "sms"}, AuthTime: now, SessionID: randomID(16),
	}
	raw, _ := json.Marshal(ar)
	ctx := context.Background()
	if err := p.eph.Create(ctx, keyAuthRequest+ar.ID, raw, CodeTTL); err != nil {
		b.Fatal(err)
	}
	code := randomToken(32)
	if err := p.eph.Create(ctx, keyCode+hashToken(code), raw, CodeTTL); err != nil {
		b.Fatal(err)
	}
	return code
}

type benchTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
}

func benchToken(b *testing.B, h http.Handler, form url.Values) benchTokens {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "https://login.example.org/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var out benchTokens
	if err := json.Unmarshal(w.Body.Bytes(), &out); w.Code != http.StatusOK || err != nil || out.IDToken == "" || out.RefreshToken == "" {
		b.Fatalf("token endpoint: %d %s", w.Code, w.Body)
	}
	return out
}

// reportCPU reports the CPU time the process spent per operation (user and
// system, all goroutines: the handler's own work and its store clients',
// not PostgreSQL's or Redis's), a figure less swayed than the wall clock by
// other work on the machine and by waiting for commits. Call the function it
// returns after the loop.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
