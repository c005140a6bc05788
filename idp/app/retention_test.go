package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
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
