package provider

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/storetest"
)

// BenchmarkUserinfo: GET /userinfo through the provider's handler, on
// PostgreSQL and Redis, for one access token: the token's decryption, its
// record and revocation markers in Redis, the account in PostgreSQL, the
// claims encoded. The server CPU and the round trips of one userinfo request,
// without HTTP transport.
func BenchmarkUserinfo(b *testing.B) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, storetest.PostgresURL(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	rurl, prefix := storetest.Redis(b)
	eph, err := redis.Open(ctx, rurl, prefix)
	if err != nil {
		b.Fatal(err)
	}
	defer eph.Close()
	kek := make([]byte, 32)
	rand.Read(kek)
	p, err := newProvider(Config{Issuer: "https://login.example.org", KeyEncryptionKey: kek}, db, eph, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now)
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
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("userinfo: %d %s", w.Code, w.Body)
		}
	}
}
