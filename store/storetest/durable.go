package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// RunDurable runs the store.Durable contract against the stores open returns.
// open is called once per subtest with that subtest's t and must give an empty,
// migrated store that no other subtest sees (a fresh SQLite file, a fresh
// PostgreSQL database); it should register its own cleanup. Subtests run in
// parallel.
//
// Times are compared to the microsecond: PostgreSQL keeps no finer precision.
func RunDurable(t *testing.T, open func(t *testing.T) store.Durable) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Durable)
	}{
		{"UserCreateGet", durableUserCreateGet},
		{"UserEmailCaseInsensitive", durableUserEmailCaseInsensitive},
		{"UserDuplicate", durableUserDuplicate},
		{"UserUpdate", durableUserUpdate},
		{"UserLocale", durableUserLocale},
		{"UserUpdateTakenEmail", durableUserUpdateTakenEmail},
		{"UserNotFound", durableUserNotFound},
		{"LoginFailures", durableLoginFailures},
		{"ListUsers", durableListUsers},
		{"RecordSignIn", durableRecordSignIn},
		{"ImportUsers", durableImportUsers},
		{"ImportUsersBatchRules", durableImportUsersBatchRules},
		{"ImportUsersAllOrNothing", durableImportUsersAllOrNothing},
		{"Clients", durableClients},
		{"ClientDeleteDropsRefreshTokens", durableClientDeleteDropsRefreshTokens},
		{"ClientUpdate", durableClientUpdate},
		{"SigningKeys", durableSigningKeys},
		{"RefreshTokenCreateGet", durableRefreshCreateGet},
		{"RefreshTokenAndUser", durableRefreshTokenAndUser},
		{"ClientAndUser", durableClientAndUser},
		{"ClientAndRefreshToken", durableClientAndRefreshToken},
		{"CreateRefreshTokenAndUser", durableCreateRefreshTokenAndUser},
		{"RefreshRotate", durableRefreshRotate},
		{"RefreshRotateReuse", durableRefreshRotateReuse},
		{"RefreshRevokeFamily", durableRefreshRevokeFamily},
		{"RefreshRevokeUser", durableRefreshRevokeUser},
		{"RefreshSessions", durableRefreshSessions},
		{"PruneRefreshTokens", durablePruneRefresh},
		{"PruneRefreshTokensBatches", durablePruneRefreshBatches},
		{"EraseUser", durableEraseUser},
		{"AdminRoles", durableAdminRoles},
		{"LastOwner", durableLastOwner},
		{"PendingPhoneLifecycle", durablePendingPhoneLifecycle},
		{"PendingPhoneCancel", durablePendingPhoneCancel},
		{"AuditQueryAndPrune", durableAuditQuery},
		{"Audit", durableAudit},
		{"Counters", durableCounters},
		{"Counts", durableCounts},
		{"DailyCounts", durableDailyCounts},
		{"DailyCountsRace", durableDailyCountsRace},
		{"CountersPreviousWindow", durableCountersPreviousWindow},
		{"Members", durableMembers},
		{"MigrateTwice", durableMigrateTwice},
		{"Ping", durablePing},
		{"RotateRace", durableRotateRace},
		{"CreateUserRace", durableCreateUserRace},
		{"HitRace", durableHitRace},
		{"MembersRace", durableMembersRace},
		{"ConsecutiveFailures", durableConsecutiveFailures},
		{"ConsecutiveFailuresRace", durableConsecutiveFailuresRace},
		{"OutboxLifecycle", durableOutboxLifecycle},
		{"OutboxNotDue", durableOutboxNotDue},
		{"OutboxLeaseExpiry", durableOutboxLeaseExpiry},
		{"OutboxList", durableOutboxList},
		{"OutboxClaimRace", durableOutboxClaimRace},
		{"OutboxChannels", durableOutboxChannels},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tc.fn(t, s)
		})
	}
}

// durableBase has a nanosecond part so that backends are seen to keep at
// least microseconds.
var durableBase = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

func durableWantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func durableOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// durableEqual compares two values of the same struct type field by field:
// times within a microsecond (and zero only with zero), empty and nil slices
// alike, everything else exactly.
func durableEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	gv, wv := reflect.Indirect(reflect.ValueOf(got)), reflect.Indirect(reflect.ValueOf(want))
	if gv.Type() != wv.Type() {
		t.Fatalf("%s: comparing %s with %s", what, gv.Type(), wv.Type())
	}
	for i := 0; i < gv.NumField(); i++ {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		switch w := w.(type) {
		case time.Time:
			g := g.(time.Time)
			d := g.Sub(w)
			if g.IsZero() != w.IsZero() || d > time.Microsecond || d < -time.Microsecond {
				t.Errorf("%s: %s = %v, want %v", what, name, g, w)
			}
			if !g.IsZero() && g.Location() != time.UTC {
				t.Errorf("%s: %s in %v, want UTC", what, name, g.Location())
			}
		default:
			gf, wf := gv.Field(i), wv.Field(i)
			if gf.Kind() == reflect.Slice && gf.Len() == 0 && wf.Len() == 0 {
				continue
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: %s = %#v, want %#v", what, name, g, w)
			}
		}
	}
}

func durableUser(id, email string) *store.User {
	return &store.User{
		ID:            id,
		Email:         email,
		EmailVerified: true,
		GivenName:     "Ada",
		FamilyName:    "Lovelace",
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2g",
		Phone:         "+447700900123",
		PhoneType:     "mobile",
		PhoneVerified: true,
		Status:        store.UserActive,
		CreatedAt:     durableBase,
		UpdatedAt:     durableBase,
	}
}

func durableCreateUser(t *testing.T, s store.Durable, id, email string) *store.User {
	t.Helper()
	u := durableUser(id, email)
	durableOK(t, "CreateUser "+id, s.CreateUser(context.Background(), u))
	return u
}

func durableUserCreateGet(t *testing.T, s store.Durable) {
	ctx := context.Background()
	want := durableCreateUser(t, s, "u1", "Ada.Lovelace@Example.org")
	got, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	durableEqual(t, "UserByID", got, want)

	got, err = s.UserByEmail(ctx, "Ada.Lovelace@Example.org")
	durableOK(t, "UserByEmail", err)
	durableEqual(t, "UserByEmail", got, want)

	// Zero-valued optional fields come back zero.
	bare := &store.User{ID: "u2", Email: "bare@example.org", Status: store.UserDisabled,
		CreatedAt: durableBase, UpdatedAt: durableBase}
	durableOK(t, "CreateUser bare", s.CreateUser(ctx, bare))
	got, err = s.UserByID(ctx, "u2")
	durableOK(t, "UserByID bare", err)
	durableEqual(t, "UserByID bare", got, bare)
}

func durableUserEmailCaseInsensitive(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableCreateUser(t, s, "u1", "Ada.Lovelace@Example.org")
	for _, email := range []string{"ada.lovelace@example.org", "ADA.LOVELACE@EXAMPLE.ORG", "aDa.LoVeLaCe@eXaMpLe.OrG"} {
		got, err := s.UserByEmail(ctx, email)
		durableOK(t, "UserByEmail "+email, err)
		if got.ID != "u1" {
			t.Errorf("UserByEmail(%q) = %s, want u1", email, got.ID)
		}
		if got.Email != "Ada.Lovelace@Example.org" {
			t.Errorf("UserByEmail(%q).Email = %q, want the address as typed", email, got.Email)
		}
	}
}

func durableUserDuplicate(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableCreateUser(t, s, "u1", "ada@example.org")
	durableWantErr(t, "same email", s.CreateUser(ctx, durableUser("u2", "ada@example.org")), store.ErrConflict)
	durableWantErr(t, "same email in another case", s.CreateUser(ctx, durableUser("u3", "ADA@Example.ORG")), store.ErrConflict)
	durableWantErr(t, "same id", s.CreateUser(ctx, durableUser("u1", "other@example.org")), store.ErrConflict)
	for _, id := range []string{"u2", "u3"} {
		_, err := s.UserByID(ctx, id)
		durableWantErr(t, "UserByID "+id+" after refused create", err, store.ErrNotFound)
	}
	got, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID u1", err)
	if got.Email != "ada@example.org" {
		t.Errorf("u1 email = %q after refused create with its id, want unchanged", got.Email)
	}
}

func durableUserUpdate(t *testing.T, s store.Durable) {
	ctx := context.Background()
	u := durableCreateUser(t, s, "u1", "ada@example.org")
	later := durableBase.Add(time.Hour)
	u.Email = "Countess@Example.org"
	u.EmailVerified = false
	u.GivenName, u.FamilyName = "Augusta", "King"
	u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$bmV3c2FsdA$bmV3aGFzaA"
	u.Phone, u.PhoneType, u.PhoneVerified = "+441632960000", "landline", false
	u.Status = store.UserDisabled
	u.FailedLogins = 2
	u.LockedUntil = later.Add(time.Minute)
	u.ImportedFrom = store.ImportedB2C
	u.MigratedAt = later.Add(-time.Minute)
	u.LastSignInAt = later.Add(-time.Second)
	u.Locale = "cy"
	u.UpdatedAt = later
	durableOK(t, "UpdateUser", s.UpdateUser(ctx, u))

	got, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	durableEqual(t, "after UpdateUser", got, u)

	_, err = s.UserByEmail(ctx, "ada@example.org")
	durableWantErr(t, "UserByEmail old address", err, store.ErrNotFound)
	got, err = s.UserByEmail(ctx, "countess@example.org")
	durableOK(t, "UserByEmail new address", err)
	if got.ID != "u1" {
		t.Errorf("UserByEmail new address = %s, want u1", got.ID)
	}

	// CreatedAt is not mutable.
	u.CreatedAt = later
	durableOK(t, "UpdateUser with CreatedAt", s.UpdateUser(ctx, u))
	got, err = s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	if d := got.CreatedAt.Sub(durableBase); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("CreatedAt = %v after UpdateUser, want unchanged %v", got.CreatedAt, durableBase)
	}

	// Freeing the old address lets someone else take it; a change of case of your own is fine.
	durableCreateUser(t, s, "u2", "ada@example.org")
	u.Email = "COUNTESS@example.org"
	durableOK(t, "UpdateUser to own email in another case", s.UpdateUser(ctx, u))
}

// durableUserLocale: the language a person chose is kept with the account,
// from creation and through UpdateUser; an account made before has none.
func durableUserLocale(t *testing.T, s store.Durable) {
	ctx := context.Background()
	plain := durableCreateUser(t, s, "u1", "ada@example.org")
	if plain.Locale != "" {
		t.Fatalf("durableUser sets a locale: %q", plain.Locale)
	}
	got, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	if got.Locale != "" {
		t.Errorf("Locale = %q for an account without one", got.Locale)
	}
	cy := durableUser("u2", "bryn@example.org")
	cy.Locale = "cy"
	durableOK(t, "CreateUser", s.CreateUser(ctx, cy))
	got, err = s.UserByEmail(ctx, "bryn@example.org")
	durableOK(t, "UserByEmail", err)
	if got.Locale != "cy" {
		t.Errorf("Locale = %q after CreateUser with cy", got.Locale)
	}
	got.Locale = "en"
	durableOK(t, "UpdateUser", s.UpdateUser(ctx, got))
	got, err = s.UserByID(ctx, "u2")
	durableOK(t, "UserByID", err)
	if got.Locale != "en" {
		t.Errorf("Locale = %q after UpdateUser to en", got.Locale)
	}
}

func durableUserUpdateTakenEmail(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableCreateUser(t, s, "u1", "ada@example.org")
	u2 := durableCreateUser(t, s, "u2", "charles@example.org")
	u2.Email = "Ada@Example.org"
	u2.GivenName = "Changed"
	durableWantErr(t, "UpdateUser to taken email", s.UpdateUser(ctx, u2), store.ErrConflict)
	got, err := s.UserByID(ctx, "u2")
	durableOK(t, "UserByID", err)
	if got.Email != "charles@example.org" || got.GivenName != "Ada" {
		t.Errorf("after refused update: email %q, given name %q; want unchanged", got.Email, got.GivenName)
	}
}

func durableUserNotFound(t *testing.T, s store.Durable) {
	ctx := context.Background()
	_, err := s.UserByID(ctx, "nobody")
	durableWantErr(t, "UserByID", err, store.ErrNotFound)
	_, err = s.UserByEmail(ctx, "nobody@example.org")
	durableWantErr(t, "UserByEmail", err, store.ErrNotFound)
	durableWantErr(t, "UpdateUser", s.UpdateUser(ctx, durableUser("nobody", "nobody@example.org")), store.ErrNotFound)
	_, err = s.RecordLoginFailure(ctx, "nobody")
	durableWantErr(t, "RecordLoginFailure", err, store.ErrNotFound)
	durableWantErr(t, "LockUser", s.LockUser(ctx, "nobody", durableBase), store.ErrNotFound)
	durableWantErr(t, "ResetLoginFailures", s.ResetLoginFailures(ctx, "nobody"), store.ErrNotFound)
}

func durableListUsers(t *testing.T, s store.Durable) {
	ctx := context.Background()
	emails := func(us []*store.User) []string {
		out := []string{}
		for _, u := range us {
			out = append(out, u.Email)
		}
		return out
	}
	us, err := s.ListUsers(ctx, "", 0)
	durableOK(t, "ListUsers empty", err)
	if len(us) != 0 {
		t.Fatalf("ListUsers on an empty store = %v", emails(us))
	}
	durableCreateUser(t, s, "u-c", "carol@west.example.gov.uk")
	durableCreateUser(t, s, "u-a", "Alice@East.example.gov.uk")
	durableCreateUser(t, s, "u-b", "bob_1%@east.example.gov.uk")
	for _, tc := range []struct {
		search string
		limit  int
		want   []string
	}{
		{"", 0, []string{"Alice@East.example.gov.uk", "bob_1%@east.example.gov.uk", "carol@west.example.gov.uk"}},
		{"EAST", 0, []string{"Alice@East.example.gov.uk", "bob_1%@east.example.gov.uk"}},
		{"", 2, []string{"Alice@East.example.gov.uk", "bob_1%@east.example.gov.uk"}},
		{"%", 0, []string{"bob_1%@east.example.gov.uk"}}, // wildcards are plain text
		{"_", 0, []string{"bob_1%@east.example.gov.uk"}},
		{"b_b", 0, []string{}},
		{`\`, 0, []string{}},
		{"nobody", 0, []string{}},
	} {
		us, err := s.ListUsers(ctx, tc.search, tc.limit)
		durableOK(t, "ListUsers "+tc.search, err)
		if got := emails(us); !slices.Equal(got, tc.want) {
			t.Errorf("ListUsers(%q, %d) = %q, want %q", tc.search, tc.limit, got, tc.want)
		}
	}
}

func durableLoginFailures(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableCreateUser(t, s, "u1", "ada@example.org")
	durableCreateUser(t, s, "u2", "charles@example.org")
	for want := 1; want <= 3; want++ {
		n, err := s.RecordLoginFailure(ctx, "u1")
		durableOK(t, "RecordLoginFailure", err)
		if n != want {
			t.Fatalf("RecordLoginFailure = %d, want %d", n, want)
		}
	}
	until := durableBase.Add(15 * time.Minute)
	durableOK(t, "LockUser", s.LockUser(ctx, "u1", until))
	got, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	if got.FailedLogins != 3 {
		t.Errorf("FailedLogins = %d, want 3", got.FailedLogins)
	}
	if d := got.LockedUntil.Sub(until); got.LockedUntil.IsZero() || d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("LockedUntil = %v, want %v", got.LockedUntil, until)
	}
	other, err := s.UserByID(ctx, "u2")
	durableOK(t, "UserByID u2", err)
	if other.FailedLogins != 0 || !other.LockedUntil.IsZero() {
		t.Errorf("u2 touched by u1's failures: %d failures, locked until %v", other.FailedLogins, other.LockedUntil)
	}

	durableOK(t, "ResetLoginFailures", s.ResetLoginFailures(ctx, "u1"))
	got, err = s.UserByID(ctx, "u1")
	durableOK(t, "UserByID", err)
	if got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Errorf("after reset: %d failures, locked until %v; want 0 and zero", got.FailedLogins, got.LockedUntil)
	}
	n, err := s.RecordLoginFailure(ctx, "u1")
	durableOK(t, "RecordLoginFailure after reset", err)
	if n != 1 {
		t.Errorf("RecordLoginFailure after reset = %d, want 1", n)
	}
}

func durableClient(id string) *store.Client {
	return &store.Client{
		ID:                     id,
		Name:                   "Social care referral " + id,
		SecretHash:             "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$c2VjcmV0",
		RedirectURIs:           []string{"https://forms.example.gov.uk/" + id + "/callback", "http://localhost:8081/callback"},
		PostLogoutRedirectURIs: []string{"https://forms.example.gov.uk/" + id + "/signed-out"},
		Scopes:                 []string{"openid", "email", "phone"},
		CreatedAt:              durableBase,
	}
}

func durableClients(t *testing.T, s store.Durable) {
	ctx := context.Background()
	cs, err := s.ListClients(ctx)
	durableOK(t, "ListClients empty", err)
	if len(cs) != 0 {
		t.Fatalf("ListClients on an empty store = %d clients", len(cs))
	}

	b, a := durableClient("referral-b"), durableClient("referral-a")
	a.BackchannelLogoutURI = "https://forms.example.gov.uk/referral-a/backchannel-logout"
	a.BackchannelLogoutSessionRequired = true
	a.IDTokenSignedResponseAlg = "ES256"
	public := &store.Client{ID: "referral-c", Name: "Public form", Public: true,
		RedirectURIs: []string{"https://forms.example.gov.uk/c"}, CreatedAt: durableBase}
	for _, c := range []*store.Client{b, a, public} {
		durableOK(t, "CreateClient "+c.ID, s.CreateClient(ctx, c))
	}
	durableWantErr(t, "CreateClient taken id", s.CreateClient(ctx, durableClient("referral-a")), store.ErrConflict)

	got, err := s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID", err)
	durableEqual(t, "ClientByID", got, a)
	got, err = s.ClientByID(ctx, "referral-c")
	durableOK(t, "ClientByID public", err)
	durableEqual(t, "ClientByID public", got, public)
	_, err = s.ClientByID(ctx, "missing")
	durableWantErr(t, "ClientByID missing", err, store.ErrNotFound)

	cs, err = s.ListClients(ctx)
	durableOK(t, "ListClients", err)
	if len(cs) != 3 {
		t.Fatalf("ListClients = %d clients, want 3", len(cs))
	}
	for i, want := range []*store.Client{a, b, public} {
		durableEqual(t, fmt.Sprintf("ListClients[%d]", i), cs[i], want)
	}

	// A rotation with an overlap keeps the replaced secret until the given
	// time; one without keeps none (and forgets an earlier overlap).
	first := a.SecretHash
	until := durableBase.Add(24 * time.Hour)
	durableOK(t, "SetClientSecret with overlap", s.SetClientSecret(ctx, "referral-a", "hmac-sha256$second", until))
	got, err = s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID after rotation with overlap", err)
	if got.SecretHash != "hmac-sha256$second" || got.PreviousSecretHash != first ||
		got.PreviousSecretExpiresAt.Sub(until).Abs() > time.Microsecond {
		t.Errorf("after rotation with overlap: secret %q previous %q until %v; want the new one, %q until %v",
			got.SecretHash, got.PreviousSecretHash, got.PreviousSecretExpiresAt, first, until)
	}
	durableOK(t, "SetClientSecret", s.SetClientSecret(ctx, "referral-a", "$argon2id$rotated", time.Time{}))
	got, err = s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID after rotation", err)
	if got.SecretHash != "$argon2id$rotated" || got.PreviousSecretHash != "" || !got.PreviousSecretExpiresAt.IsZero() {
		t.Errorf("after rotation without overlap: secret %q previous %q until %v", got.SecretHash, got.PreviousSecretHash, got.PreviousSecretExpiresAt)
	}
	got, err = s.ClientByID(ctx, "referral-b")
	durableOK(t, "ClientByID other", err)
	if got.SecretHash != b.SecretHash {
		t.Errorf("rotating referral-a changed referral-b's secret")
	}
	durableWantErr(t, "SetClientSecret missing", s.SetClientSecret(ctx, "missing", "x", time.Time{}), store.ErrNotFound)

	// A rehash replaces the hash only while it is the one that was verified:
	// one made from a secret that was rotated meanwhile must not bring it back.
	durableOK(t, "ReplaceClientSecretHash", s.ReplaceClientSecretHash(ctx, "referral-a", "$argon2id$rotated", "hmac-sha256$rehashed"))
	got, err = s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID after rehash", err)
	if got.SecretHash != "hmac-sha256$rehashed" {
		t.Errorf("SecretHash = %q after rehash", got.SecretHash)
	}
	durableWantErr(t, "ReplaceClientSecretHash stale", s.ReplaceClientSecretHash(ctx, "referral-a", "$argon2id$rotated", "hmac-sha256$stale"), store.ErrConflict)
	got, err = s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID after stale rehash", err)
	if got.SecretHash != "hmac-sha256$rehashed" {
		t.Errorf("a stale rehash replaced the secret hash: %q", got.SecretHash)
	}
	got, err = s.ClientByID(ctx, "referral-b")
	durableOK(t, "ClientByID other after rehash", err)
	if got.SecretHash != b.SecretHash {
		t.Errorf("rehashing referral-a changed referral-b's secret")
	}
	durableWantErr(t, "ReplaceClientSecretHash missing", s.ReplaceClientSecretHash(ctx, "missing", "x", "y"), store.ErrNotFound)

	durableOK(t, "DeleteClient", s.DeleteClient(ctx, "referral-a"))
	_, err = s.ClientByID(ctx, "referral-a")
	durableWantErr(t, "ClientByID deleted", err, store.ErrNotFound)
	durableWantErr(t, "DeleteClient again", s.DeleteClient(ctx, "referral-a"), store.ErrNotFound)
	cs, err = s.ListClients(ctx)
	durableOK(t, "ListClients after delete", err)
	if len(cs) != 2 || cs[0].ID != "referral-b" || cs[1].ID != "referral-c" {
		t.Errorf("ListClients after delete = %v", durableClientIDs(cs))
	}
}

// UpdateClient replaces the metadata, never the secret hash or CreatedAt,
// and touches no other client.
func durableClientUpdate(t *testing.T, s store.Durable) {
	ctx := context.Background()
	a, b := durableClient("referral-a"), durableClient("referral-b")
	for _, c := range []*store.Client{a, b} {
		durableOK(t, "CreateClient "+c.ID, s.CreateClient(ctx, c))
	}
	changed := &store.Client{
		ID: "referral-a", Name: "Renamed referral", SecretHash: "hmac-sha256$must-not-be-written", Public: true,
		RedirectURIs:                     []string{"https://forms.example.gov.uk/new/callback"},
		PostLogoutRedirectURIs:           nil,
		Scopes:                           []string{"openid"},
		BackchannelLogoutURI:             "https://forms.example.gov.uk/new/backchannel-logout",
		BackchannelLogoutSessionRequired: true,
		IDTokenSignedResponseAlg:         "ES256",
		DisabledAt:                       durableBase.Add(2 * time.Hour),
		CreatedAt:                        durableBase.Add(time.Hour),
	}
	durableOK(t, "UpdateClient", s.UpdateClient(ctx, changed))
	got, err := s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID after update", err)
	want := *changed
	want.SecretHash, want.CreatedAt = a.SecretHash, a.CreatedAt
	durableEqual(t, "ClientByID after update", got, &want)

	// Back again: every field can be cleared.
	back := *a
	back.SecretHash = ""
	durableOK(t, "UpdateClient back", s.UpdateClient(ctx, &back))
	got, err = s.ClientByID(ctx, "referral-a")
	durableOK(t, "ClientByID after second update", err)
	durableEqual(t, "ClientByID after second update", got, a)

	got, err = s.ClientByID(ctx, "referral-b")
	durableOK(t, "ClientByID other", err)
	durableEqual(t, "other client after update", got, b)
	durableWantErr(t, "UpdateClient missing", s.UpdateClient(ctx, durableClient("missing")), store.ErrNotFound)
	_, err = s.ClientByID(ctx, "missing")
	durableWantErr(t, "UpdateClient created a client", err, store.ErrNotFound)
}

func durableClientIDs(cs []*store.Client) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func durableClientDeleteDropsRefreshTokens(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableOK(t, "CreateClient", s.CreateClient(ctx, durableClient("a")))
	durableOK(t, "CreateClient", s.CreateClient(ctx, durableClient("b")))
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, durableRefresh("h-a", "f-a", "u1", "a")))
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, durableRefresh("h-b", "f-b", "u1", "b")))
	durableOK(t, "DeleteClient", s.DeleteClient(ctx, "a"))
	_, err := s.RefreshTokenByHash(ctx, "h-a")
	durableWantErr(t, "refresh token of deleted client", err, store.ErrNotFound)
	_, err = s.RefreshTokenByHash(ctx, "h-b")
	durableOK(t, "refresh token of other client", err)
}

func durableSigningKeys(t *testing.T, s store.Durable) {
	ctx := context.Background()
	ks, err := s.ListSigningKeys(ctx)
	durableOK(t, "ListSigningKeys empty", err)
	if len(ks) != 0 {
		t.Fatalf("ListSigningKeys on an empty store = %d keys", len(ks))
	}
	mk := func(id string, activeFrom time.Time) *store.SigningKey {
		return &store.SigningKey{
			ID: id, Algorithm: "ES256",
			PublicJWK:        []byte(`{"kty":"EC","crv":"P-256","kid":"` + id + `"}`),
			PrivateEncrypted: []byte{0x00, 0xff, 0x10, byte(len(id)), 0x80},
			CreatedAt:        activeFrom.Add(-time.Hour),
			ActiveFrom:       activeFrom,
		}
	}
	// Inserted out of order; k2 and k3 share ActiveFrom so the id breaks the tie.
	k3 := mk("k3", durableBase.Add(48*time.Hour))
	k1 := mk("k1", durableBase)
	k2 := mk("k2", durableBase.Add(48*time.Hour))
	k2.Algorithm = "RS256"
	for _, k := range []*store.SigningKey{k3, k1, k2} {
		durableOK(t, "CreateSigningKey "+k.ID, s.CreateSigningKey(ctx, k))
	}
	durableWantErr(t, "CreateSigningKey taken id", s.CreateSigningKey(ctx, mk("k1", durableBase)), store.ErrConflict)

	ks, err = s.ListSigningKeys(ctx)
	durableOK(t, "ListSigningKeys", err)
	if len(ks) != 3 {
		t.Fatalf("ListSigningKeys = %d keys, want 3", len(ks))
	}
	for i, want := range []*store.SigningKey{k1, k2, k3} {
		durableEqual(t, fmt.Sprintf("ListSigningKeys[%d]", i), ks[i], want)
	}

	retired, expires := durableBase.Add(48*time.Hour), durableBase.Add(72*time.Hour)
	durableOK(t, "RetireSigningKey", s.RetireSigningKey(ctx, "k1", retired, expires))
	durableWantErr(t, "RetireSigningKey missing", s.RetireSigningKey(ctx, "missing", retired, expires), store.ErrNotFound)
	ks, err = s.ListSigningKeys(ctx)
	durableOK(t, "ListSigningKeys after retire", err)
	k1.RetiredAt, k1.ExpiresAt = retired, expires
	durableEqual(t, "retired key", ks[0], k1)

	// Not yet expired: kept (the boundary itself is kept too).
	durableOK(t, "DeleteExpiredSigningKeys early", s.DeleteExpiredSigningKeys(ctx, expires.Add(-time.Second)))
	durableOK(t, "DeleteExpiredSigningKeys at expiry", s.DeleteExpiredSigningKeys(ctx, expires))
	ks, err = s.ListSigningKeys(ctx)
	durableOK(t, "ListSigningKeys", err)
	if len(ks) != 3 {
		t.Fatalf("key deleted before it expired: %d keys left", len(ks))
	}
	// Expired: gone; keys without ExpiresAt are never deleted.
	durableOK(t, "DeleteExpiredSigningKeys", s.DeleteExpiredSigningKeys(ctx, expires.Add(time.Second)))
	ks, err = s.ListSigningKeys(ctx)
	durableOK(t, "ListSigningKeys", err)
	if len(ks) != 2 || ks[0].ID != "k2" || ks[1].ID != "k3" {
		ids := []string{}
		for _, k := range ks {
			ids = append(ids, k.ID)
		}
		t.Fatalf("after deleting expired keys: %v, want [k2 k3]", ids)
	}
}

func durableRefresh(hash, family, user, client string) *store.RefreshToken {
	return &store.RefreshToken{
		Hash:          hash,
		FamilyID:      family,
		ClientID:      client,
		UserID:        user,
		SessionID:     "sid-" + family,
		Scopes:        []string{"openid", "email", "offline_access"},
		Audience:      []string{client},
		AMR:           []string{"pwd", "sms"},
		AuthTime:      durableBase.Add(-time.Minute),
		CreatedAt:     durableBase,
		ExpiresAt:     durableBase.Add(30 * 24 * time.Hour),
		IdleExpiresAt: durableBase.Add(7 * 24 * time.Hour),
	}
}

func durableRefreshCreateGet(t *testing.T, s store.Durable) {
	ctx := context.Background()
	want := durableRefresh("hash-1", "fam-1", "u1", "referral")
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, want))
	got, err := s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "RefreshTokenByHash", err)
	durableEqual(t, "RefreshTokenByHash", got, want)
	_, err = s.RefreshTokenByHash(ctx, "missing")
	durableWantErr(t, "RefreshTokenByHash missing", err, store.ErrNotFound)
	durableWantErr(t, "CreateRefreshToken taken hash",
		s.CreateRefreshToken(ctx, durableRefresh("hash-1", "fam-2", "u2", "referral")), store.ErrConflict)
	got, err = s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "RefreshTokenByHash", err)
	durableEqual(t, "after refused create", got, want)
}

func durableRefreshTokenAndUser(t *testing.T, s store.Durable) {
	ctx := context.Background()
	u := durableUser("u1", "ada@example.org")
	u.Phone, u.PhoneType, u.PhoneVerified = "+447700900123", "mobile", true
	durableOK(t, "CreateUser", s.CreateUser(ctx, u))
	want := durableRefresh("hash-1", "fam-1", "u1", "referral")
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, want))
	gotT, gotU, err := s.RefreshTokenAndUser(ctx, "hash-1")
	durableOK(t, "RefreshTokenAndUser", err)
	durableEqual(t, "RefreshTokenAndUser token", gotT, want)
	durableEqual(t, "RefreshTokenAndUser user", gotU, u)

	// A used token comes back as it is (the caller tells reuse from use).
	now := durableBase.Add(time.Hour)
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "hash-1", durableRefresh("hash-2", "fam-1", "u1", "referral"), now))
	gotT, _, err = s.RefreshTokenAndUser(ctx, "hash-1")
	durableOK(t, "RefreshTokenAndUser used", err)
	want.UsedAt = now
	durableEqual(t, "RefreshTokenAndUser used token", gotT, want)

	_, _, err = s.RefreshTokenAndUser(ctx, "missing")
	durableWantErr(t, "RefreshTokenAndUser missing", err, store.ErrNotFound)
	durableOK(t, "CreateRefreshToken without user", s.CreateRefreshToken(ctx, durableRefresh("hash-9", "fam-9", "nobody", "referral")))
	_, _, err = s.RefreshTokenAndUser(ctx, "hash-9")
	durableWantErr(t, "RefreshTokenAndUser without user", err, store.ErrNotFound)
}

// durableClientAndAccount registers the client "referral" and the account "u1".
func durableClientAndAccount(t *testing.T, s store.Durable) (*store.Client, *store.User) {
	t.Helper()
	c := durableClient("referral")
	durableOK(t, "CreateClient", s.CreateClient(context.Background(), c))
	return c, durableCreateUser(t, s, "u1", "ada@example.org")
}

func durableClientAndUser(t *testing.T, s store.Durable) {
	ctx := context.Background()
	c, u := durableClientAndAccount(t, s)
	gotC, gotU, err := s.ClientAndUser(ctx, "referral", "u1")
	durableOK(t, "ClientAndUser", err)
	durableEqual(t, "ClientAndUser client", gotC, c)
	durableEqual(t, "ClientAndUser user", gotU, u)

	gotC, gotU, err = s.ClientAndUser(ctx, "referral", "nobody")
	durableOK(t, "ClientAndUser without user", err)
	durableEqual(t, "ClientAndUser client without user", gotC, c)
	if gotU != nil {
		t.Errorf("ClientAndUser without user: user %+v, want nil", gotU)
	}
	_, _, err = s.ClientAndUser(ctx, "missing", "u1")
	durableWantErr(t, "ClientAndUser without client", err, store.ErrNotFound)
}

func durableCreateRefreshTokenAndUser(t *testing.T, s store.Durable) {
	ctx := context.Background()
	u := durableCreateUser(t, s, "u1", "ada@example.org")
	want := durableRefresh("hash-1", "fam-1", "u1", "referral")
	gotU, err := s.CreateRefreshTokenAndUser(ctx, want)
	durableOK(t, "CreateRefreshTokenAndUser", err)
	durableEqual(t, "CreateRefreshTokenAndUser user", gotU, u)
	got, err := s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "RefreshTokenByHash", err)
	durableEqual(t, "RefreshTokenByHash", got, want)

	// A taken hash is refused and changes nothing.
	_, err = s.CreateRefreshTokenAndUser(ctx, durableRefresh("hash-1", "fam-2", "u1", "referral"))
	durableWantErr(t, "CreateRefreshTokenAndUser taken hash", err, store.ErrConflict)
	got, err = s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "RefreshTokenByHash", err)
	durableEqual(t, "after refused create", got, want)

	// Without the account, the token is stored and no account comes back.
	gotU, err = s.CreateRefreshTokenAndUser(ctx, durableRefresh("hash-9", "fam-9", "nobody", "referral"))
	durableOK(t, "CreateRefreshTokenAndUser without user", err)
	if gotU != nil {
		t.Errorf("CreateRefreshTokenAndUser without user: user %+v, want nil", gotU)
	}
	_, err = s.RefreshTokenByHash(ctx, "hash-9")
	durableOK(t, "RefreshTokenByHash without user", err)
}

func durableClientAndRefreshToken(t *testing.T, s store.Durable) {
	ctx := context.Background()
	c, u := durableClientAndAccount(t, s)
	want := durableRefresh("hash-1", "fam-1", "u1", "referral")
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, want))
	gotC, gotT, gotU, err := s.ClientAndRefreshToken(ctx, "referral", "hash-1")
	durableOK(t, "ClientAndRefreshToken", err)
	durableEqual(t, "ClientAndRefreshToken client", gotC, c)
	durableEqual(t, "ClientAndRefreshToken token", gotT, want)
	durableEqual(t, "ClientAndRefreshToken user", gotU, u)

	// Whichever client presents it: the caller compares.
	durableOK(t, "CreateClient", s.CreateClient(ctx, durableClient("other")))
	gotC, gotT, _, err = s.ClientAndRefreshToken(ctx, "other", "hash-1")
	durableOK(t, "ClientAndRefreshToken other client", err)
	if gotC.ID != "other" || gotT.ClientID != "referral" {
		t.Errorf("ClientAndRefreshToken other client: client %s, token's client %s", gotC.ID, gotT.ClientID)
	}

	durableOK(t, "CreateRefreshToken without user", s.CreateRefreshToken(ctx, durableRefresh("hash-9", "fam-9", "nobody", "referral")))
	for _, hash := range []string{"missing", "hash-9"} {
		gotC, gotT, gotU, err = s.ClientAndRefreshToken(ctx, "referral", hash)
		durableOK(t, "ClientAndRefreshToken "+hash, err)
		durableEqual(t, "ClientAndRefreshToken client "+hash, gotC, c)
		if gotT != nil || gotU != nil {
			t.Errorf("ClientAndRefreshToken %s: token %+v, user %+v, want neither", hash, gotT, gotU)
		}
	}
	_, _, _, err = s.ClientAndRefreshToken(ctx, "missing", "hash-1")
	durableWantErr(t, "ClientAndRefreshToken without client", err, store.ErrNotFound)
}

func durableRefreshRotate(t *testing.T, s store.Durable) {
	ctx := context.Background()
	first := durableRefresh("hash-1", "fam-1", "u1", "referral")
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, first))
	now := durableBase.Add(time.Hour)
	next := durableRefresh("hash-2", "fam-1", "u1", "referral")
	next.CreatedAt, next.IdleExpiresAt = now, now.Add(7*24*time.Hour)
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "hash-1", next, now))

	got, err := s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "old token", err)
	first.UsedAt = now
	durableEqual(t, "old token after rotation", got, first)
	got, err = s.RefreshTokenByHash(ctx, "hash-2")
	durableOK(t, "new token", err)
	durableEqual(t, "new token", got, next)

	third := durableRefresh("hash-3", "fam-1", "u1", "referral")
	durableWantErr(t, "RotateRefreshToken missing",
		s.RotateRefreshToken(ctx, "missing", third, now), store.ErrNotFound)
	_, err = s.RefreshTokenByHash(ctx, "hash-3")
	durableWantErr(t, "token inserted by a refused rotation", err, store.ErrNotFound)
	durableOK(t, "RotateRefreshToken second link", s.RotateRefreshToken(ctx, "hash-2", third, now.Add(time.Hour)))
}

func durableRefreshRotateReuse(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, durableRefresh("hash-1", "fam-1", "u1", "referral")))
	now := durableBase.Add(time.Hour)
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "hash-1", durableRefresh("hash-2", "fam-1", "u1", "referral"), now))
	before, err := s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "old token", err)

	// Reuse of the used token: nothing changes, the would-be successor is not stored.
	err = s.RotateRefreshToken(ctx, "hash-1", durableRefresh("hash-3", "fam-1", "u1", "referral"), now.Add(time.Minute))
	durableWantErr(t, "rotating a used token", err, store.ErrConflict)
	after, err := s.RefreshTokenByHash(ctx, "hash-1")
	durableOK(t, "old token", err)
	durableEqual(t, "used token after refused rotation", after, before)
	_, err = s.RefreshTokenByHash(ctx, "hash-3")
	durableWantErr(t, "successor of a reused token", err, store.ErrNotFound)
	cur, err := s.RefreshTokenByHash(ctx, "hash-2")
	durableOK(t, "current token", err)
	if !cur.UsedAt.IsZero() || !cur.RevokedAt.IsZero() {
		t.Errorf("current token changed by a refused rotation: used %v revoked %v", cur.UsedAt, cur.RevokedAt)
	}

	// A revoked token cannot be rotated either.
	durableOK(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "fam-1", now.Add(2*time.Minute)))
	err = s.RotateRefreshToken(ctx, "hash-2", durableRefresh("hash-4", "fam-1", "u1", "referral"), now.Add(3*time.Minute))
	durableWantErr(t, "rotating a revoked token", err, store.ErrConflict)
	_, err = s.RefreshTokenByHash(ctx, "hash-4")
	durableWantErr(t, "successor of a revoked token", err, store.ErrNotFound)
	cur, err = s.RefreshTokenByHash(ctx, "hash-2")
	durableOK(t, "revoked token", err)
	if !cur.UsedAt.IsZero() {
		t.Errorf("revoked token marked used by a refused rotation")
	}

	// A successor whose hash is taken is refused and the old token stays current.
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, durableRefresh("hash-5", "fam-5", "u1", "referral")))
	err = s.RotateRefreshToken(ctx, "hash-5", durableRefresh("hash-1", "fam-5", "u1", "referral"), now)
	durableWantErr(t, "rotating to a taken hash", err, store.ErrConflict)
	cur, err = s.RefreshTokenByHash(ctx, "hash-5")
	durableOK(t, "token with refused successor", err)
	if !cur.UsedAt.IsZero() {
		t.Errorf("token marked used although its successor was refused")
	}
}

func durableRefreshRevokeFamily(t *testing.T, s store.Durable) {
	ctx := context.Background()
	for _, tok := range []*store.RefreshToken{
		durableRefresh("a1", "fam-a", "u1", "referral"),
		durableRefresh("b1", "fam-b", "u1", "referral"),
	} {
		durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tok))
	}
	t1 := durableBase.Add(time.Hour)
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "a1", durableRefresh("a2", "fam-a", "u1", "referral"), t1))
	t2 := t1.Add(time.Hour)
	durableOK(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "fam-a", t2))
	for _, h := range []string{"a1", "a2"} {
		got, err := s.RefreshTokenByHash(ctx, h)
		durableOK(t, "RefreshTokenByHash "+h, err)
		if d := got.RevokedAt.Sub(t2); got.RevokedAt.IsZero() || d > time.Microsecond || d < -time.Microsecond {
			t.Errorf("%s RevokedAt = %v, want %v", h, got.RevokedAt, t2)
		}
	}
	got, err := s.RefreshTokenByHash(ctx, "b1")
	durableOK(t, "RefreshTokenByHash b1", err)
	if !got.RevokedAt.IsZero() {
		t.Errorf("revoking fam-a revoked fam-b")
	}
	// Revoking again keeps the first revocation time; an unknown family is no error.
	durableOK(t, "RevokeRefreshFamily again", s.RevokeRefreshFamily(ctx, "fam-a", t2.Add(time.Hour)))
	got, err = s.RefreshTokenByHash(ctx, "a2")
	durableOK(t, "RefreshTokenByHash a2", err)
	if d := got.RevokedAt.Sub(t2); d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("second revocation moved RevokedAt to %v, want %v", got.RevokedAt, t2)
	}
	durableOK(t, "RevokeRefreshFamily unknown", s.RevokeRefreshFamily(ctx, "fam-none", t2))
}

// durableRefreshAlive reports whether the token hash is still stored.
func durableRefreshAlive(t *testing.T, s store.Durable, hash string) bool {
	t.Helper()
	_, err := s.RefreshTokenByHash(context.Background(), hash)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	durableOK(t, "RefreshTokenByHash "+hash, err)
	return true
}

func durablePruneRefresh(t *testing.T, s store.Durable) {
	ctx := context.Background()
	day := 24 * time.Hour
	link := func(hash, family string, idle time.Duration) *store.RefreshToken {
		tok := durableRefresh(hash, family, "u1", "referral")
		tok.IdleExpiresAt = durableBase.Add(idle)
		return tok
	}
	// Live: its first token idled out long ago and is spent, its current one
	// is live, so the spent one must stay for reuse to be detected.
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, link("live-1", "fam-live", 7*day)))
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "live-1", link("live-2", "fam-live", 12*day), durableBase.Add(5*day)))
	// Idle: rotated once, every token past its idle expiry.
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, link("idle-1", "fam-idle", 2*day)))
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "idle-1", link("idle-2", "fam-idle", 6*day), durableBase.Add(day)))
	// Absolute: idle expiry still ahead, absolute expiry passed.
	abs := link("abs-1", "fam-abs", 12*day)
	abs.ExpiresAt = durableBase.Add(6 * day)
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, abs))
	// Revoked: refused already, but kept until its tokens expire too.
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, link("rev-1", "fam-rev", 5*day)))
	durableOK(t, "RotateRefreshToken", s.RotateRefreshToken(ctx, "rev-1", link("rev-2", "fam-rev", 10*day), durableBase.Add(3*day)))
	durableOK(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "fam-rev", durableBase.Add(4*day)))

	cut := durableBase.Add(8 * day)
	n, err := s.PruneRefreshTokens(ctx, cut)
	durableOK(t, "PruneRefreshTokens", err)
	if n != 3 {
		t.Errorf("PruneRefreshTokens deleted %d rows, want 3 (fam-idle and fam-abs)", n)
	}
	for h, want := range map[string]bool{
		"live-1": true, "live-2": true, "idle-1": false, "idle-2": false, "abs-1": false, "rev-1": true, "rev-2": true,
	} {
		if got := durableRefreshAlive(t, s, h); got != want {
			t.Errorf("after pruning at day 8, %s stored = %v, want %v", h, got, want)
		}
	}
	// The spent token of the live family is still seen as spent: rotating it
	// again is reuse, not an unknown token.
	durableWantErr(t, "rotating the kept spent token", s.RotateRefreshToken(ctx, "live-1",
		link("live-x", "fam-live", 13*day), cut), store.ErrConflict)

	n, err = s.PruneRefreshTokens(ctx, durableBase.Add(11*day))
	durableOK(t, "PruneRefreshTokens day 11", err)
	if n != 2 {
		t.Errorf("PruneRefreshTokens at day 11 deleted %d rows, want 2 (fam-rev)", n)
	}
	for h, want := range map[string]bool{"live-1": true, "live-2": true, "rev-1": false, "rev-2": false} {
		if got := durableRefreshAlive(t, s, h); got != want {
			t.Errorf("after pruning at day 11, %s stored = %v, want %v", h, got, want)
		}
	}
	// A token live exactly at the cut is still usable at the cut.
	n, err = s.PruneRefreshTokens(ctx, durableBase.Add(12*day).Add(-time.Microsecond))
	durableOK(t, "PruneRefreshTokens before live-2 expires", err)
	if n != 0 || !durableRefreshAlive(t, s, "live-1") {
		t.Errorf("pruning before the live family expired deleted %d rows", n)
	}
	n, err = s.PruneRefreshTokens(ctx, durableBase.Add(12*day))
	durableOK(t, "PruneRefreshTokens at live-2's expiry", err)
	if n != 2 || durableRefreshAlive(t, s, "live-1") || durableRefreshAlive(t, s, "live-2") {
		t.Errorf("pruning at the live family's expiry deleted %d rows, want both", n)
	}
}

// More rows than one batch, expired tokens of a live family among expired
// families in the order the store walks them: every expired family goes,
// the live one stays whole.
func durablePruneRefreshBatches(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const dead = 2*store.PruneRefreshBatch + 7
	for i := 0; i < dead+store.PruneRefreshBatch/2; i++ {
		family := fmt.Sprintf("fam-dead-%d", i%50)
		if i >= dead {
			family = "fam-live"
		}
		tok := durableRefresh(fmt.Sprintf("h-%05d", i), family, "u1", "referral")
		tok.IdleExpiresAt = durableBase.Add(time.Duration(i) * time.Second)
		if family == "fam-live" {
			tok.IdleExpiresAt = durableBase.Add(time.Duration(i-dead) * 3 * time.Second)
			tok.UsedAt = tok.IdleExpiresAt.Add(-time.Second)
		}
		durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tok))
	}
	cur := durableRefresh("h-live-current", "fam-live", "u1", "referral")
	cur.IdleExpiresAt = durableBase.Add(7 * 24 * time.Hour)
	durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, cur))

	n, err := s.PruneRefreshTokens(ctx, durableBase.Add(24*time.Hour))
	durableOK(t, "PruneRefreshTokens", err)
	if n != dead {
		t.Errorf("PruneRefreshTokens deleted %d rows, want the %d of the expired families", n, dead)
	}
	for _, h := range []string{"h-00000", fmt.Sprintf("h-%05d", dead-1)} {
		if durableRefreshAlive(t, s, h) {
			t.Errorf("%s of an expired family still stored", h)
		}
	}
	for _, h := range []string{fmt.Sprintf("h-%05d", dead), fmt.Sprintf("h-%05d", dead+store.PruneRefreshBatch/2-1), "h-live-current"} {
		if !durableRefreshAlive(t, s, h) {
			t.Errorf("%s of the live family was deleted", h)
		}
	}
	n, err = s.PruneRefreshTokens(ctx, durableBase.Add(24*time.Hour))
	durableOK(t, "PruneRefreshTokens again", err)
	if n != 0 {
		t.Errorf("second PruneRefreshTokens deleted %d rows, want 0", n)
	}
}

func durableRefreshRevokeUser(t *testing.T, s store.Durable) {
	ctx := context.Background()
	for _, tok := range []*store.RefreshToken{
		durableRefresh("u1-a", "f1", "u1", "client-a"),
		durableRefresh("u1-b", "f2", "u1", "client-b"),
		durableRefresh("u2-a", "f3", "u2", "client-a"),
	} {
		durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tok))
	}
	revoked := func(h string) bool {
		t.Helper()
		got, err := s.RefreshTokenByHash(ctx, h)
		durableOK(t, "RefreshTokenByHash "+h, err)
		return !got.RevokedAt.IsZero()
	}
	durableOK(t, "RevokeUserRefreshTokens one client", s.RevokeUserRefreshTokens(ctx, "u1", "client-a", durableBase))
	if !revoked("u1-a") || revoked("u1-b") || revoked("u2-a") {
		t.Fatalf("by user and client: u1-a %v, u1-b %v, u2-a %v; want true false false",
			revoked("u1-a"), revoked("u1-b"), revoked("u2-a"))
	}
	durableOK(t, "RevokeUserRefreshTokens all clients", s.RevokeUserRefreshTokens(ctx, "u1", "", durableBase))
	if !revoked("u1-a") || !revoked("u1-b") || revoked("u2-a") {
		t.Fatalf("by user: u1-a %v, u1-b %v, u2-a %v; want true true false",
			revoked("u1-a"), revoked("u1-b"), revoked("u2-a"))
	}
}

// durableRefreshSessions: the form apps holding live tokens of a session are
// found by session, and ending the session revokes its tokens of every client
// and nothing else.
func durableRefreshSessions(t *testing.T, s store.Durable) {
	ctx := context.Background()
	tok := func(hash, session, user, client string) *store.RefreshToken {
		rt := durableRefresh(hash, "fam-"+hash, user, client)
		rt.SessionID = session
		return rt
	}
	expired := tok("s1-old", "s1", "u1", "client-old")
	expired.ExpiresAt = durableBase.Add(-time.Second)
	for _, rt := range []*store.RefreshToken{
		tok("s1-a", "s1", "u1", "client-a"),
		tok("s1-a2", "s1", "u1", "client-a"),
		tok("s1-b", "s1", "u1", "client-b"),
		tok("s2-a", "s2", "u1", "client-a"),
		tok("none", "", "u1", "client-c"),
		tok("other", "s1", "u2", "client-a"),
		expired,
	} {
		durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, rt))
	}
	got, err := s.SessionClients(ctx, "u1", "s1", durableBase)
	durableOK(t, "SessionClients s1", err)
	sessionClientsEqual(t, "SessionClients s1", got, []store.SessionClient{{SessionID: "s1", ClientID: "client-a"}, {SessionID: "s1", ClientID: "client-b"}})
	got, err = s.SessionClients(ctx, "u1", "", durableBase)
	durableOK(t, "SessionClients all", err)
	sessionClientsEqual(t, "SessionClients all", got, []store.SessionClient{{SessionID: "s1", ClientID: "client-a"}, {SessionID: "s1", ClientID: "client-b"}, {SessionID: "s2", ClientID: "client-a"}})

	durableOK(t, "RevokeSessionRefreshTokens", s.RevokeSessionRefreshTokens(ctx, "u1", "s1", durableBase))
	for hash, want := range map[string]bool{"s1-a": true, "s1-a2": true, "s1-b": true, "s2-a": false, "none": false, "other": false} {
		rt, err := s.RefreshTokenByHash(ctx, hash)
		durableOK(t, "RefreshTokenByHash "+hash, err)
		if got := !rt.RevokedAt.IsZero(); got != want {
			t.Errorf("after ending session s1, token %s revoked = %v, want %v", hash, got, want)
		}
	}
	got, err = s.SessionClients(ctx, "u1", "", durableBase)
	durableOK(t, "SessionClients after revoking s1", err)
	sessionClientsEqual(t, "SessionClients after revoking s1", got, []store.SessionClient{{SessionID: "s2", ClientID: "client-a"}})
	if err := s.RevokeSessionRefreshTokens(ctx, "u1", "", durableBase); err == nil {
		t.Error("RevokeSessionRefreshTokens without a session id succeeded")
	}
}

// durableEraseUser: erasure leaves nothing of the person but a pseudonymous
// trail, touches nobody else, and can be repeated.
func durableEraseUser(t *testing.T, s store.Durable) {
	ctx := context.Background()
	ann, bob := durableUser("u-ann", "Ann.Smith@example.org"), durableUser("u-bob", "bob@example.org")
	for _, u := range []*store.User{ann, bob} {
		durableOK(t, "CreateUser", s.CreateUser(ctx, u))
		durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, durableRefresh("rt-"+u.ID, "fam-"+u.ID, u.ID, "referral")))
		durableOK(t, "AppendAudit", s.AppendAudit(ctx, &store.AuditEvent{Time: durableBase, Kind: "login.completed", UserID: u.ID,
			ClientID: "referral", IP: "192.0.2.7", Detail: "signed in with pwd+sms"}))
		_, err := s.Hit(ctx, "enrol:sends:"+u.ID, time.Hour, durableBase)
		durableOK(t, "Hit", err)
	}
	queued := &store.OutboxMessage{Channel: "email", Recipient: "ann.smith@EXAMPLE.org", Subject: "Your account has changed", Text: "t", CreatedAt: durableBase}
	sent := &store.OutboxMessage{Channel: "email", Recipient: ann.Email, Subject: "code", Text: "123456", CreatedAt: durableBase}
	request := &store.OutboxMessage{Channel: "end_sessions", Recipient: ann.ID, CreatedAt: durableBase}
	for _, m := range []*store.OutboxMessage{queued, sent, request} {
		durableOK(t, "EnqueueOutbox", s.EnqueueOutbox(ctx, m))
	}
	durableOK(t, "MarkOutboxSent", s.MarkOutboxSent(ctx, sent.ID, durableBase))

	existed, err := s.EraseUser(ctx, ann.ID, ann.Email, "erased:1")
	durableOK(t, "EraseUser", err)
	if !existed {
		t.Error("EraseUser says the account was not there")
	}
	_, err = s.UserByID(ctx, ann.ID)
	durableWantErr(t, "UserByID after erasure", err, store.ErrNotFound)
	_, err = s.RefreshTokenByHash(ctx, "rt-"+ann.ID)
	durableWantErr(t, "her refresh token", err, store.ErrNotFound)
	if es, err := s.ListAudit(ctx, ann.ID, 0); err != nil || len(es) != 0 {
		t.Errorf("audit events under her id: %v %v", es, err)
	}
	es, err := s.ListAudit(ctx, "erased:1", 0)
	durableOK(t, "ListAudit pseudonym", err)
	if len(es) != 1 || es[0].Kind != "login.completed" || es[0].IP != "" || es[0].Detail != "" || es[0].ClientID != "" {
		t.Errorf("her trail: %+v, want the event's kind and time only", es)
	}
	// The queued request to end her sessions still names her id until a
	// worker takes it; erasing again then (as that worker does) leaves none.
	if got := outboxGet(t, s, request.ID); got.Recipient != ann.ID {
		t.Errorf("the queued request names %q, want her id until it is taken", got.Recipient)
	}
	claimed, err := s.ClaimOutbox(ctx, "end_sessions", durableBase, 10, time.Minute)
	durableOK(t, "ClaimOutbox", err)
	if len(claimed) != 1 || claimed[0].Recipient != ann.ID {
		t.Fatalf("claimed %+v", claimed)
	}
	_, err = s.EraseUser(ctx, ann.ID, "", "erased:1")
	durableOK(t, "EraseUser by the worker", err)
	ms, err := s.ListOutbox(ctx, "", 0)
	durableOK(t, "ListOutbox", err)
	for _, m := range ms {
		if strings.Contains(strings.ToLower(m.Recipient), "ann") || m.Recipient == ann.ID || m.Subject != "" && m.Channel == "email" {
			t.Errorf("outbox keeps %+v", m)
		}
		if m.ID == queued.ID {
			t.Error("email still queued for her")
		}
	}
	if n, err := s.Count(ctx, "enrol:sends:"+ann.ID, time.Hour, durableBase); err != nil || n != 0 {
		t.Errorf("her counter: %d %v", n, err)
	}
	// Bob is untouched.
	if _, err := s.UserByID(ctx, bob.ID); err != nil {
		t.Errorf("bob: %v", err)
	}
	if es, err := s.ListAudit(ctx, bob.ID, 0); err != nil || len(es) != 1 || es[0].IP != "192.0.2.7" {
		t.Errorf("bob's audit: %+v %v", es, err)
	}
	if n, err := s.Count(ctx, "enrol:sends:"+bob.ID, time.Hour, durableBase); err != nil || n != 1 {
		t.Errorf("bob's counter: %d %v", n, err)
	}
	existed, err = s.EraseUser(ctx, ann.ID, ann.Email, "erased:1")
	durableOK(t, "EraseUser again", err)
	if existed {
		t.Error("a second EraseUser found the account")
	}
}

// durableAuditQuery: every filter narrows, pages cover every event once, and
// pruning removes only what is older than the cut.
func durableAuditQuery(t *testing.T, s store.Durable) {
	ctx := context.Background()
	base := durableBase.Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	var all []*store.AuditEvent
	for i := range 30 {
		e := &store.AuditEvent{Time: base.Add(time.Duration(i/2) * time.Minute), Kind: []string{"login.completed", "admin.unlock", "client.auth_failed"}[i%3],
			UserID: []string{"u1", "u2"}[i%2], ClientID: []string{"referral", "concern", ""}[i%3], Operator: []string{"", "cli:sam"}[i%3/2]}
		durableOK(t, "AppendAudit", s.AppendAudit(ctx, e))
		all = append(all, e)
	}
	count := func(f store.AuditFilter, want func(*store.AuditEvent) bool) {
		t.Helper()
		f.Limit = 1000
		got, err := s.QueryAudit(ctx, f)
		durableOK(t, "QueryAudit", err)
		n := 0
		for _, e := range all {
			if want(e) {
				n++
			}
		}
		if len(got) != n {
			t.Errorf("QueryAudit(%+v) = %d events, want %d", f, len(got), n)
		}
		for _, e := range got {
			if !want(e) {
				t.Errorf("QueryAudit(%+v) gave %+v", f, e)
			}
		}
	}
	count(store.AuditFilter{UserID: "u1"}, func(e *store.AuditEvent) bool { return e.UserID == "u1" })
	count(store.AuditFilter{ClientID: "concern"}, func(e *store.AuditEvent) bool { return e.ClientID == "concern" })
	count(store.AuditFilter{Kind: "admin.unlock", UserID: "u2"}, func(e *store.AuditEvent) bool { return e.Kind == "admin.unlock" && e.UserID == "u2" })
	count(store.AuditFilter{Operator: "cli:sam"}, func(e *store.AuditEvent) bool { return e.Operator == "cli:sam" })
	since, until := base.Add(3*time.Minute), base.Add(7*time.Minute)
	count(store.AuditFilter{Since: since, Until: until}, func(e *store.AuditEvent) bool { return !e.Time.Before(since) && e.Time.Before(until) })

	// Pages of 4, newest first, each event once.
	seen := map[int64]bool{}
	var last *store.AuditEvent
	for page := 0; ; page++ {
		got, err := s.QueryAudit(ctx, store.AuditFilter{Before: last, Limit: 4})
		durableOK(t, "QueryAudit page", err)
		if len(got) == 0 {
			break
		}
		for _, e := range got {
			if seen[e.ID] {
				t.Fatalf("page %d repeats event %d", page, e.ID)
			}
			if last != nil && (e.Time.After(last.Time) || e.Time.Equal(last.Time) && e.ID > last.ID) {
				t.Fatalf("page %d is not older than the last one", page)
			}
			seen[e.ID] = true
		}
		last = got[len(got)-1]
	}
	if len(seen) != len(all) {
		t.Errorf("pages covered %d events, want %d", len(seen), len(all))
	}

	n, err := s.PruneAudit(ctx, base.Add(5*time.Minute))
	durableOK(t, "PruneAudit", err)
	if n != 10 {
		t.Errorf("PruneAudit removed %d events, want the 10 older than the cut", n)
	}
	count(store.AuditFilter{}, func(e *store.AuditEvent) bool { return !e.Time.Before(base.Add(5 * time.Minute)) })
}

func sessionClientsEqual(t *testing.T, what string, got, want []store.SessionClient) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func durableAudit(t *testing.T, s store.Durable) {
	ctx := context.Background()
	es, err := s.ListAudit(ctx, "", 0)
	durableOK(t, "ListAudit empty", err)
	if len(es) != 0 {
		t.Fatalf("ListAudit on an empty store = %d events", len(es))
	}
	var appended []*store.AuditEvent
	for i := 0; i < 120; i++ {
		user := "u1"
		if i%3 == 0 {
			user = "u2"
		}
		e := &store.AuditEvent{
			Time:     durableBase.Add(time.Duration(i) * time.Second),
			Kind:     "login.failed",
			UserID:   user,
			ClientID: "referral",
			IP:       "192.0.2.10",
			Detail:   fmt.Sprintf("attempt %d", i),
		}
		if i%5 == 0 {
			e.Kind, e.Operator = "admin.unlock", "cli:helpdesk"
		}
		durableOK(t, "AppendAudit", s.AppendAudit(ctx, e))
		if e.ID == 0 {
			t.Fatalf("AppendAudit left ID zero")
		}
		if i > 0 && e.ID <= appended[i-1].ID {
			t.Fatalf("AppendAudit IDs not increasing: %d after %d", e.ID, appended[i-1].ID)
		}
		appended = append(appended, e)
	}

	es, err = s.ListAudit(ctx, "", 0)
	durableOK(t, "ListAudit default limit", err)
	if len(es) != 100 {
		t.Fatalf("ListAudit(limit 0) = %d events, want 100", len(es))
	}
	for i, e := range es {
		durableEqual(t, fmt.Sprintf("ListAudit[%d]", i), e, appended[119-i])
	}

	es, err = s.ListAudit(ctx, "u2", 5)
	durableOK(t, "ListAudit by user", err)
	if len(es) != 5 {
		t.Fatalf("ListAudit(u2, 5) = %d events, want 5", len(es))
	}
	for i, e := range es {
		want := appended[117-3*i] // the newest u2 event is attempt 117
		durableEqual(t, fmt.Sprintf("ListAudit(u2)[%d]", i), e, want)
	}
	es, err = s.ListAudit(ctx, "nobody", 10)
	durableOK(t, "ListAudit unknown user", err)
	if len(es) != 0 {
		t.Errorf("ListAudit(nobody) = %d events", len(es))
	}

	// Events at the same time come back newest appended first; a zero Time is filled in.
	same := []*store.AuditEvent{
		{Time: durableBase.Add(time.Hour), Kind: "a", UserID: "u3"},
		{Time: durableBase.Add(time.Hour), Kind: "b", UserID: "u3"},
	}
	for _, e := range same {
		durableOK(t, "AppendAudit", s.AppendAudit(ctx, e))
	}
	es, err = s.ListAudit(ctx, "u3", 10)
	durableOK(t, "ListAudit u3", err)
	if len(es) != 2 || es[0].Kind != "b" || es[1].Kind != "a" {
		t.Errorf("events at the same time not newest first: %+v", es)
	}
	unset := &store.AuditEvent{Kind: "clock", UserID: "u4"}
	durableOK(t, "AppendAudit without time", s.AppendAudit(ctx, unset))
	if unset.Time.IsZero() {
		t.Errorf("AppendAudit left a zero Time")
	}
}

func durableCounts(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const hour = time.Hour
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	for _, h := range []struct {
		key    string
		window time.Duration
		at     time.Time
	}{
		{"a", hour, start}, {"a", hour, start.Add(time.Minute)}, {"b", hour, start},
		{"a", hour, start.Add(hour)}, {"b", 24 * hour, start},
	} {
		_, err := s.Hit(ctx, h.key, h.window, h.at)
		durableOK(t, "Hit", err)
	}
	got, err := s.Counts(ctx, []string{"b", "missing", "a", "a"}, hour, start.Add(30*time.Minute))
	durableOK(t, "Counts", err)
	if want := []int{1, 0, 2, 2}; !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", "Counts", got, want)
	}
	got, err = s.Counts(ctx, []string{"a", "b"}, hour, start.Add(hour))
	durableOK(t, "Counts in the next window", err)
	if want := []int{1, 0}; !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", "Counts in the next window", got, want)
	}
	got, err = s.Counts(ctx, []string{"b"}, 24*hour, start)
	durableOK(t, "Counts of another window length", err)
	if want := []int{1}; !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", "Counts of another window length", got, want)
	}
}

func durableCounters(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const hour = time.Hour
	// 10:00:00 UTC is a multiple of an hour since the epoch.
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	count := func(key string, window time.Duration, now time.Time) int {
		t.Helper()
		n, err := s.Count(ctx, key, window, now)
		durableOK(t, "Count", err)
		return n
	}
	hit := func(key string, window time.Duration, now time.Time) int {
		t.Helper()
		n, err := s.Hit(ctx, key, window, now)
		durableOK(t, "Hit", err)
		return n
	}
	if n := count("sms:+447700900123", hour, start); n != 0 {
		t.Fatalf("Count of an unused counter = %d", n)
	}
	for want := 1; want <= 3; want++ {
		if n := hit("sms:+447700900123", hour, start.Add(time.Duration(want)*10*time.Minute)); n != want {
			t.Fatalf("Hit = %d, want %d", n, want)
		}
	}
	// Count does not add.
	for i := 0; i < 2; i++ {
		if n := count("sms:+447700900123", hour, start.Add(59*time.Minute)); n != 3 {
			t.Fatalf("Count = %d, want 3", n)
		}
	}
	// The last nanosecond of the window is inside it; the next hour is a new window.
	if n := hit("sms:+447700900123", hour, start.Add(hour-time.Nanosecond)); n != 4 {
		t.Fatalf("Hit at the window's end = %d, want 4", n)
	}
	if n := hit("sms:+447700900123", hour, start.Add(hour)); n != 1 {
		t.Fatalf("Hit in the next window = %d, want 1", n)
	}
	if n := count("sms:+447700900123", hour, start.Add(hour+30*time.Minute)); n != 1 {
		t.Fatalf("Count in the next window = %d, want 1", n)
	}
	// Keys and window lengths are counted apart.
	if n := hit("sms:+447700900999", hour, start.Add(hour)); n != 1 {
		t.Fatalf("Hit on another key = %d, want 1", n)
	}
	if n := hit("sms:+447700900123", 24*hour, start.Add(hour)); n != 1 {
		t.Fatalf("Hit with another window length = %d, want 1", n)
	}
	if n := count("sms:+447700900123", hour, start.Add(hour)); n != 1 {
		t.Fatalf("Count after hits on other counters = %d, want 1", n)
	}
	// A day window holds hits from several hours.
	if n := hit("sms:+447700900123", 24*hour, start.Add(5*hour)); n != 2 {
		t.Fatalf("second hit in a day window = %d, want 2", n)
	}
	// Unhit takes one back in its own window only, and never below zero.
	durableOK(t, "Unhit", s.Unhit(ctx, "sms:+447700900123", 24*hour, start.Add(6*hour)))
	if n := count("sms:+447700900123", 24*hour, start.Add(6*hour)); n != 1 {
		t.Fatalf("Count after Unhit = %d, want 1", n)
	}
	if n := count("sms:+447700900123", hour, start.Add(hour)); n != 1 {
		t.Fatalf("Unhit on a day window changed an hour window: %d, want 1", n)
	}
	for range 3 {
		durableOK(t, "Unhit", s.Unhit(ctx, "sms:+447700900999", hour, start.Add(hour)))
	}
	durableOK(t, "Unhit of an unused counter", s.Unhit(ctx, "unused", hour, start))
	if n := hit("sms:+447700900999", hour, start.Add(hour)); n != 1 {
		t.Fatalf("Hit after unhits past zero = %d, want 1", n)
	}
}

// The previous window's count stays readable after the next window starts: a
// sliding budget weighs it (limits.Sliding).
func durableCountersPreviousWindow(t *testing.T, s store.Durable) {
	ctx := context.Background()
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		_, err := s.Hit(ctx, "ip:192.0.2.1", time.Hour, start.Add(time.Duration(50+i)*time.Minute))
		durableOK(t, "Hit", err)
	}
	n, err := s.Hit(ctx, "ip:192.0.2.1", time.Hour, start.Add(65*time.Minute))
	durableOK(t, "Hit in the next window", err)
	if n != 1 {
		t.Fatalf("Hit in the next window = %d, want 1", n)
	}
	prev, err := s.Count(ctx, "ip:192.0.2.1", time.Hour, start.Add(5*time.Minute))
	durableOK(t, "Count of the previous window", err)
	if prev != 3 {
		t.Fatalf("Count of the previous window after the next began = %d, want 3", prev)
	}
}

func durableMembers(t *testing.T, s store.Durable) {
	ctx := context.Background()
	day := 24 * time.Hour
	start := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC) // a UTC day
	add := func(key, member string, window time.Duration, now time.Time) int {
		t.Helper()
		n, err := s.AddMember(ctx, key, member, window, now)
		durableOK(t, "AddMember", err)
		return n
	}
	const acct = "enrol:numbers:u1"
	for i, tc := range []struct {
		member string
		at     time.Duration
		rank   int
	}{
		{"+447700900001", time.Hour, 1},
		{"+447700900002", 2 * time.Hour, 2},
		{"+447700900001", 3 * time.Hour, 1}, // again: the same rank
		{"+447700900003", 4 * time.Hour, 3},
		{"+447700900004", 5 * time.Hour, 4},
		{"+447700900004", 6 * time.Hour, 4},
		{"+447700900002", day - time.Nanosecond, 2}, // the window's last nanosecond
	} {
		if got := add(acct, tc.member, day, start.Add(tc.at)); got != tc.rank {
			t.Fatalf("%d: AddMember(%s) = %d, want %d", i, tc.member, got, tc.rank)
		}
	}
	// The next day is a new set.
	if got := add(acct, "+447700900004", day, start.Add(day)); got != 1 {
		t.Fatalf("first member of the next day has rank %d, want 1", got)
	}
	if got := add(acct, "+447700900001", day, start.Add(day+time.Hour)); got != 2 {
		t.Fatalf("second member of the next day has rank %d, want 2", got)
	}
	// Keys and window lengths are counted apart, and apart from Hit's counters.
	if got := add("enrol:numbers:u2", "+447700900001", day, start.Add(day)); got != 1 {
		t.Fatalf("another key: rank %d, want 1", got)
	}
	if got := add(acct, "+447700900009", time.Hour, start.Add(day)); got != 1 {
		t.Fatalf("another window length: rank %d, want 1", got)
	}
	_, err := s.Hit(ctx, acct, day, start.Add(day))
	durableOK(t, "Hit on a set's key", err)
	if got := add(acct, "+447700900003", day, start.Add(day+2*time.Hour)); got != 3 {
		t.Fatalf("a counter of the same name moved the set: rank %d, want 3", got)
	}
	// Members are kept as given.
	if got := add(acct, "+447700900001 ", day, start.Add(day+3*time.Hour)); got != 4 {
		t.Fatalf("a different string is a different member: rank %d, want 4", got)
	}
}

func durableMembersRace(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const n = 20
	now := time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)
	// Different members at once: ranks 1..n, each once.
	got := make([]int, n)
	errs := durableRace(n, func(i int) error {
		var err error
		got[i], err = s.AddMember(ctx, "enrol:numbers:race", fmt.Sprintf("+4477009%05d", i), 24*time.Hour, now)
		return err
	})
	seen := make(map[int]bool)
	for i, err := range errs {
		durableOK(t, fmt.Sprintf("AddMember %d", i), err)
		if got[i] < 1 || got[i] > n || seen[got[i]] {
			t.Fatalf("concurrent AddMember ranks %v are not 1..%d each once", got, n)
		}
		seen[got[i]] = true
	}
	// The same new member at once: one rank for all.
	errs = durableRace(n, func(i int) error {
		var err error
		got[i], err = s.AddMember(ctx, "enrol:numbers:race", "+447700900999", 24*time.Hour, now)
		return err
	})
	for i, err := range errs {
		durableOK(t, fmt.Sprintf("AddMember of one member %d", i), err)
		if got[i] != n+1 {
			t.Fatalf("concurrent AddMember of one new member gave ranks %v, want %d each", got, n+1)
		}
	}
}

func durableMigrateTwice(t *testing.T, s store.Durable) {
	ctx := context.Background()
	durableCreateUser(t, s, "u1", "ada@example.org")
	durableOK(t, "Migrate again", s.Migrate(ctx))
	durableOK(t, "Migrate a third time", s.Migrate(ctx))
	_, err := s.UserByID(ctx, "u1")
	durableOK(t, "UserByID after migrating again", err)
}

func durablePing(t *testing.T, s store.Durable) {
	durableOK(t, "Ping", s.Ping(context.Background()))
}

// durableRace runs fn n times at once and returns the errors.
func durableRace(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-ready
			errs[i] = fn(i)
		}()
	}
	close(ready)
	wg.Wait()
	return errs
}

func durableRotateRace(t *testing.T, s store.Durable) {
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		old := fmt.Sprintf("r%d-old", round)
		durableOK(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, durableRefresh(old, "fam", "u1", "referral")))
		errs := durableRace(2, func(i int) error {
			next := durableRefresh(fmt.Sprintf("r%d-next-%d", round, i), "fam", "u1", "referral")
			return s.RotateRefreshToken(ctx, old, next, durableBase.Add(time.Hour))
		})
		won := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: both rotations of one token succeeded", round)
				}
				won = i
			case errors.Is(err, store.ErrConflict):
			default:
				t.Fatalf("round %d: rotation %d: %v, want nil or ErrConflict", round, i, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither rotation succeeded: %v", round, errs)
		}
		_, err := s.RefreshTokenByHash(ctx, fmt.Sprintf("r%d-next-%d", round, won))
		durableOK(t, "winner's successor", err)
		_, err = s.RefreshTokenByHash(ctx, fmt.Sprintf("r%d-next-%d", round, 1-won))
		durableWantErr(t, "loser's successor", err, store.ErrNotFound)
	}
}

func durableCreateUserRace(t *testing.T, s store.Durable) {
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		emails := []string{fmt.Sprintf("race%d@example.org", round), fmt.Sprintf("RACE%d@Example.org", round)}
		errs := durableRace(2, func(i int) error {
			return s.CreateUser(ctx, durableUser(fmt.Sprintf("r%d-u%d", round, i), emails[i]))
		})
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
			default:
				t.Fatalf("round %d: create %d: %v, want nil or ErrConflict", round, i, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d of 2 creates with one email succeeded, want 1", round, ok)
		}
	}
}

func durableHitRace(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const n = 50
	now := time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)
	got := make([]int, n)
	errs := durableRace(n, func(i int) error {
		var err error
		got[i], err = s.Hit(ctx, "email:ada@example.org", time.Hour, now)
		return err
	})
	seen := make(map[int]bool)
	for i, err := range errs {
		durableOK(t, fmt.Sprintf("Hit %d", i), err)
		if got[i] < 1 || got[i] > n || seen[got[i]] {
			t.Fatalf("Hit results %v are not 1..%d each once", got, n)
		}
		seen[got[i]] = true
	}
	c, err := s.Count(ctx, "email:ada@example.org", time.Hour, now)
	durableOK(t, "Count", err)
	if c != n {
		t.Fatalf("Count after %d concurrent hits = %d", n, c)
	}
}

// durableSameTime checks a time read back: within a microsecond of want, in UTC.
func durableSameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); got.IsZero() || d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s in %v, want UTC", what, got.Location())
	}
}

func durableConsecutiveFailures(t *testing.T, s store.Durable) {
	ctx := context.Background()
	failures := func(key string) (int, time.Time) {
		t.Helper()
		n, last, err := s.Failures(ctx, key)
		durableOK(t, "Failures", err)
		return n, last
	}
	const key = "code:dest:email:ada@example.org"
	if n, last := failures(key); n != 0 || !last.IsZero() {
		t.Fatalf("Failures of an unused key = %d, %v; want 0 and the zero time", n, last)
	}
	durableOK(t, "ResetFailures of an unused key", s.ResetFailures(ctx, key))
	for want := 1; want <= 3; want++ {
		n, err := s.RecordFailure(ctx, key, durableBase.Add(time.Duration(want)*time.Minute))
		durableOK(t, "RecordFailure", err)
		if n != want {
			t.Fatalf("RecordFailure = %d, want %d", n, want)
		}
	}
	n, last := failures(key)
	if n != 3 {
		t.Fatalf("Failures = %d, want 3", n)
	}
	durableSameTime(t, "latest failure", last, durableBase.Add(3*time.Minute))
	// A failure stamped earlier (a slower request committing last) counts but
	// does not move the latest failure back.
	n, err := s.RecordFailure(ctx, key, durableBase)
	durableOK(t, "RecordFailure earlier", err)
	if n != 4 {
		t.Fatalf("RecordFailure = %d, want 4", n)
	}
	_, last = failures(key)
	durableSameTime(t, "latest failure after an earlier one", last, durableBase.Add(3*time.Minute))
	// Keys are counted apart; a reset ends one run only.
	const other = "code:account:sms:u1"
	if n, err := s.RecordFailure(ctx, other, durableBase); err != nil || n != 1 {
		t.Fatalf("RecordFailure on another key = %d, %v; want 1", n, err)
	}
	durableOK(t, "ResetFailures", s.ResetFailures(ctx, key))
	if n, last := failures(key); n != 0 || !last.IsZero() {
		t.Fatalf("after reset: %d failures, latest %v; want 0 and the zero time", n, last)
	}
	if n, _ := failures(other); n != 1 {
		t.Fatalf("reset of one key changed another: %d failures, want 1", n)
	}
	// A run after a reset starts again at one.
	if n, err := s.RecordFailure(ctx, key, durableBase.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("RecordFailure after reset = %d, %v; want 1", n, err)
	}
}

func durableConsecutiveFailuresRace(t *testing.T, s store.Durable) {
	ctx := context.Background()
	const n = 50
	got := make([]int, n)
	errs := durableRace(n, func(i int) error {
		var err error
		got[i], err = s.RecordFailure(ctx, "code:dest:sms:+447700900123", durableBase.Add(time.Duration(i)*time.Second))
		return err
	})
	seen := make(map[int]bool)
	for i, err := range errs {
		durableOK(t, fmt.Sprintf("RecordFailure %d", i), err)
		if got[i] < 1 || got[i] > n || seen[got[i]] {
			t.Fatalf("RecordFailure results %v are not 1..%d each once", got, n)
		}
		seen[got[i]] = true
	}
	c, last, err := s.Failures(ctx, "code:dest:sms:+447700900123")
	durableOK(t, "Failures", err)
	if c != n {
		t.Fatalf("Failures after %d concurrent failures = %d", n, c)
	}
	durableSameTime(t, "latest of concurrent failures", last, durableBase.Add((n-1)*time.Second))
}

// BenchRotateRefreshToken measures RotateRefreshToken on s, serially and with
// parallel goroutines each rotating its own chain (as many users refreshing at
// once do). s must be migrated; the benchmark writes tokens into it.
func BenchRotateRefreshToken(b *testing.B, s store.Durable) {
	ctx := context.Background()
	var chains sync.Map // distinct chain names across sub-benchmarks and their runs
	newChain := func(b *testing.B, prefix string) func() {
		b.Helper()
		var n int
		for {
			if _, taken := chains.LoadOrStore(fmt.Sprintf("%s-%d", prefix, n), true); !taken {
				break
			}
			n++
		}
		family := fmt.Sprintf("%s-%d", prefix, n)
		cur := family + "-0"
		if err := s.CreateRefreshToken(ctx, durableRefresh(cur, family, "u1", "referral")); err != nil {
			b.Fatalf("CreateRefreshToken: %v", err)
		}
		i := 0
		return func() {
			i++
			next := durableRefresh(fmt.Sprintf("%s-%d", family, i), family, "u1", "referral")
			if err := s.RotateRefreshToken(ctx, cur, next, durableBase.Add(time.Duration(i)*time.Second)); err != nil {
				b.Errorf("RotateRefreshToken: %v", err)
			}
			cur = next.Hash
		}
	}
	b.Run("Serial", func(b *testing.B) {
		rotate := newChain(b, "serial")
		for b.Loop() {
			rotate()
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			rotate := newChain(b, "parallel")
			for pb.Next() {
				rotate()
			}
		})
	})
}

// BenchRefreshLookup measures what a refresh grant reads before it rotates: the
// token, then its account, against both in one read (RefreshTokenAndUser).
func BenchRefreshLookup(b *testing.B, s store.Durable) {
	ctx := context.Background()
	u := durableUser("bench-lookup-user", "bench-lookup@example.org")
	if err := s.CreateUser(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
		b.Fatalf("CreateUser: %v", err)
	}
	if err := s.CreateRefreshToken(ctx, durableRefresh("bench-lookup-hash", "bench-lookup-fam", u.ID, "referral")); err != nil && !errors.Is(err, store.ErrConflict) {
		b.Fatalf("CreateRefreshToken: %v", err)
	}
	b.Run("TokenThenUser", func(b *testing.B) {
		for b.Loop() {
			t, err := s.RefreshTokenByHash(ctx, "bench-lookup-hash")
			if err == nil {
				_, err = s.UserByID(ctx, t.UserID)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Joined", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.RefreshTokenAndUser(ctx, "bench-lookup-hash"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
