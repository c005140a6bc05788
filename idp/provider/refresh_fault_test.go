package provider

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/storetest"
)

// postgresAndRedis is a PostgreSQL database of the test's own and the given
// Redis.
func postgresAndRedis(t *testing.T, rs *storetest.RedisServer) stores {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, storetest.PostgresURL(t))
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("postgres migrate: %v", err)
	}
	eph, err := redis.Open(ctx, rs.URL(), "idp:")
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(func() { eph.Close(); db.Close() })
	return stores{db: db, eph: eph}
}

// A refresh grant that fails because Redis is down or stalled leaves the
// form app holding the token it presented. Once Redis is back, presenting
// that same token again must work, however long the outage lasted: the
// family is not revoked and no theft alarm (refresh.reuse) is raised.
func TestRefreshSurvivesRedisOutage(t *testing.T) {
	for _, fault := range []struct {
		name         string
		break_, mend func(*storetest.RedisServer)
	}{
		{"stalled", (*storetest.RedisServer).Pause, (*storetest.RedisServer).Resume},
		{"down", (*storetest.RedisServer).Stop, (*storetest.RedisServer).Start},
	} {
		t.Run(fault.name, func(t *testing.T) {
			rs := storetest.StartRedis(t)
			e := newEnv(t, postgresAndRedis(t, rs), nil)
			u := e.newUser()
			e.signInAs(u, time.Time{})
			r := e.rp("formapp")
			f := newFlow()
			tok := r.mustExchange(r.signIn(e.browser(), f), f)

			fault.break_(rs)
			_, err := r.refresh(tok.raw.RefreshToken)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response.StatusCode < 500 || re.ErrorCode != "server_error" {
				fault.mend(rs)
				t.Fatalf("refresh with Redis %s: err %v, want a 5xx server_error the form app can retry", fault.name, err)
			}
			fault.mend(rs)

			// The outage outlasted any grace for retries.
			e.clock.advance(5 * time.Minute)
			next, err := r.refresh(tok.raw.RefreshToken)
			if err != nil {
				t.Fatalf("the same refresh token once Redis is back: %v, want new tokens", err)
			}
			if _, err := r.verify(next, ""); err != nil {
				t.Fatalf("ID token of the retried refresh: %v", err)
			}
			if _, err := r.userinfo(next.AccessToken); err != nil {
				t.Errorf("userinfo with the retried refresh's access token: %v", err)
			}
			if _, err := r.refresh(next.RefreshToken); err != nil {
				t.Errorf("the next refresh token: %v (the family was revoked?)", err)
			}
			events, err := e.st.db.ListAudit(context.Background(), u.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if ev.Kind == "refresh.reuse" {
					t.Errorf("audit has a false theft alarm: %+v", ev)
				}
			}
		})
	}
}
