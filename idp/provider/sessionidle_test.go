package provider

import (
	"context"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// Issue 16 item 5: besides the absolute IDP_SESSION_TTL, a session unused for
// IDP_SESSION_IDLE_TTL ends. Each use keeps it alive (recorded at most once a
// minute), but never past the absolute lifetime.
func TestSessionIdleTimeout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), func(c *Config) { c.SessionTTL, c.SessionIdleTTL = time.Hour, 10*time.Minute })
		e.signInAs(e.newUser(), time.Time{})
		b := e.browser()
		r := e.rp("formapp")
		key := func() string {
			u, _ := url.Parse(e.issuer)
			for _, c := range b.Jar.Cookies(u) {
				if c.Name == SessionCookie {
					return keySession + hashToken(c.Value)
				}
			}
			t.Fatal("no session cookie")
			return ""
		}
		version := func() int64 {
			t.Helper()
			_, v, err := e.st.eph.Get(context.Background(), key())
			if err != nil {
				t.Fatalf("session record: %v", err)
			}
			return v
		}
		logins := func(want int32) {
			t.Helper()
			if n := e.logins.Load(); n != want {
				t.Fatalf("the login page ran %d times, want %d", n, want)
			}
		}

		r.signIn(b, newFlow())
		logins(1)

		// Used within the idle timeout, again and again: single sign-on goes on
		// well past one idle period.
		for range 3 {
			e.clock.advance(8 * time.Minute)
			r.signIn(b, newFlow())
			logins(1)
		}
		// Uses less than a minute apart do not write the record.
		v := version()
		e.clock.advance(20 * time.Second)
		r.signIn(b, newFlow())
		if version() != v {
			t.Error("a use 20s after the last one rewrote the session record")
		}
		logins(1)

		// Left idle longer than the idle timeout: gone. prompt=none says so,
		// and the next /authorize asks for the sign-in again.
		e.clock.advance(10*time.Minute + time.Second)
		res := e.visit(b, r.authURL(newFlow(), oauth2.SetAuthURLParam("prompt", "none")))
		if res.param("error") != "login_required" {
			t.Fatalf("prompt=none after 10m idle: %v (status %d), want login_required", res.callback, res.status)
		}
		if _, ok := e.p.SessionUser(e.requestFrom(b)); ok {
			t.Error("SessionUser still finds the idle session")
		}
		r.signIn(b, newFlow())
		logins(2)

		// Used every 8 minutes, the new session still ends at its absolute
		// lifetime.
		for used := time.Duration(0); used < 56*time.Minute; used += 8 * time.Minute {
			e.clock.advance(8 * time.Minute)
			r.signIn(b, newFlow())
			logins(2)
		}
		e.clock.advance(5 * time.Minute) // 61 minutes after it started, 5 after its last use
		r.signIn(b, newFlow())
		logins(3)
	})
}
