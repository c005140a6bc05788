package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/storetest"
)

func openTestStore(t testing.TB, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresContract(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T) store.Durable {
		s := openTestStore(t, storetest.PostgresURL(t))
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		return s
	})
}

// Several processes starting at once each migrate the same database: every
// Migrate succeeds and the schema is applied once.
func TestPostgresConcurrentMigrate(t *testing.T) {
	url := storetest.PostgresURL(t)
	const n = 4
	stores := make([]*postgres.Store, n)
	for i := range stores {
		stores[i] = openTestStore(t, url)
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
	ctx := context.Background()
	u := &store.User{ID: "u1", Email: "ada@example.org", Status: store.UserActive}
	if err := stores[0].CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := stores[n-1].UserByEmail(ctx, "ADA@example.org"); err != nil {
		t.Fatalf("UserByEmail through another store: %v", err)
	}
}

func TestPostgresOpenUnreachable(t *testing.T) {
	// Port 1 on loopback has no server: Open must fail rather than return a dead store.
	s, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	if err == nil {
		s.Close()
		t.Fatal("Open on a closed port succeeded")
	}
}

func BenchmarkPostgresRotateRefreshToken(b *testing.B) {
	s := openTestStore(b, storetest.PostgresURL(b))
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatalf("Migrate: %v", err)
	}
	storetest.BenchRotateRefreshToken(b, s)
}

func BenchmarkPostgresRefreshLookup(b *testing.B) {
	s := openTestStore(b, storetest.PostgresURL(b))
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatalf("Migrate: %v", err)
	}
	storetest.BenchRefreshLookup(b, s)
}

// Two stores (two pools) on one database stand for two server processes claiming
// from the outbox.
func TestPostgresTwoStoresOutboxClaimRace(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := openTestStore(t, url), openTestStore(t, url)
	if err := a.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	storetest.OutboxClaimRace(t, a, []store.Outbox{a, b, a, b})
}
