package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

// fillOutbox queues three messages and takes one to sent and one to failed, as the
// worker would.
func fillOutbox(t *testing.T, s store.Outbox) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for i, to := range []string{"sent@example.org", "failed@example.org", "queued@example.org"} {
		m := &store.OutboxMessage{Channel: "email", Recipient: to, Subject: "Norfolk County Council account email verification code",
			Text: "Your code is 48215" + string(rune('0'+i)), CreatedAt: now.Add(time.Duration(i-3) * time.Minute)}
		if err := s.EnqueueOutbox(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	claimed, err := s.ClaimOutbox(ctx, "email", now, 2, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	for _, m := range claimed {
		switch m.Recipient {
		case "sent@example.org":
			err = s.MarkOutboxSent(ctx, m.ID, now)
		case "failed@example.org":
			err = s.MarkOutboxFailed(ctx, m.ID, "550 5.1.1 mailbox unavailable")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func checkOutboxList(t *testing.T, vars map[string]string) {
	t.Helper()
	code, out, errs := runCmd(t, vars, "outbox", "list")
	if code != 0 {
		t.Fatalf("outbox list: %d %q", code, errs)
	}
	for _, want := range []string{"STATUS", "sent@example.org", "failed@example.org", "queued@example.org", "550 5.1.1 mailbox unavailable", "verification code"} {
		if !strings.Contains(out, want) {
			t.Errorf("outbox list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "48215") {
		t.Errorf("outbox list shows a message body:\n%s", out)
	}
	// Newest first.
	if strings.Index(out, "queued@example.org") > strings.Index(out, "sent@example.org") {
		t.Errorf("not newest first:\n%s", out)
	}

	code, out, _ = runCmd(t, vars, "outbox", "list", "--status", "failed")
	if code != 0 || !strings.Contains(out, "failed@example.org") || strings.Contains(out, "queued@example.org") || strings.Contains(out, "sent@example.org") {
		t.Errorf("--status failed: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, vars, "outbox", "list", "--limit", "1")
	if code != 0 || !strings.Contains(out, "queued@example.org") || strings.Contains(out, "failed@example.org") || !strings.Contains(out, "raise --limit") {
		t.Errorf("--limit 1: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, vars, "outbox", "list", "--status=sending")
	if code != 0 || strings.TrimSpace(out) != "no sending messages in the outbox" {
		t.Errorf("--status sending: %d %q", code, out)
	}
}

func TestOutboxListSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + db}
	if code, out, errs := runCmd(t, vars, "outbox", "list"); code != 0 || strings.TrimSpace(out) != "the outbox is empty" {
		t.Fatalf("empty outbox: %d %q %q", code, out, errs)
	}
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	fillOutbox(t, s)
	s.Close()
	checkOutboxList(t, vars)
}

// With PostgreSQL and IDP_DEV off, the command needs only the database settings:
// listing sends nothing, so no SMTP relay or Vonage account is asked for.
func TestOutboxListPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	fillOutbox(t, s)
	checkOutboxList(t, map[string]string{"IDP_DATABASE_URL": url, "IDP_KEY_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})
}

func TestOutboxUsageErrors(t *testing.T) {
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "idp.db")}
	for _, args := range [][]string{
		{"outbox"},
		{"outbox", "show"},
		{"outbox", "list", "--status", "lost"},
		{"outbox", "list", "--limit", "0"},
		{"outbox", "list", "--limit", "many"},
		{"outbox", "list", "stray"},
	} {
		code, out, errs := runCmd(t, vars, args...)
		if code != 2 || out != "" || strings.Count(errs, "\n") < 1 || !strings.Contains(errs, "idp outbox") {
			t.Errorf("%v: exit %d stdout %q stderr %q, want 2 and a usage line", args, code, out, errs)
		}
	}
	if code, _, errs := runCmd(t, map[string]string{"IDP_DATABASE_URL": "nonsense"}, "outbox", "list"); code != 2 || !strings.Contains(errs, "IDP_DATABASE_URL: ") {
		t.Errorf("bad configuration: %d %q", code, errs)
	}
}
