package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/migrate"
	"github.com/councilforms/idp/idp/migrate/graphtest"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
)

func openSQLite(t *testing.T) store.Durable {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idp.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func tenantRecords(t *testing.T, users []migrate.GraphUser) []migrate.Record {
	t.Helper()
	var b bytes.Buffer
	if err := graphtest.WriteJSONLines(&b, users); err != nil {
		t.Fatal(err)
	}
	recs, err := migrate.ReadB2C(&b, migrate.Rules{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Every record sharing an id or an email (in any case) with another is skipped,
// and names the others.
func TestImportDuplicates(t *testing.T) {
	users := graphtest.Tenant(10)
	users[4].ID = users[2].ID
	users[6].Identities[0].IssuerAssignedID = strings.ToUpper(graphtest.Email(5))
	users[7].Identities[0].IssuerAssignedID = graphtest.Email(5)
	rep, err := (&migrate.Import{Accounts: openSQLite(t)}).Run(context.Background(), "test", tenantRecords(t, users))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 5 || rep.Skipped != 5 {
		t.Fatalf("created %d, skipped %d; problems %+v", rep.Created, rep.Skipped, rep.Problems)
	}
	want := map[string]migrate.Reason{"line 3": migrate.ReasonDuplicateID, "line 5": migrate.ReasonDuplicateID,
		"line 6": migrate.ReasonDuplicateEmail, "line 7": migrate.ReasonDuplicateEmail, "line 8": migrate.ReasonDuplicateEmail}
	for _, p := range rep.Problems {
		if want[p.Where] != p.Reason {
			t.Errorf("%s: %s, want %s", p.Where, p.Reason, want[p.Where])
		}
	}
	if d := rep.Problems[2].Detail; !strings.Contains(d, "line 7") || !strings.Contains(d, "line 8") {
		t.Errorf("detail %q does not name the others", d)
	}
}

// failingAccounts fails the write of its nth batch.
type failingAccounts struct {
	store.Durable
	n, calls int
}

func (f *failingAccounts) ImportUsers(ctx context.Context, batch []*store.User, now time.Time) ([]store.ImportOutcome, error) {
	f.calls++
	if f.calls == f.n {
		return nil, errors.New("disk full")
	}
	return f.Durable.ImportUsers(ctx, batch, now)
}

// A failed write stops the run with the report of what the earlier batches did;
// running it again resumes.
func TestImportFailedWriteResumes(t *testing.T) {
	db := openSQLite(t)
	recs := tenantRecords(t, graphtest.Tenant(25))
	rep, err := (&migrate.Import{Accounts: &failingAccounts{Durable: db, n: 3}, BatchSize: 10}).Run(context.Background(), "test", recs)
	if !errors.Is(err, migrate.ErrIncomplete) || rep.Created != 20 || !strings.Contains(rep.Error, "line 21 to line 25") ||
		!strings.Contains(rep.Error, "disk full") {
		t.Fatalf("failed run: %v; %+v", err, rep)
	}
	rep, err = (&migrate.Import{Accounts: db, BatchSize: 10}).Run(context.Background(), "test", recs)
	if err != nil || rep.Created != 5 || rep.Unchanged != 20 {
		t.Fatalf("resumed run: %v; %+v", err, rep)
	}
}
