package migrate_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/migrate"
	"github.com/councilforms/idp/idp/migrate/graphtest"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

// benchUsers is the tenant size of the import benchmarks (issue 17: 10,000 users
// from a file in under a minute).
const benchUsers = 10000

// benchImport reads a file of benchUsers Graph users (100-user pages, as Graph
// returns them) and imports it into the empty store open gives, once per
// iteration: the whole of `idp users import --from-b2c FILE` but flag parsing.
func benchImport(b *testing.B, open func(b *testing.B) store.Durable) {
	var file bytes.Buffer
	if err := graphtest.WritePages(&file, graphtest.Tenant(benchUsers), 100); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(file.Len()))
	for range b.N {
		b.StopTimer()
		db := open(b)
		b.StartTimer()
		recs, err := migrate.ReadB2C(bytes.NewReader(file.Bytes()), migrate.Rules{Now: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := (&migrate.Import{Accounts: db}).Run(context.Background(), "bench", recs)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Created != benchUsers {
			b.Fatalf("created %d, want %d", rep.Created, benchUsers)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchUsers/1e3, "µs/user")
}

func BenchmarkImport10000SQLite(b *testing.B) {
	benchImport(b, func(b *testing.B) store.Durable {
		s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "idp.db"))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	})
}

func BenchmarkImport10000Postgres(b *testing.B) {
	benchImport(b, func(b *testing.B) store.Durable {
		s, err := postgres.Open(context.Background(), storetest.PostgresURL(b))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			b.Fatal(err)
		}
		return s
	})
}
