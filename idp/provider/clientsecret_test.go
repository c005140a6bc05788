package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"golang.org/x/oauth2"
)

// tokenAttempt is one client-authenticated POST to an endpoint, as a
// guesser (or a form app) sends it.
type tokenAttempt struct {
	status     int
	retryAfter string
	body       map[string]any
}

func (e *env) tryClient(path, clientID, secret, xff string) tokenAttempt {
	e.t.Helper()
	// A refresh grant checks the client before the token (a code grant
	// looks the code up first), so a guesser needs no real token.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}, "token": {"not-a-token"}}
	req, _ := http.NewRequest(http.MethodPost, e.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := tokenAttempt{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: map[string]any{}}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// throttled checks a refusal is the documented 429 and returns Retry-After.
func throttled(t *testing.T, a tokenAttempt) int {
	t.Helper()
	if a.status != http.StatusTooManyRequests || a.body["error"] != "invalid_client" {
		t.Fatalf("got %d %v, want 429 invalid_client", a.status, a.body)
	}
	secs, err := strconv.Atoi(a.retryAfter)
	if err != nil || secs <= 0 {
		t.Fatalf("Retry-After %q, want a positive number of seconds", a.retryAfter)
	}
	want := "Too many failed attempts; try again in " + a.retryAfter + " seconds"
	if a.body["error_description"] != want {
		t.Fatalf("error_description %q, want %q", a.body["error_description"], want)
	}
	return secs
}

// A guesser at the token endpoint is refused after the per-client threshold,
// before any secret is checked; the right secret is refused as well until
// the window has passed; another client is not affected.
func TestClientSecretGuessingIsThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		const perClient = 10
		for i := range perClient {
			if a := e.tryClient("/oauth/token", "formapp", "guess-"+strconv.Itoa(i), ""); a.status != http.StatusUnauthorized || a.body["error"] != "invalid_client" {
				t.Fatalf("guess %d: %d %v, want 401 invalid_client", i+1, a.status, a.body)
			}
		}
		secs := throttled(t, e.tryClient("/oauth/token", "formapp", "guess-next", ""))
		if secs > int((10 * time.Minute).Seconds()) {
			t.Fatalf("Retry-After %d s is longer than the window", secs)
		}
		// The lock holds for the right secret too, at every endpoint that
		// authenticates clients.
		for _, path := range []string{"/oauth/token", "/oauth/introspect", "/revoke"} {
			throttled(t, e.tryClient(path, "formapp", e.secrets["formapp"], ""))
		}

		// Another client from the same address signs in as usual.
		e.signInAs(e.newUser(), time.Time{})
		other := e.rp("other")
		f := newFlow()
		other.mustExchange(other.signIn(e.browser(), f), f)

		// Once the window has passed the right secret works again: the
		// request gets past client authentication to the bogus token.
		e.clock.advance(time.Duration(secs+1) * time.Second)
		if a := e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], ""); a.status != http.StatusBadRequest || a.body["error"] != "invalid_grant" {
			t.Fatalf("right secret after the window: %d %v, want 400 invalid_grant", a.status, a.body)
		}
		r := e.rp("formapp")
		f = newFlow()
		r.mustExchange(r.signIn(e.browser(), f), f)
	})
}

// Guesses count at every endpoint that checks a secret, and from one
// network across client ids: past the per-network budget that network is
// refused for any client, while another network, even another /64 next to
// it, is not. Made-up client ids have no secret to guess and are not
// counted. The counters are in the durable store: a fresh ephemeral store
// (a Redis flush) changes nothing.
func TestClientSecretGuessingPerNetwork(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), func(c *Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
		})
		rule := limits.ClientSecrets()
		const attacker = "2001:db8:1:2::10"
		paths := []string{"/oauth/token", "/oauth/introspect", "/revoke"}
		for i := range 2 * rule.PerNetwork {
			if a := e.tryClient(paths[1+i%2], "no-such-client-"+strconv.Itoa(i), "guess", attacker); a.status != http.StatusUnauthorized {
				t.Fatalf("made-up client id %d: %d %v, want 401", i, a.status, a.body)
			}
		}
		// Fewer guesses than PerClient at each of several real clients.
		var targets []string
		for i := range rule.PerNetwork/(rule.PerClient-1) + 1 {
			id := "form-" + strconv.Itoa(i)
			if _, err := AddClient(context.Background(), e.st.db, e.clientSecrets(), NewClient{ID: id, Name: "Form " + id,
				RedirectURIs: []string{"https://" + rpHost + "/" + id + "/callback"}}, time.Now()); err != nil {
				t.Fatal(err)
			}
			targets = append(targets, id)
		}
		for i := range rule.PerNetwork {
			id, path := targets[i/(rule.PerClient-1)], paths[i%len(paths)]
			a := e.tryClient(path, id, "guess", attacker)
			if a.status == http.StatusTooManyRequests || a.status < 400 {
				t.Fatalf("guess %d (%s at %s): %d %v, want a plain refusal", i+1, id, path, a.status, a.body)
			}
		}
		// The same /64, another address: refused, even with a right secret.
		throttled(t, e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], "2001:db8:1:2::99"))
		// The next /64 and an IPv4 address are not affected.
		for _, from := range []string{"2001:db8:1:3::10", "192.0.2.7"} {
			if a := e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], from); a.status != http.StatusBadRequest || a.body["error"] != "invalid_grant" {
				t.Fatalf("right secret from %s: %d %v, want 400 invalid_grant", from, a.status, a.body)
			}
		}
		// Each real client was guessed at fewer times than its own budget:
		// from elsewhere it still works.
		if a := e.tryClient("/oauth/introspect", targets[0], "", "192.0.2.8"); a.status != http.StatusUnauthorized {
			t.Fatalf("%s from another network, wrong secret: %d %v, want 401", targets[0], a.status, a.body)
		}
		if a := e.tryClient("/oauth/introspect", "other", e.secrets["other"], "192.0.2.8"); a.status != http.StatusOK {
			t.Fatalf("other from another network: %d %v", a.status, a.body)
		}

		// Another instance with an empty ephemeral store sees the same counts.
		fresh, err := newProvider(e.cfg, e.st.db, memory.New(), slog.New(slog.NewTextHandler(io.Discard, nil)), e.clock.now)
		if err != nil {
			t.Fatal(err)
		}
		e.pick = func(*http.Request) *Provider { return fresh }
		throttled(t, e.tryClient("/revoke", "other", e.secrets["other"], attacker))
	})
}

// A guesser who locks a client id does not lock out the form app itself:
// a network where the client has authenticated before has its own budget.
// A new network is refused like the guesser.
func TestClientSecretLockDoesNotStopAKnownNetwork(t *testing.T) {
	e := newEnv(t, memorySQLite(t), func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	})
	rule := limits.ClientSecrets()
	const formApp, guesser = "198.51.100.20", "203.0.113.5"
	okFrom := func(from string) {
		t.Helper()
		if a := e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], from); a.status != http.StatusBadRequest || a.body["error"] != "invalid_grant" {
			t.Fatalf("right secret from %s: %d %v, want 400 invalid_grant", from, a.status, a.body)
		}
	}
	okFrom(formApp)
	for i := range rule.PerClient {
		if a := e.tryClient("/oauth/token", "formapp", "guess", guesser); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %v", i+1, a.status, a.body)
		}
	}
	throttled(t, e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], guesser))
	throttled(t, e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], "198.51.100.21"))
	okFrom(formApp)

	// Guesses from the known network itself use up its own budget.
	for i := range rule.PerClient {
		if a := e.tryClient("/oauth/token", "formapp", "guess", formApp); a.status != http.StatusUnauthorized {
			t.Fatalf("guess %d from the known network: %d %v", i+1, a.status, a.body)
		}
	}
	throttled(t, e.tryClient("/oauth/token", "formapp", e.secrets["formapp"], formApp))
}

// A secret registered before HMAC (an argon2id hash) still works, and its
// first successful use replaces the stored hash with the HMAC one; a wrong
// secret changes nothing.
func TestArgon2idClientSecretIsRehashed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		ctx := context.Background()
		secret := randomToken(32)
		legacy, err := cheapHasher.Hash(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.db.CreateClient(ctx, &store.Client{ID: "old-form", Name: "Registered long ago", SecretHash: legacy,
			RedirectURIs: []string{"https://" + rpHost + "/old-form/callback"}, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		stored := func() string {
			t.Helper()
			c, err := e.st.db.ClientByID(ctx, "old-form")
			if err != nil {
				t.Fatal(err)
			}
			return c.SecretHash
		}
		if a := e.tryClient("/oauth/token", "old-form", "wrong-"+secret, ""); a.status != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d %v", a.status, a.body)
		}
		if stored() != legacy {
			t.Fatal("a wrong secret changed the stored hash")
		}

		e.secrets["old-form"] = secret
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("old-form")
		f := newFlow()
		r.mustExchange(r.signIn(e.browser(), f), f)
		if h := stored(); h != e.clientSecrets().Hash(secret) {
			t.Fatalf("after one use the stored hash is %q, want the HMAC hash", h)
		}
		f = newFlow()
		r.mustExchange(r.signIn(e.browser(), f), f)
		if a := e.tryClient("/oauth/token", "old-form", "wrong-"+secret, ""); a.status != http.StatusUnauthorized {
			t.Fatalf("wrong secret after the rehash: %d %v", a.status, a.body)
		}
	})
}

func TestNetworkOf(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2::10":     "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"":                     "unknown",
		"not-an-address":       "not-an-address",
	} {
		if got := networkOf(in); got != want {
			t.Errorf("networkOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// The cost of one client-secret check: argon2id with the parameters secrets
// were hashed with before (password.DefaultParams), and HMAC-SHA-256 now.
func BenchmarkClientSecretCheck(b *testing.B) {
	ctx := context.Background()
	secret := randomToken(32)
	b.Run("argon2id", func(b *testing.B) {
		h := password.NewHasher(password.DefaultParams, 1)
		hash, err := h.Hash(ctx, secret)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if ok, _, err := h.Verify(ctx, secret, hash); !ok || err != nil {
				b.Fatal("does not verify")
			}
		}
	})
	b.Run("hmac-sha256", func(b *testing.B) {
		s, err := NewClientSecrets(make([]byte, 32))
		if err != nil {
			b.Fatal(err)
		}
		hash := s.Hash(secret)
		for b.Loop() {
			if _, ok := s.verifyHMAC(secret, hash); !ok {
				b.Fatal("does not verify")
			}
		}
	})
}

// The README states the rule's numbers; they must be the package's.
func TestReadmeStatesClientSecretRule(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(strings.Fields(string(raw)), " ")
	r := limits.ClientSecrets()
	minutes := int(r.Window.Minutes())
	for _, want := range []string{
		fmt.Sprintf("after %d in %d minutes for one client id, or %d from one network", r.PerClient, minutes, r.PerNetwork),
		fmt.Sprintf("until the %d-minute window ends", minutes),
		fmt.Sprintf("in the last %d days keeps a budget of its own", int(r.KnownNetworkFor.Hours()/24)),
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README does not say %q", want)
		}
	}
}

// Issue 18: a secret rotated with an overlap keeps working until the overlap
// ends, so the form app can switch without an outage; the new one works at
// once; after the overlap the old one is a wrong secret.
func TestRotatedSecretOverlap(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		e.signInAs(e.newUser(), time.Time{})
		old := e.secrets["formapp"]
		next, err := RotateClientSecret(context.Background(), e.st.db, e.clientSecrets(), "formapp", e.clock.now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		exchangeWith := func(secret string) error {
			r := e.rp("formapp")
			r.conf.ClientSecret = secret
			r.conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // no retry with the spent code
			f := newFlow()
			_, err := r.exchange(r.signIn(e.browser(), f), f)
			return err
		}
		if err := exchangeWith(old); err != nil {
			t.Errorf("the old secret during the overlap: %v", err)
		}
		if err := exchangeWith(next); err != nil {
			t.Errorf("the new secret: %v", err)
		}
		e.clock.advance(time.Hour + time.Second)
		if err := exchangeWith(old); oauthErrorCode(err) != "invalid_client" {
			t.Errorf("the old secret after the overlap: %v, want invalid_client", err)
		}
		if err := exchangeWith(next); err != nil {
			t.Errorf("the new secret after the overlap: %v", err)
		}
		// Rotating at once (a leaked secret) keeps no previous one.
		again, err := RotateClientSecret(context.Background(), e.st.db, e.clientSecrets(), "formapp", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := exchangeWith(next); oauthErrorCode(err) != "invalid_client" {
			t.Errorf("the secret replaced without an overlap: %v, want invalid_client", err)
		}
		if err := exchangeWith(again); err != nil {
			t.Errorf("the newest secret: %v", err)
		}
	})
}
