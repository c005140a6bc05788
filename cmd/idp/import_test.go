package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/config"
	accountmigrate "github.com/councilforms/idp/idp/migrate"
	"github.com/councilforms/idp/idp/migrate/graphtest"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

// The generated tenant of the import tests: tenantSize users (graphtest.Tenant)
// with these changes.
const (
	tenantSize    = 300
	dupA, dupB    = 40, 41 // the same email, in another case
	noEmail       = 60     // a tenant administrator: no emailAddress identity
	foreign       = 80     // a French mobile only: imported without a phone
	officeOnly    = 81     // a mobile that is not a number, then a London office line
	localClash    = 120    // its email belongs to an account made here
	localClashID  = "local-1"
	changedLater  = 150 // renamed in B2C between two runs
	migratedLater = 151 // signs in here between two runs, then is renamed in B2C
	pageSize      = 100 // three pages
	localEmail    = "Person00120@Example.org"
)

func importTenant() []accountmigrate.GraphUser {
	users := graphtest.Tenant(tenantSize)
	users[dupB].Identities[0].IssuerAssignedID = strings.ToUpper(graphtest.Email(dupA))
	users[noEmail].Identities = users[noEmail].Identities[1:]
	users[foreign].PhoneMethods = []accountmigrate.PhoneMethod{{ID: "f", PhoneNumber: "+33 6 12 34 56 78", PhoneType: "mobile"}}
	users[officeOnly].PhoneMethods = []accountmigrate.PhoneMethod{
		{ID: "o", PhoneNumber: "+44 20 7123 4567", PhoneType: "office"},
		{ID: "m", PhoneNumber: "not a number", PhoneType: "mobile"},
	}
	return users
}

func writeTenant(t *testing.T, users []accountmigrate.GraphUser, jsonLines bool) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	if jsonLines {
		err = graphtest.WriteJSONLines(&b, users)
	} else {
		err = graphtest.WritePages(&b, users, pageSize)
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b2c-users.json")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importJSON runs an import with --json and decodes its report.
func importJSON(t *testing.T, vars map[string]string, wantCode int, args ...string) *accountmigrate.Report {
	t.Helper()
	code, out, errs := runCmd(t, vars, append([]string{"users", "import", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("import %v: exit %d, want %d\n%s%s", args, code, wantCode, out, errs)
	}
	var rep accountmigrate.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("import --json printed no report object: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("import --json printed more than one object:\n%s", out)
	}
	return &rep
}

type counts struct{ records, created, updated, unchanged, skipped, partly int }

func checkCounts(t *testing.T, what string, rep *accountmigrate.Report, want counts) {
	t.Helper()
	got := counts{rep.Records, rep.Created, rep.Updated, rep.Unchanged, rep.Skipped, rep.PartlyImported}
	if got != want {
		t.Errorf("%s: counts %+v, want %+v (problems %+v)", what, got, want, rep.Problems)
	}
}

// snapshot is every account and audit event of the database.
func snapshot(t *testing.T, open func() store.Durable) ([]*store.User, []*store.AuditEvent) {
	t.Helper()
	s := open()
	defer s.Close()
	us, err := s.ListUsers(context.Background(), "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.ListAudit(context.Background(), "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	return us, es
}

// checkB2CImport is the whole story of an import from a file on one database.
func checkB2CImport(t *testing.T, vars map[string]string, open func() store.Durable) {
	ctx := context.Background()
	s := open()
	local := &store.User{ID: localClashID, Email: localEmail, EmailVerified: true, GivenName: "Made", FamilyName: "Here",
		PasswordHash: fakeHash, Status: store.UserActive, CreatedAt: time.Now().Add(-time.Hour), UpdatedAt: time.Now().Add(-time.Hour)}
	if err := s.CreateUser(ctx, local); err != nil {
		t.Fatal(err)
	}
	s.Close()
	users := importTenant()
	file := writeTenant(t, users, false)
	// 300 records: 4 skipped (a duplicate pair, no email, an account made here), 1 without its phone.
	want := counts{records: tenantSize, created: tenantSize - 4, skipped: 4, partly: 1}

	// --dry-run reports what a run would do and changes nothing.
	usersBefore, auditBefore := snapshot(t, open)
	rep := importJSON(t, vars, 0, "--from-b2c", file, "--dry-run")
	if !rep.DryRun {
		t.Error("dry run report says dry_run false")
	}
	checkCounts(t, "dry run", rep, want)
	if u, a := snapshot(t, open); !reflect.DeepEqual(u, usersBefore) || len(a) != len(auditBefore) {
		t.Fatalf("--dry-run changed the database: %d accounts, %d audit events (before %d, %d)", len(u), len(a), len(usersBefore), len(auditBefore))
	}

	rep = importJSON(t, vars, 0, "--from-b2c", file)
	checkCounts(t, "first run", rep, want)
	type problem struct {
		where, id string
		reason    accountmigrate.Reason
		skipped   bool
	}
	var got []problem
	for _, p := range rep.Problems {
		got = append(got, problem{p.Where, p.SourceID, p.Reason, p.Skipped})
	}
	wantProblems := []problem{
		{"page 1 value[40]", graphtest.ObjectID(dupA), accountmigrate.ReasonDuplicateEmail, true},
		{"page 1 value[41]", graphtest.ObjectID(dupB), accountmigrate.ReasonDuplicateEmail, true},
		{"page 1 value[60]", graphtest.ObjectID(noEmail), accountmigrate.ReasonNoEmail, true},
		{"page 1 value[80]", graphtest.ObjectID(foreign), accountmigrate.ReasonPhoneLeftOut, false},
		{"page 2 value[20]", graphtest.ObjectID(localClash), accountmigrate.ReasonExists, true},
	}
	if !slices.Equal(got, wantProblems) {
		t.Errorf("problems:\n%+v\nwant\n%+v", got, wantProblems)
	}
	for _, p := range rep.Problems {
		if p.Reason == accountmigrate.ReasonPhoneLeftOut && (!strings.Contains(p.Detail, "outside IDP_PHONE_COUNTRIES") || strings.Contains(p.Detail, "12 34 56 78")) {
			t.Errorf("phone left out detail %q: want the reason, and the number masked", p.Detail)
		}
	}

	s = open()
	check := func(i int, wantPhone, wantType string, wantStatus store.UserStatus) {
		t.Helper()
		u, err := s.UserByID(ctx, graphtest.ObjectID(i))
		if err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		if u.Email != graphtest.Email(i) || !u.EmailVerified || u.GivenName != *users[i].GivenName || u.FamilyName != *users[i].Surname ||
			u.Phone != wantPhone || u.PhoneType != wantType || u.PhoneVerified != (wantPhone != "") || u.Status != wantStatus ||
			u.ImportedFrom != store.ImportedB2C || !u.MigratedAt.IsZero() || u.PasswordHash != "" ||
			!u.CreatedAt.Equal(graphtest.Created.Add(time.Duration(i)*time.Hour)) || !u.AwaitingMigration() {
			t.Errorf("user %d stored as %+v", i, u)
		}
	}
	for i := range 4 { // the three ways B2C writes a mobile, and none
		wantPhone, wantType := graphtest.Mobile(i), "mobile"
		if i == 3 {
			wantPhone, wantType = "", ""
		}
		check(i, wantPhone, wantType, store.UserActive)
	}
	check(7, "", "", store.UserDisabled)
	check(10, graphtest.Mobile(10), "mobile", store.UserActive) // "07400 nnnnnn"
	check(foreign, "", "", store.UserActive)
	check(officeOnly, "+442071234567", "landline", store.UserActive)
	for _, i := range []int{dupA, dupB, noEmail} {
		if _, err := s.UserByID(ctx, graphtest.ObjectID(i)); err == nil {
			t.Errorf("skipped user %d was created", i)
		}
	}
	if u, err := s.UserByEmail(ctx, localEmail); err != nil || u.ID != localClashID || u.PasswordHash != fakeHash || u.GivenName != "Made" {
		t.Errorf("the account made here: %+v %v", u, err)
	}
	es, err := s.ListAudit(ctx, graphtest.ObjectID(5), 10)
	if err != nil || len(es) != 1 || es[0].Kind != "user.imported" || !strings.Contains(es[0].Detail, graphtest.ObjectID(5)) {
		t.Errorf("audit of an imported account: %+v %v", es, err)
	}
	s.Close()

	// A second run changes nothing.
	usersAfter, auditAfter := snapshot(t, open)
	rep = importJSON(t, vars, 0, "--from-b2c", file)
	checkCounts(t, "second run", rep, counts{records: tenantSize, unchanged: tenantSize - 4, skipped: 4, partly: 1})
	if u, a := snapshot(t, open); !reflect.DeepEqual(u, usersAfter) || len(a) != len(auditAfter) {
		t.Errorf("a second run changed the database")
	}

	// One person signs in here (migrated); then both they and another are renamed
	// and disabled in B2C: only the one not yet migrated follows.
	s = open()
	m, err := s.UserByID(ctx, graphtest.ObjectID(migratedLater))
	if err != nil {
		t.Fatal(err)
	}
	m.PasswordHash, m.MigratedAt, m.UpdatedAt = fakeHash, time.Now(), time.Now()
	if err := s.UpdateUser(ctx, m); err != nil {
		t.Fatal(err)
	}
	m, _ = s.UserByID(ctx, m.ID)
	s.Close()
	for _, i := range []int{changedLater, migratedLater} {
		renamed := "Renamed"
		users[i].GivenName = &renamed
		users[i].AccountEnabled = new(bool)
	}
	rep = importJSON(t, vars, 0, "--from-b2c", writeTenant(t, users, true)) // JSON Lines this time
	checkCounts(t, "after changes in B2C", rep, counts{records: tenantSize, updated: 1, unchanged: tenantSize - 6, skipped: 5, partly: 1})
	s = open()
	if u, _ := s.UserByID(ctx, graphtest.ObjectID(changedLater)); u.GivenName != "Renamed" || u.Status != store.UserDisabled || u.Phone != graphtest.Mobile(changedLater) {
		t.Errorf("renamed account not yet migrated: %+v", u)
	}
	if u, _ := s.UserByID(ctx, m.ID); !reflect.DeepEqual(u, m) {
		t.Errorf("a migrated account was changed by the import:\n%+v\nwant\n%+v", u, m)
	}
	s.Close()
	var lines []string
	for _, p := range rep.Problems {
		lines = append(lines, p.Where)
	}
	if !slices.Contains(lines, "line 152") || !slices.Contains(lines, "line 41") {
		t.Errorf("JSON Lines positions %v, want line numbers (line 152 for the migrated account)", lines)
	}

	// list and show tell imported, not yet signed in, from migrated.
	code, out, _ := runCmd(t, vars, "users", "list", "--search", "person0015")
	if code != 0 || !strings.Contains(out, "imported, not yet signed in") || !strings.Contains(out, "migrated") {
		t.Errorf("users list:\n%s", out)
	}
	code, out, _ = runCmd(t, vars, "users", "show", graphtest.Email(migratedLater))
	if code != 0 || !strings.Contains(out, "migrated (from Azure AD B2C") {
		t.Errorf("users show of a migrated account:\n%s", out)
	}
	// A helpdesk change to an account not yet migrated warns that an import undoes it.
	code, _, errs := runCmd(t, vars, "users", "reset-phone", graphtest.Email(0))
	if code != 0 || !strings.Contains(errs, "has not signed in here yet: another import would bring the phone back") {
		t.Errorf("reset-phone of an account not yet migrated: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, vars, "users", "disable", graphtest.Email(migratedLater)); code != 0 || strings.Contains(errs, "warning") {
		t.Errorf("disable of a migrated account warns: %q", errs)
	}
}

func TestImportB2CSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + path}
	checkB2CImport(t, vars, func() store.Durable {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestImportB2CPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	vars := map[string]string{"IDP_DATABASE_URL": url, "IDP_KEY_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}
	open := func() store.Durable {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	checkB2CImport(t, vars, open)
}

// An unreadable record fails the run (exit 1) after the others are imported; a
// file that is not a Graph export imports nothing; bad usage changes nothing.
func TestImportFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + path}
	var b bytes.Buffer
	if err := graphtest.WriteJSONLines(&b, graphtest.Tenant(3)); err != nil {
		t.Fatal(err)
	}
	b.WriteString("{\"id\": \"x\", \"createdDateTime\": \"yesterday\"}\n{not json\n")
	file := filepath.Join(dir, "users.jsonl")
	os.WriteFile(file, b.Bytes(), 0o600)
	rep := importJSON(t, vars, 1, "--from-b2c", file)
	checkCounts(t, "unreadable records", rep, counts{records: 5, created: 3, skipped: 2})
	if len(rep.Problems) != 2 || rep.Problems[0].Where != "line 4" || rep.Problems[1].Where != "line 5" ||
		rep.Problems[0].Reason != accountmigrate.ReasonUnreadable || !strings.Contains(rep.Error, "2 records could not be read") {
		t.Errorf("report of unreadable records: %+v", rep)
	}
	code, out, errs := runCmd(t, vars, "users", "import", "--from-b2c", file)
	if code != 1 || !strings.Contains(out, "unchanged:") || !strings.Contains(out, "line 5") || strings.Count(errs, "\n") != 1 {
		t.Errorf("text report of a failed run: %d\n%s%s", code, out, errs)
	}

	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"value": [{"id": "a"}]} [1, 2]`), 0o600)
	rep = importJSON(t, vars, 1, "--from-b2c", bad)
	if rep.Created != 0 || !strings.Contains(rep.Error, "nothing was imported") {
		t.Errorf("bad file: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing exists")
	}
	importJSON(t, vars, 1, "--from-b2c", filepath.Join(dir, "missing"))

	for _, args := range [][]string{
		{"users", "import"},
		{"users", "import", "--from-b2c", file, "--from-export", file},
		{"users", "import", "--from-b2c", file, "extra"},
		{"users", "export", "--format", "csv"},
	} {
		if code, out, errs := runCmd(t, vars, args...); code != 2 || out != "" || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d %q %q, want usage error", args, code, out, errs)
		}
	}
}

// An export read into another instance keeps each account's sub, names, email and
// phone, never a secret, and marks the accounts imported from an export.
func TestExportImport(t *testing.T) {
	dir := t.TempDir()
	from := map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "a.db")}
	to := map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "b.db")}
	file := writeTenant(t, graphtest.Tenant(20), false)
	importJSON(t, from, 0, "--from-b2c", file)
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	signedIn := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	u, _ := s.UserByID(context.Background(), graphtest.ObjectID(1))
	u.PasswordHash, u.MigratedAt = fakeHash, signedIn
	s.UpdateUser(context.Background(), u)
	s.RecordSignIn(context.Background(), u.ID, signedIn)
	s.Close()

	code, out, errs := runCmd(t, from, "users", "export")
	if code != 0 || strings.Count(out, "\n") != 20 {
		t.Fatalf("export: %d %q\n%s", code, errs, out)
	}
	for _, secret := range []string{"argon2", "password", "failed"} {
		if strings.Contains(out, secret) {
			t.Errorf("export holds %q", secret)
		}
	}
	var first map[string]any
	json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first)
	var keys []string
	for k := range first {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"created_at", "email", "family_name", "given_name", "last_sign_in_at", "phone_number", "phone_type", "state", "sub"}; !slices.Equal(keys, want) {
		t.Errorf("export keys %v, want %v", keys, want)
	}
	if !strings.Contains(out, `"last_sign_in_at":"2026-11-30T08:00:00Z"`) || !strings.Contains(out, `"state":"disabled"`) {
		t.Errorf("export lacks the sign-in time or a disabled state:\n%s", out)
	}
	exported := filepath.Join(dir, "export.jsonl")
	os.WriteFile(exported, []byte(out), 0o600)
	rep := importJSON(t, to, 0, "--from-export", exported)
	checkCounts(t, "import of an export", rep, counts{records: 20, created: 20})
	rep = importJSON(t, to, 0, "--from-export", exported)
	checkCounts(t, "import of an export again", rep, counts{records: 20, unchanged: 20})

	s, err = sqlite.Open(context.Background(), filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 20 {
		u, err := s.UserByID(context.Background(), graphtest.ObjectID(i))
		if err != nil {
			t.Fatal(err)
		}
		wantPhone := graphtest.Mobile(i)
		if i%4 == 3 {
			wantPhone = ""
		}
		if u.Email != graphtest.Email(i) || u.GivenName != fmt.Sprintf("Given%d", i) || u.Phone != wantPhone ||
			u.ImportedFrom != store.ImportedExport || u.PasswordHash != "" || !u.MigratedAt.IsZero() || !u.LastSignInAt.IsZero() ||
			!u.CreatedAt.Equal(graphtest.Created.Add(time.Duration(i)*time.Hour)) || (u.Status == store.UserDisabled) != (i%10 == 7) {
			t.Errorf("account %d after export and import: %+v", i, u)
		}
	}
}

// --from-graph imports the same tenant from a strict fake of Microsoft Graph,
// waiting out its 429s; --save writes a file that imports to the same accounts.
func TestImportFromGraph(t *testing.T) {
	dir := t.TempDir()
	fake := &graphtest.Graph{Tenant: graphtest.TenantDomain, ClientID: "app-1", ClientSecret: "s3cret~value",
		Users: importTenant(), PageSize: pageSize, ThrottleEvery: 120, RetryAfter: 1}
	srv := fake.Start()
	defer srv.Close()
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + filepath.Join(dir, "idp.db"),
		"IDP_B2C_TENANT": fake.Tenant, "IDP_B2C_GRAPH_CLIENT_ID": fake.ClientID, "IDP_B2C_GRAPH_CLIENT_SECRET": fake.ClientSecret,
		"IDP_B2C_AUTHORITY_URL": srv.URL, "IDP_B2C_GRAPH_URL": srv.URL}

	wrong := maps.Clone(vars)
	wrong["IDP_B2C_GRAPH_CLIENT_SECRET"] = "not-the-secret"
	rep := importJSON(t, wrong, 1, "--from-graph")
	if !strings.Contains(rep.Error, "AADSTS7000215") || rep.Created != 0 {
		t.Errorf("wrong secret: %+v", rep)
	}
	for k, v := range map[string]string{"IDP_B2C_GRAPH_CLIENT_SECRET": "", "IDP_B2C_GRAPH_URL": "http://graph.example.org"} {
		bad := maps.Clone(vars)
		bad[k] = v
		if code, out, errs := runCmd(t, bad, "users", "import", "--from-graph"); code != 2 || out != "" || !strings.Contains(errs, k) {
			t.Errorf("%s=%q: exit %d %q %q, want a usage error naming it", k, v, code, out, errs)
		}
	}

	saved := filepath.Join(dir, "saved.json")
	rep = importJSON(t, vars, 0, "--from-graph", "--save", saved)
	checkCounts(t, "from Graph", rep, counts{records: tenantSize, created: tenantSize - 3, skipped: 3, partly: 1})
	if _, throttled, _, _ := fake.Stats(); throttled == 0 {
		t.Error("the fake never throttled")
	}
	if len(rep.Problems) == 0 || rep.Problems[0].Where != "page 1 value[40]" {
		t.Errorf("problems %+v", rep.Problems)
	}
	if st, err := os.Stat(saved); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v %v", st, err)
	}
	rep = importJSON(t, vars, 0, "--from-b2c", saved)
	checkCounts(t, "the saved file", rep, counts{records: tenantSize, unchanged: tenantSize - 3, skipped: 3, partly: 1})
}

// The settings table's defaults for the Graph base URLs are Microsoft's, the
// ones the Graph client documents.
func TestGraphBaseURLDefaults(t *testing.T) {
	cfg, err := config.LoadAdmin(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.B2CAuthorityURL != accountmigrate.DefaultAuthorityURL || cfg.B2CGraphURL != accountmigrate.DefaultGraphURL {
		t.Errorf("defaults %q %q, want %q %q", cfg.B2CAuthorityURL, cfg.B2CGraphURL, accountmigrate.DefaultAuthorityURL, accountmigrate.DefaultGraphURL)
	}
}
