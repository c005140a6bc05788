package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/councilforms/idp/factors/email"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/factors/otp"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
)

// outboxDown is the durable store with an outbox whose own writes fail: the
// email queued on its own, outside any other write, cannot be stored.
type outboxDown struct{ store.Durable }

func (outboxDown) EnqueueOutbox(context.Context, *store.OutboxMessage) error {
	return errors.New("outbox down")
}

// changeRefused is the durable store refusing to keep a pending change.
type changeRefused struct{ store.Durable }

func (changeRefused) RequestPhoneChange(context.Context, *store.PendingPhone, *store.OutboxMessage, *store.AuditEvent) error {
	return errors.New("database down")
}

// Issue 19: the pending change of a lost phone and the email that announces it
// to the account are one durable write: both are stored or neither. Before, the
// change was stored and then the email queued on its own, so an outbox that
// failed then (or a crash between the two) left a change waiting whose owner
// was never told.
func TestRequestPhoneChangeWritesItsEmailWithIt(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for name, wrap := range map[string]func(store.Durable) (Store, store.Outbox){
		"the email's own queueing fails": func(db store.Durable) (Store, store.Outbox) { return db, outboxDown{db} },
		"the store fails":                func(db store.Durable) (Store, store.Outbox) { return changeRefused{db}, db },
	} {
		t.Run(name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idp.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			u := &store.User{ID: "u1", Email: "ada@example.com", GivenName: "Ada", FamilyName: "Lovelace",
				Phone: "+447700900111", PhoneType: string(phone.Mobile), PhoneVerified: true, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			cat, err := messages.New("Norfolk County Council")
			if err != nil {
				t.Fatal(err)
			}
			policy := journey.DefaultPolicy()
			policy.NewPasswordRule = func(string) error { return nil }
			m, err := journey.New(policy, otp.NewHasher([]byte("0123456789abcdef0123456789abcdef")))
			if err != nil {
				t.Fatal(err)
			}
			pages, outbox := wrap(db)
			h := &Handler{Deps: Deps{Store: pages, Email: email.NewOutbox(outbox, nil, nil), Messages: cat, Machine: m,
				Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}}
			err = h.requestPhoneChange(ctx, httptest.NewRequest("POST", actPhoneRecovery, nil),
				journey.RequestPhoneChange{UserID: u.ID, Number: "+447700900222", Type: phone.Mobile, EffectiveAt: now.Add(72 * time.Hour)}, "en")

			_, perr := db.PendingPhoneChange(ctx, u.ID)
			pending := perr == nil
			if perr != nil && !errors.Is(perr, store.ErrNotFound) {
				t.Fatal(perr)
			}
			queued, lerr := db.ListOutbox(ctx, store.OutboxQueued, 10)
			if lerr != nil {
				t.Fatal(lerr)
			}
			told := len(queued) == 1 && queued[0].Recipient == u.Email && queued[0].Subject == "Your Norfolk County Council account has changed"
			if len(queued) > 1 {
				t.Fatalf("%d emails queued", len(queued))
			}
			if pending != told {
				t.Fatalf("half done: change pending %v, its email queued %v (%d queued; request: %v)", pending, told, len(queued), err)
			}
			if (err == nil) != pending {
				t.Fatalf("request answered %v with the change pending %v", err, pending)
			}
		})
	}
}
