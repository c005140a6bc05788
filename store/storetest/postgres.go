package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresURL returns the URL of a new, empty PostgreSQL database that only the
// calling test uses, and drops the database (closing any connections still
// open to it) when the test ends. The database is created through the admin
// URL in IDP_TEST_POSTGRES_URL, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. Without it the
// test is skipped, or fails when IDP_TEST_REQUIRE_SERVICES=1 (as in CI, which
// must never skip silently).
//
// The database is not migrated: open a store on it and call Migrate.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("IDP_TEST_POSTGRES_URL")
	if admin == "" {
		if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("IDP_TEST_POSTGRES_URL is not set but IDP_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("IDP_TEST_POSTGRES_URL not set")
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatal("IDP_TEST_POSTGRES_URL must be a postgres:// URL")
	}

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random database name: %v", err)
	}
	name := "idp_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := postgresAdminExec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := postgresAdminExec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String()
}

// postgresAdminExec runs one statement on its own connection to the admin URL.
// CREATE DATABASE copies template1 and fails (SQLSTATE 55006) while another
// session is connected to it, as happens when test packages run in parallel:
// that is retried for a while.
func postgresAdminExec(ctx context.Context, admin, sql string) error {
	for {
		err := func() error {
			conn, err := pgx.Connect(ctx, admin)
			if err != nil {
				return err
			}
			defer conn.Close(context.WithoutCancel(ctx))
			_, err = conn.Exec(ctx, sql)
			return err
		}()
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
