package provider

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/storetest"
)

// redisServer is a throwaway redis-server of the test's own, so that the
// test can stop it without disturbing any other test.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedis starts redis-server on a free port, without persistence, and
// stops it when the test ends. Without redis-server the test is skipped, or
// fails when IDP_TEST_REQUIRE_SERVICES=1 (as in `make test`).
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("redis-server is not installed but IDP_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("redis-server is not installed")
	}
	s := &redisServer{t: t, port: storetest.FreePort(t), dir: t.TempDir()}
	s.start()
	t.Cleanup(func() {
		if s.cmd != nil {
			_ = s.cmd.Process.Signal(syscall.SIGCONT)
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

func (s *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// start runs redis-server (again, after shutdown) and waits until it answers.
func (s *redisServer) start() {
	s.t.Helper()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", "")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s.ping() {
			return
		}
	}
	s.t.Fatalf("redis-server on port %d did not answer", s.port)
}

func (s *redisServer) ping() bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// stall freezes the server (SIGSTOP): connections stay open, nothing answers.
func (s *redisServer) stall() { s.signal(syscall.SIGSTOP) }

// resume continues a stalled server (SIGCONT).
func (s *redisServer) resume() { s.signal(syscall.SIGCONT) }

// shutdown stops the server; everything it held is lost.
func (s *redisServer) shutdown() {
	s.t.Helper()
	s.signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *redisServer) signal(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal redis-server: %v", err)
	}
}

// postgresAndRedis is a PostgreSQL database of the test's own and the given
// Redis.
func postgresAndRedis(t *testing.T, rs *redisServer) stores {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, storetest.PostgresURL(t))
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("postgres migrate: %v", err)
	}
	eph, err := redis.Open(ctx, rs.url(), "idp:")
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
		break_, mend func(*redisServer)
	}{
		{"stalled", (*redisServer).stall, (*redisServer).resume},
		{"down", (*redisServer).shutdown, (*redisServer).start},
	} {
		t.Run(fault.name, func(t *testing.T) {
			rs := startRedis(t)
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
