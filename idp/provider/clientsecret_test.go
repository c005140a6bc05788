package provider

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
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
