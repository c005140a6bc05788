package postgres_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/storetest"
)

// hangGuard is how long a call may take before the test calls it a hang: well above
// the store's bounds (StatementTimeout, ConnectTimeout), while without them the calls
// below would wait for ever.
const hangGuard = 20 * time.Second

func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("%s still waiting after %s", what, hangGuard)
		return nil
	}
}

// A statement that cannot proceed (here: a row another session holds locked, as
// behind a stalled primary) fails with an error once StatementTimeout has passed,
// for a single statement, a query read row by row, and inside a transaction; the
// store works again as soon as the lock goes.
func TestPostgresStatementsAreBounded(t *testing.T) {
	url := storetest.PostgresURL(t)
	s := openTestStore(t, url)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u := &store.User{ID: "u1", Email: "ada@example.org", Status: store.UserActive, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	locker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close(ctx)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every table the calls below touch, in ACCESS EXCLUSIVE mode: even reads wait.
	if _, err := tx.Exec(ctx, `LOCK TABLE users, clients IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	for _, call := range []struct {
		name string
		run  func() error
	}{
		{"QueryRow (RecordLoginFailure)", func() error { _, err := s.RecordLoginFailure(ctx, "u1"); return err }},
		{"Exec (LockUser)", func() error { return s.LockUser(ctx, "u1", now.Add(time.Hour)) }},
		{"Query (ListUsers)", func() error { _, err := s.ListUsers(ctx, "", 10); return err }},
		{"transaction (DeleteClient)", func() error { return s.DeleteClient(ctx, "no-such-client") }},
	} {
		err := within(t, call.name, call.run)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s behind a lock = %v, want a timeout error", call.name, err)
		}
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RecordLoginFailure(ctx, "u1"); err != nil || n != 1 {
		t.Errorf("after the lock went: RecordLoginFailure = %d, %v; want 1, nil", n, err)
	}
}

// A server that accepts the connection and never answers (a frozen host): Open gives
// up after ConnectTimeout instead of waiting for ever.
func TestPostgresOpenOnAFrozenServerGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	err = within(t, "Open", func() error {
		s, err := postgres.Open(context.Background(), "postgres://idp@"+ln.Addr().String()+"/idp?sslmode=disable")
		if err == nil {
			s.Close()
		}
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("Open on a server that never answers = %v, want a timeout", err)
	}
}
