package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

func openTestStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteContract(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) store.Durable {
		s := openTestStore(t, filepath.Join(t.TempDir(), "idp.db"))
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return s
	})
}

// Open makes missing parent directories, as embedded mode points it at ./data.
func TestSQLiteOpenCreatesDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "idp.db")
	s := openTestStore(t, path)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// Several processes starting at once each migrate the same file: every Migrate
// succeeds and the schema is applied once.
func TestSQLiteConcurrentMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.db")
	const n = 4
	stores := make([]*sqlite.Store, n)
	for i := range stores {
		stores[i] = openTestStore(t, path)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Migrate(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Migrate %d: %v", i, err)
		}
	}
	// Every store sees the same schema: a user written through one is read through another.
	ctx := context.Background()
	u := &store.User{ID: "u1", Email: "ada@example.org", Status: store.UserActive}
	if err := stores[0].CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := stores[n-1].UserByEmail(ctx, "ADA@example.org"); err != nil {
		t.Fatalf("UserByEmail through another store: %v", err)
	}
}

func TestSQLiteOpenRejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "idp.db?mode=ro"} {
		if s, err := sqlite.Open(context.Background(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// Two stores on one file stand for two processes: their write connections
// contend for the file lock, and rotation must still let exactly one through.
func TestSQLiteTwoStoresRotateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.db")
	a, b := openTestStore(t, path), openTestStore(t, path)
	ctx := context.Background()
	if err := a.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	stores := []*sqlite.Store{a, b}
	now := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	for round := 0; round < 20; round++ {
		old := fmt.Sprintf("r%d", round)
		if err := a.CreateRefreshToken(ctx, &store.RefreshToken{Hash: old, FamilyID: old, ClientID: "c", UserID: "u",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour), IdleExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("CreateRefreshToken: %v", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.RotateRefreshToken(ctx, old, &store.RefreshToken{Hash: fmt.Sprintf("%s-next-%d", old, i),
					FamilyID: old, ClientID: "c", UserID: "u", CreatedAt: now}, now)
			}()
		}
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case errors.Is(err, store.ErrConflict):
			default:
				t.Fatalf("round %d: store %d: %v, want nil or ErrConflict", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d rotations succeeded, want 1", round, won)
		}
	}
}

func BenchmarkSQLiteRotateRefreshToken(b *testing.B) {
	s := openTestStore(b, filepath.Join(b.TempDir(), "idp.db"))
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatalf("Migrate: %v", err)
	}
	storetest.BenchRotateRefreshToken(b, s)
}

// Two stores on one file stand for two server processes claiming from the outbox.
func TestSQLiteTwoStoresOutboxClaimRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.db")
	a, b := openTestStore(t, path), openTestStore(t, path)
	if err := a.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.OutboxClaimRace(t, a, []store.Outbox{a, b, a, b})
}

// The database holds password hashes, sealed signing keys and the audit log: its
// file and the WAL and shared-memory files beside it are readable by the owner only
// (security review finding 18: idp.db was created 0644), whatever the umask.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "idp.db")
	s := openTestStore(t, path)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", filepath.Base(f), fi.Mode().Perm())
		}
	}
}
