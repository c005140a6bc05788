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

// recoveryHandler is a Handler over a fresh SQLite store holding one account
// (its phone +447700900111), the pages' store and the email outbox's as wrap
// makes them from it.
func recoveryHandler(t *testing.T, now time.Time, wrap func(store.Durable) (Store, store.Outbox)) (*Handler, store.Durable, *store.User) {
	t.Helper()
	ctx := context.Background()
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
	return h, db, u
}

// accountNotices counts the emails queued to u that announce a change to the account.
func accountNotices(t *testing.T, db store.Durable, u *store.User) int {
	t.Helper()
	queued, err := db.ListOutbox(context.Background(), store.OutboxQueued, 10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range queued {
		if m.Recipient == u.Email && m.Subject == "Your Norfolk County Council account has changed" {
			n++
		}
	}
	if n != len(queued) {
		t.Fatalf("%d other emails queued", len(queued)-n)
	}
	return n
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
			h, db, u := recoveryHandler(t, now, wrap)
			err := h.requestPhoneChange(ctx, httptest.NewRequest("POST", actPhoneRecovery, nil),
				journey.RequestPhoneChange{UserID: u.ID, Number: "+447700900222", Type: phone.Mobile, EffectiveAt: now.Add(72 * time.Hour)}, "en")
			_, perr := db.PendingPhoneChange(ctx, u.ID)
			if perr != nil && !errors.Is(perr, store.ErrNotFound) {
				t.Fatal(perr)
			}
			pending, told := perr == nil, accountNotices(t, db, u)
			if (pending && told != 1) || (!pending && told != 0) {
				t.Fatalf("half done: change pending %v, %d emails announcing it (request: %v)", pending, told, err)
			}
			if (err == nil) != pending {
				t.Fatalf("request answered %v with the change pending %v", err, pending)
			}
		})
	}
}

// The same when the wait is over: the new number becomes the account's with the
// email that tells its owner, or neither happens. Before, the number was
// changed, then the email queued on its own.
func TestApplyPhoneChangeWritesItsEmailWithIt(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	h, db, u := recoveryHandler(t, now, func(db store.Durable) (Store, store.Outbox) { return db, outboxDown{db} })
	if err := db.RequestPhoneChange(ctx, &store.PendingPhone{UserID: u.ID, Phone: "+447700900222", PhoneType: string(phone.Mobile),
		RequestedAt: now.Add(-73 * time.Hour), EffectiveAt: now.Add(-time.Hour)}, nil, nil); err != nil {
		t.Fatal(err)
	}
	a := accountOf(u)
	err := h.pendingPhone(ctx, httptest.NewRequest("POST", actSignIn, nil), u, a)
	after, uerr := db.UserByID(ctx, u.ID)
	if uerr != nil {
		t.Fatal(uerr)
	}
	changed, told := after.Phone == "+447700900222", accountNotices(t, db, u)
	if (changed && told != 1) || (!changed && told != 0) {
		t.Fatalf("half done: number changed %v, %d emails telling of it (sign-in: %v)", changed, told, err)
	}
	if !changed || err != nil || a.Phone != "+447700900222" {
		t.Fatalf("the change due was not made: %v, account %+v", err, a)
	}
}
