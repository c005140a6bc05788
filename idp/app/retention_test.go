package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/store"
)

// Issue 18: the servers keep the audit log for IDP_AUDIT_RETENTION (400 days
// by default) and delete what is older, whatever else happens.
func TestAuditRetention(t *testing.T) {
	vars := map[string]string{"IDP_DEV": "true", "IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.WithAuditPruneEvery(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	now := time.Now()
	old := &store.AuditEvent{Time: now.Add(-401 * 24 * time.Hour), Kind: "login.completed", UserID: "u-old"}
	kept := &store.AuditEvent{Time: now.Add(-399 * 24 * time.Hour), Kind: "login.completed", UserID: "u-kept"}
	for _, e := range []*store.AuditEvent{old, kept} {
		if err := a.Durable.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	bg, stop := context.WithCancel(ctx)
	defer stop()
	a.Start(bg)
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := a.Durable.ListAudit(ctx, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, e := range es {
			ids[e.UserID] = true
		}
		if !ids["u-kept"] {
			t.Fatal("an event younger than the retention was deleted")
		}
		if !ids["u-old"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("an event older than 400 days was not deleted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The same loop deletes the refresh tokens of families past their lifetime,
// spent, revoked or current, and keeps every token of a live family, spent
// ones too (reuse of one must still revoke the family). It says how many.
func TestRefreshTokenRetention(t *testing.T) {
	vars := map[string]string{"IDP_DEV": "true", "IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var logs lockedBuffer
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(&logs, nil)), app.WithAuditPruneEvery(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	now := time.Now()
	tok := func(hash, family string, created, idle time.Duration) *store.RefreshToken {
		return &store.RefreshToken{
			Hash: hash, FamilyID: family, ClientID: "formapp", UserID: "u1", Scopes: []string{"openid", "offline_access"},
			CreatedAt: now.Add(created), ExpiresAt: now.Add(created + 720*time.Hour), IdleExpiresAt: now.Add(created + idle),
		}
	}
	// Expired: signed in four days ago, refreshed once, then idle past 72 h.
	if err := a.Durable.CreateRefreshToken(ctx, tok("old-1", "fam-old", -96*time.Hour, 72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := a.Durable.RotateRefreshToken(ctx, "old-1", tok("old-2", "fam-old", -95*time.Hour, 72*time.Hour), now.Add(-95*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Live: its first token, spent, idled out; its current one is fresh.
	if err := a.Durable.CreateRefreshToken(ctx, tok("live-1", "fam-live", -96*time.Hour, 72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := a.Durable.RotateRefreshToken(ctx, "live-1", tok("live-2", "fam-live", -time.Hour, 72*time.Hour), now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	stored := func(hash string) bool {
		_, err := a.Durable.RefreshTokenByHash(ctx, hash)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	bg, stop := context.WithCancel(ctx)
	defer stop()
	a.Start(bg)
	deadline := time.Now().Add(10 * time.Second)
	for stored("old-1") || stored("old-2") {
		if time.Now().After(deadline) {
			t.Fatal("the refresh tokens of an expired family were not deleted")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, h := range []string{"live-1", "live-2"} {
		if !stored(h) {
			t.Errorf("token %s of a live family was deleted", h)
		}
	}
	for !strings.Contains(logs.String(), "refresh token retention: expired tokens deleted") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for the deleted refresh tokens; log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "count=2") {
		t.Errorf("the retention log line does not say 2 tokens were deleted:\n%s", logs.String())
	}
}

// lockedBuffer is a log destination the retention goroutine writes while the
// test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
