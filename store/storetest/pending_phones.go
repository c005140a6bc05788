package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// durablePendingPhoneLifecycle: a self-service phone change is stored with its
// email and audit event, replaces an earlier one, is not applied before it is
// due, and once applied is the account's verified phone, with its own email and
// audit event.
func durablePendingPhoneLifecycle(t *testing.T, s store.Durable) {
	ctx := context.Background()
	u := durableCreateUser(t, s, "u1", "ada@example.org")
	_, err := s.PendingPhoneChange(ctx, u.ID)
	durableWantErr(t, "PendingPhoneChange with none", err, store.ErrNotFound)

	first := &store.PendingPhone{UserID: u.ID, Phone: "+447700900999", PhoneType: "mobile",
		RequestedAt: durableBase, EffectiveAt: durableBase.Add(72 * time.Hour)}
	notice := &store.OutboxMessage{Channel: "email", Recipient: u.Email, Subject: "Your phone number will change", Text: "t", CreatedAt: durableBase}
	audit := &store.AuditEvent{Time: durableBase, Kind: "phone.recovery_requested", UserID: u.ID}
	durableOK(t, "RequestPhoneChange", s.RequestPhoneChange(ctx, first, notice, audit))
	if notice.ID == 0 || notice.Status != store.OutboxQueued || audit.ID == 0 {
		t.Fatalf("RequestPhoneChange left notice %d %q, audit %d", notice.ID, notice.Status, audit.ID)
	}

	// A second request replaces the first.
	later := durableBase.Add(time.Hour)
	second := &store.PendingPhone{UserID: u.ID, Phone: "+447700900888", PhoneType: "landline",
		RequestedAt: later, EffectiveAt: later.Add(72 * time.Hour)}
	durableOK(t, "RequestPhoneChange again", s.RequestPhoneChange(ctx, second,
		&store.OutboxMessage{Channel: "email", Recipient: u.Email, Subject: "again", Text: "t", CreatedAt: later},
		&store.AuditEvent{Time: later, Kind: "phone.recovery_requested", UserID: u.ID}))
	got, err := s.PendingPhoneChange(ctx, u.ID)
	durableOK(t, "PendingPhoneChange", err)
	durableEqual(t, "pending change", got, second)

	// The first number is no longer pending; the second is not yet due.
	applied := &store.OutboxMessage{Channel: "email", Recipient: u.Email, Subject: "Your phone number has changed", Text: "t"}
	durableWantErr(t, "ApplyPhoneChange of a replaced number",
		s.ApplyPhoneChange(ctx, first, later.Add(100*time.Hour), applied, &store.AuditEvent{Kind: "phone.recovery_applied", UserID: u.ID}), store.ErrNotFound)
	durableWantErr(t, "ApplyPhoneChange before it is due",
		s.ApplyPhoneChange(ctx, got, second.EffectiveAt.Add(-time.Microsecond), applied, &store.AuditEvent{Kind: "phone.recovery_applied", UserID: u.ID}), store.ErrNotFound)
	if applied.ID != 0 {
		t.Fatalf("a refused ApplyPhoneChange queued its email")
	}
	still, err := s.UserByID(ctx, u.ID)
	durableOK(t, "UserByID", err)
	if still.Phone != u.Phone {
		t.Fatalf("phone changed before the wait: %q", still.Phone)
	}

	due := second.EffectiveAt
	durableOK(t, "ApplyPhoneChange when due", s.ApplyPhoneChange(ctx, got, due, applied,
		&store.AuditEvent{Time: due, Kind: "phone.recovery_applied", UserID: u.ID}))
	now, err := s.UserByID(ctx, u.ID)
	durableOK(t, "UserByID", err)
	if now.Phone != second.Phone || now.PhoneType != second.PhoneType || !now.PhoneVerified || now.UpdatedAt.Sub(due).Abs() > time.Microsecond {
		t.Fatalf("after ApplyPhoneChange the account has %q %q verified=%v updated %v", now.Phone, now.PhoneType, now.PhoneVerified, now.UpdatedAt)
	}
	_, err = s.PendingPhoneChange(ctx, u.ID)
	durableWantErr(t, "PendingPhoneChange after apply", err, store.ErrNotFound)
	durableWantErr(t, "ApplyPhoneChange twice",
		s.ApplyPhoneChange(ctx, got, due, &store.OutboxMessage{Channel: "email", Recipient: u.Email, Text: "t"}, nil), store.ErrNotFound)

	msgs, err := s.ListOutbox(ctx, store.OutboxQueued, 0)
	durableOK(t, "ListOutbox", err)
	var subjects []string
	for _, m := range msgs {
		subjects = append(subjects, m.Subject)
	}
	if len(subjects) != 3 || subjects[0] != "Your phone number has changed" {
		t.Fatalf("queued emails %q, want the two requests' and the applied one's, newest first", subjects)
	}
	events, err := s.QueryAudit(ctx, store.AuditFilter{UserID: u.ID})
	durableOK(t, "QueryAudit", err)
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 3 || kinds[0] != "phone.recovery_applied" || kinds[1] != "phone.recovery_requested" || kinds[2] != "phone.recovery_requested" {
		t.Fatalf("audit kinds %q", kinds)
	}
}

// durablePendingPhoneCancel: cancelling removes the pending change with its
// audit event; cancelling with none writes nothing; a change for an account
// that does not exist is refused whole; erasing the account removes it.
func durablePendingPhoneCancel(t *testing.T, s store.Durable) {
	ctx := context.Background()
	u := durableCreateUser(t, s, "u1", "ada@example.org")
	had, err := s.CancelPhoneChange(ctx, u.ID, &store.AuditEvent{Time: durableBase, Kind: "phone.recovery_cancelled", UserID: u.ID})
	durableOK(t, "CancelPhoneChange with none", err)
	if had {
		t.Fatal("CancelPhoneChange with none reported one")
	}
	p := &store.PendingPhone{UserID: u.ID, Phone: "+447700900999", PhoneType: "mobile", RequestedAt: durableBase, EffectiveAt: durableBase.Add(time.Hour)}
	durableOK(t, "RequestPhoneChange", s.RequestPhoneChange(ctx, p,
		&store.OutboxMessage{Channel: "email", Recipient: u.Email, Text: "t", CreatedAt: durableBase},
		&store.AuditEvent{Time: durableBase, Kind: "phone.recovery_requested", UserID: u.ID}))
	had, err = s.CancelPhoneChange(ctx, u.ID, &store.AuditEvent{Time: durableBase.Add(time.Second), Kind: "phone.recovery_cancelled", UserID: u.ID, Detail: "signed in with the old phone"})
	durableOK(t, "CancelPhoneChange", err)
	if !had {
		t.Fatal("CancelPhoneChange did not find the pending change")
	}
	_, err = s.PendingPhoneChange(ctx, u.ID)
	durableWantErr(t, "PendingPhoneChange after cancel", err, store.ErrNotFound)
	durableWantErr(t, "ApplyPhoneChange after cancel",
		s.ApplyPhoneChange(ctx, p, durableBase.Add(2*time.Hour), &store.OutboxMessage{Channel: "email", Recipient: u.Email, Text: "t"}, nil), store.ErrNotFound)
	events, err := s.QueryAudit(ctx, store.AuditFilter{UserID: u.ID})
	durableOK(t, "QueryAudit", err)
	if len(events) != 2 || events[0].Kind != "phone.recovery_cancelled" {
		t.Fatalf("audit events %d, newest %q; want the request and one cancellation", len(events), events[0].Kind)
	}

	// No account: nothing at all is written.
	ghost := &store.PendingPhone{UserID: "nobody", Phone: "+447700900999", RequestedAt: durableBase, EffectiveAt: durableBase}
	notice := &store.OutboxMessage{Channel: "email", Recipient: "nobody@example.org", Text: "t", CreatedAt: durableBase}
	durableWantErr(t, "RequestPhoneChange without an account", s.RequestPhoneChange(ctx, ghost, notice,
		&store.AuditEvent{Time: durableBase, Kind: "phone.recovery_requested", UserID: "nobody"}), store.ErrNotFound)
	msgs, err := s.ListOutbox(ctx, "", 0)
	durableOK(t, "ListOutbox", err)
	for _, m := range msgs {
		if m.Recipient == "nobody@example.org" {
			t.Fatal("a refused RequestPhoneChange queued its email")
		}
	}

	// Erasure takes the pending change with the account.
	durableOK(t, "RequestPhoneChange", s.RequestPhoneChange(ctx, p, nil, nil))
	_, err = s.EraseUser(ctx, u.ID, u.Email, "erased-1")
	durableOK(t, "EraseUser", err)
	_, err = s.PendingPhoneChange(ctx, u.ID)
	durableWantErr(t, "PendingPhoneChange after erasure", err, store.ErrNotFound)
}
