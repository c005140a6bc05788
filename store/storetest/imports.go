package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

func durableRecordSignIn(t *testing.T, s store.Durable) {
	ctx := context.Background()
	u := durableCreateUser(t, s, "u1", "ada@example.org")
	got, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	if !got.LastSignInAt.IsZero() || !got.MigratedAt.IsZero() || got.ImportedFrom != "" {
		t.Fatalf("new account: LastSignInAt %v, MigratedAt %v, ImportedFrom %q; want zero", got.LastSignInAt, got.MigratedAt, got.ImportedFrom)
	}
	at := durableBase.Add(2 * time.Hour)
	durableOK(t, "RecordSignIn", s.RecordSignIn(ctx, "u1", at))
	got, err = s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	u.LastSignInAt = at
	durableEqual(t, "after RecordSignIn", got, u)
	durableWantErr(t, "RecordSignIn nobody", s.RecordSignIn(ctx, "nobody", at), store.ErrNotFound)
}

// durableImported is an account as an import gives it: no password, email verified.
func durableImported(id, email string) *store.User {
	return &store.User{
		ID: id, Email: email, EmailVerified: true,
		GivenName: "Grace", FamilyName: "Hopper",
		Phone: "+447700900123", PhoneType: "mobile", PhoneVerified: true,
		Status:       store.UserActive,
		ImportedFrom: store.ImportedB2C,
		CreatedAt:    durableBase.Add(-365 * 24 * time.Hour),
	}
}

func durableImport(t *testing.T, s store.Durable, batch []*store.User, now time.Time, want ...store.ImportOutcome) {
	t.Helper()
	got, err := s.ImportUsers(context.Background(), batch, now)
	durableOK(t, "ImportUsers", err)
	if !slices.Equal(got, want) {
		t.Fatalf("ImportUsers outcomes = %v, want %v", got, want)
	}
}

func durableImportUsers(t *testing.T, s store.Durable) {
	ctx := context.Background()
	now := durableBase.Add(time.Hour)
	local := durableCreateUser(t, s, "local", "local@example.org")
	migrated := durableImported("migrated", "migrated@example.org")
	durableImport(t, s, []*store.User{migrated}, now, store.ImportCreated)
	migrated.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"
	migrated.MigratedAt = now
	migrated.UpdatedAt = now
	durableOK(t, "UpdateUser migrated", s.UpdateUser(ctx, migrated))

	a := durableImported("b2c-a", "Grace@Example.org")
	b := durableImported("b2c-b", "other@example.org")
	b.Status = store.UserDisabled
	b.Phone, b.PhoneType, b.PhoneVerified = "", "", false
	clashLocal := durableImported("b2c-c", "LOCAL@example.org")     // email of an account made here
	sameIDLocal := durableImported("local", "new@example.org")      // id of an account made here
	sameIDMigrated := durableImported("migrated", "m2@example.org") // id of a migrated account
	durableImport(t, s, []*store.User{a, b, clashLocal, sameIDLocal, sameIDMigrated}, now,
		store.ImportCreated, store.ImportCreated, store.ImportExists, store.ImportExists, store.ImportExists)

	got, err := s.UserByID(ctx, "b2c-a")
	durableOK(t, "UserByID b2c-a", err)
	wantA := *a
	wantA.UpdatedAt = now
	durableEqual(t, "created b2c-a", got, &wantA)
	if !got.AwaitingMigration() {
		t.Errorf("imported account not AwaitingMigration")
	}
	got, err = s.UserByEmail(ctx, "grace@example.org")
	durableOK(t, "UserByEmail imported", err)
	if got.ID != "b2c-a" {
		t.Errorf("UserByEmail imported = %s", got.ID)
	}
	for _, id := range []string{"b2c-c"} {
		_, err := s.UserByID(ctx, id)
		durableWantErr(t, "UserByID "+id, err, store.ErrNotFound)
	}
	got, err = s.UserByID(ctx, "local")
	durableOK(t, "UserByID local", err)
	durableEqual(t, "account made here after import", got, local)
	got, err = s.UserByID(ctx, "migrated")
	durableOK(t, "UserByID migrated", err)
	durableEqual(t, "migrated account after import", got, migrated)

	es, err := s.ListAudit(ctx, "b2c-a", 10)
	durableOK(t, "ListAudit", err)
	if len(es) != 1 || es[0].Kind != store.ImportAuditKind || !strings.Contains(es[0].Detail, "b2c-a") ||
		!strings.Contains(es[0].Detail, store.ImportedB2C) {
		t.Errorf("audit of created account = %+v, want one %s naming the source id", es, store.ImportAuditKind)
	}

	// A second run with the same data changes nothing; a change of name, phone or
	// status updates, and never the email, password or creation time.
	later := now.Add(time.Hour)
	durableImport(t, s, []*store.User{a, b, clashLocal, sameIDLocal, sameIDMigrated}, later,
		store.ImportUnchanged, store.ImportUnchanged, store.ImportExists, store.ImportExists, store.ImportExists)
	a2 := *a
	a2.GivenName, a2.FamilyName = "Amazing", "Grace"
	a2.Phone, a2.PhoneType = "+441632960000", "landline"
	a2.Status = store.UserDisabled
	a2.Email = "changed@example.org"
	a2.PasswordHash = "should-not-be-written"
	a2.CreatedAt = later
	durableImport(t, s, []*store.User{&a2}, later, store.ImportUpdated)
	got, err = s.UserByID(ctx, "b2c-a")
	durableOK(t, "UserByID b2c-a after update", err)
	wantA.GivenName, wantA.FamilyName = "Amazing", "Grace"
	wantA.Phone, wantA.PhoneType = "+441632960000", "landline"
	wantA.Status = store.UserDisabled
	wantA.UpdatedAt = later
	durableEqual(t, "updated b2c-a", got, &wantA)
	es, err = s.ListAudit(ctx, "b2c-a", 10)
	durableOK(t, "ListAudit", err)
	if len(es) != 1 {
		t.Errorf("audit after update = %d events, want only the import", len(es))
	}
}

func durableImportUsersBatchRules(t *testing.T, s store.Durable) {
	ctx := context.Background()
	now := durableBase
	// Within one batch: the second of two with one email (in any case) is refused;
	// the same id twice creates, then updates.
	first := durableImported("x1", "twin@example.org")
	twin := durableImported("x2", "TWIN@example.org")
	again := durableImported("x1", "twin@example.org")
	again.GivenName = "Changed"
	durableImport(t, s, []*store.User{first, twin, again}, now,
		store.ImportCreated, store.ImportExists, store.ImportUpdated)
	got, err := s.UserByID(ctx, "x1")
	durableOK(t, "UserByID x1", err)
	if got.GivenName != "Changed" {
		t.Errorf("x1 given name = %q, want Changed", got.GivenName)
	}
	_, err = s.UserByID(ctx, "x2")
	durableWantErr(t, "UserByID x2", err, store.ErrNotFound)

	// An imported account's email blocks another import with a new id.
	durableImport(t, s, []*store.User{durableImported("x3", "Twin@Example.org")}, now, store.ImportExists)

	// An empty batch is fine; a large one is one transaction.
	durableImport(t, s, nil, now)
	var big []*store.User
	var want []store.ImportOutcome
	for i := range 1200 {
		big = append(big, durableImported(fmt.Sprintf("big-%04d", i), fmt.Sprintf("big-%04d@example.org", i)))
		want = append(want, store.ImportCreated)
	}
	durableImport(t, s, big, now, want...)
	us, err := s.ListUsers(ctx, "big-", 2000)
	durableOK(t, "ListUsers", err)
	if len(us) != 1200 {
		t.Errorf("ListUsers after big import = %d, want 1200", len(us))
	}
}

func durableImportUsersAllOrNothing(t *testing.T, s store.Durable) {
	ctx := context.Background()
	// A batch that fails part-way writes nothing: here a cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.ImportUsers(cctx, []*store.User{durableImported("y1", "y1@example.org")}, durableBase)
	if err == nil {
		t.Fatal("ImportUsers with a cancelled context succeeded")
	}
	_, err = s.UserByID(ctx, "y1")
	durableWantErr(t, "UserByID y1", err, store.ErrNotFound)
	es, err := s.ListAudit(ctx, "y1", 10)
	durableOK(t, "ListAudit", err)
	if len(es) != 0 {
		t.Errorf("audit after failed import = %d events", len(es))
	}
}
