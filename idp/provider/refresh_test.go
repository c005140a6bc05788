package provider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
)

// lossyTransport passes requests on and, when told to, loses the answer to
// the next token request: the provider did its work, the client never saw
// it (a timeout, a reset connection, a proxy giving up).
type lossyTransport struct {
	next http.RoundTripper

	mu       sync.Mutex
	loseNext bool
	lost     struct {
		RefreshToken string `json:"refresh_token"`
	}
}

func (l *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || !l.loseNext || !strings.HasSuffix(req.URL.Path, "/oauth/token") {
		return resp, err
	}
	l.loseNext = false
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = json.Unmarshal(body, &l.lost)
	return nil, errors.New("connection reset (the test lost the answer)")
}

// loseNextAnswer makes the rp's next token request reach the provider and
// its answer get lost; it returns the refresh token that answer carried.
func (r *rp) loseNextAnswer() (lostRefreshToken func() string) {
	r.e.t.Helper()
	l, ok := r.lossy()
	if !ok {
		r.e.t.Fatal("rp has no lossy transport")
	}
	l.mu.Lock()
	l.loseNext = true
	l.mu.Unlock()
	return func() string {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.lost.RefreshToken
	}
}

func (r *rp) lossy() (*lossyTransport, bool) {
	c, _ := r.ctx.Value(oauth2.HTTPClient).(*http.Client)
	if c == nil {
		return nil, false
	}
	l, ok := c.Transport.(*lossyTransport)
	return l, ok
}

// lossyRP is a relying party whose token answers the test can lose.
func (e *env) lossyRP(clientID string) *rp {
	r := e.rp(clientID)
	r.ctx = gooidc.ClientContext(context.Background(), &http.Client{Transport: &lossyTransport{next: e.srv.Client().Transport}})
	return r
}

func (e *env) reuseAlarms(userID string) int {
	e.t.Helper()
	events, err := e.st.db.ListAudit(context.Background(), userID, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.Kind == "refresh.reuse" {
			n++
		}
	}
	return n
}

// A refresh whose answer was lost after the rotation committed: its own
// client presenting the same token again within the reuse interval gets the
// same successor (and a new access token), as often as it retries, until the
// successor is used. After that the old token is reuse again.
func TestRefreshRetryGetsTheSameSuccessor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		e.signInAs(u, time.Time{})
		r := e.lossyRP("formapp")
		f := newFlow()
		first := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken

		lost := r.loseNextAnswer()
		if _, err := r.refresh(first); err == nil {
			t.Fatal("the lost answer reached the client")
		}
		if lost() == "" {
			t.Fatal("the lost answer carried no refresh token")
		}
		e.clock.advance(DefaultRefreshReuseInterval / 2)
		for i := range 2 {
			retried, err := r.refresh(first)
			if err != nil {
				t.Fatalf("retry %d within the reuse interval: %v", i+1, err)
			}
			if retried.RefreshToken != lost() {
				t.Errorf("retry %d gave another refresh token than the lost answer", i+1)
			}
			if _, err := r.verify(retried, ""); err != nil {
				t.Errorf("retry %d: ID token: %v", i+1, err)
			}
			if _, err := r.userinfo(retried.AccessToken); err != nil {
				t.Errorf("retry %d: userinfo: %v", i+1, err)
			}
		}
		if n := e.reuseAlarms(u.ID); n != 0 {
			t.Fatalf("retries raised %d refresh.reuse alarms", n)
		}

		third, err := r.refresh(lost())
		if err != nil {
			t.Fatalf("the successor: %v", err)
		}
		// Its successor is used: the first token is spent for good.
		if _, err := r.refresh(first); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("first token after its successor was used: err %v, want invalid_grant", err)
		}
		if _, err := r.refresh(third.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("family after reuse: err %v, want invalid_grant", err)
		}
		if n := e.reuseAlarms(u.ID); n != 1 {
			t.Errorf("refresh.reuse alarms = %d, want 1", n)
		}
	})
}

// Only the retry the reuse interval is for is forgiven: too late, from
// another client, or with the interval turned off, presenting a rotated
// token again revokes the family, the lost successor with it.
func TestRefreshReuseOutsideTheInterval(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tweak  func(*Config)
		before func(e *env)
		client string
	}{
		{name: "after the interval", before: func(e *env) { e.clock.advance(DefaultRefreshReuseInterval + time.Second) }, client: "formapp"},
		{name: "another confidential client", client: "other"},
		{name: "a public client", client: "spa"},
		{name: "interval off", tweak: func(c *Config) { c.RefreshReuseInterval = -1 }, client: "formapp"},
		{name: "a longer interval, past it", tweak: func(c *Config) { c.RefreshReuseInterval = 2 * time.Minute },
			before: func(e *env) { e.clock.advance(2 * time.Minute) }, client: "formapp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, memorySQLite(t), tc.tweak)
			u := e.newUser()
			e.signInAs(u, time.Time{})
			r := e.lossyRP("formapp")
			f := newFlow()
			first := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
			lost := r.loseNextAnswer()
			if _, err := r.refresh(first); err == nil {
				t.Fatal("the lost answer reached the client")
			}
			if tc.before != nil {
				tc.before(e)
			}
			if _, err := e.rp(tc.client).refresh(first); oauthErrorCode(err) != "invalid_grant" {
				t.Fatalf("second presentation: err %v, want invalid_grant", err)
			}
			if _, err := r.refresh(lost()); oauthErrorCode(err) != "invalid_grant" {
				t.Errorf("the lost successor after reuse: err %v, want invalid_grant (family revoked)", err)
			}
			if n := e.reuseAlarms(u.ID); n != 1 {
				t.Errorf("refresh.reuse alarms = %d, want 1", n)
			}
		})
	}
	// Within a longer interval the same retry is forgiven.
	e := newEnv(t, memorySQLite(t), func(c *Config) { c.RefreshReuseInterval = 2 * time.Minute })
	e.signInAs(e.newUser(), time.Time{})
	r := e.lossyRP("formapp")
	f := newFlow()
	first := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
	r.loseNextAnswer()
	if _, err := r.refresh(first); err == nil {
		t.Fatal("the lost answer reached the client")
	}
	e.clock.advance(90 * time.Second)
	if _, err := r.refresh(first); err != nil {
		t.Errorf("retry 90 s later with a 2 minute interval: %v", err)
	}
}

// Two presentations of one token at the same moment (two tabs of a form
// app, a client retrying before its first attempt timed out) both get the
// same successor; neither is taken for theft.
func TestRefreshConcurrentPresentations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		u := e.newUser()
		e.signInAs(u, time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		first := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
		const n = 4
		got := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tok, err := r.refresh(first)
				if err == nil {
					got[i] = tok.RefreshToken
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("presentation %d: %v", i, errs[i])
			} else if got[i] != got[0] {
				t.Errorf("presentation %d got another successor", i)
			}
		}
		if t.Failed() {
			return
		}
		if _, err := r.refresh(got[0]); err != nil {
			t.Errorf("the successor: %v", err)
		}
		if n := e.reuseAlarms(u.ID); n != 0 {
			t.Errorf("refresh.reuse alarms = %d, want 0", n)
		}
	})
}

// faultyDurable is a durable store whose refresh token methods the test can
// break.
type faultyDurable struct {
	store.Durable
	failLookup atomic.Bool // RefreshTokenAndUser and ClientAndRefreshToken fail
	loseRotate atomic.Bool // RotateRefreshToken commits, then reports a failure
	// beforeRotate, when set, runs (once) as RotateRefreshToken starts: what
	// another request does in between the grant's read and its rotation.
	beforeRotate atomic.Pointer[func(oldHash string)]
}

var errInjected = errors.New("injected store failure")

func (d *faultyDurable) RefreshTokenAndUser(ctx context.Context, hash string) (*store.RefreshToken, *store.User, error) {
	if d.failLookup.Load() {
		return nil, nil, errInjected
	}
	return d.Durable.RefreshTokenAndUser(ctx, hash)
}

func (d *faultyDurable) ClientAndRefreshToken(ctx context.Context, clientID, hash string) (*store.Client, *store.RefreshToken, *store.User, error) {
	if d.failLookup.Load() {
		return nil, nil, nil, errInjected
	}
	return d.Durable.ClientAndRefreshToken(ctx, clientID, hash)
}

func (d *faultyDurable) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	if f := d.beforeRotate.Swap(nil); f != nil {
		(*f)(oldHash)
	}
	err := d.Durable.RotateRefreshToken(ctx, oldHash, next, now)
	if err == nil && d.loseRotate.Load() {
		return errInjected // as when the connection drops after the commit
	}
	return err
}

// A durable store failure during a refresh is a 5xx server_error (keep the
// token, try again), never invalid_grant (discard it), and the try again
// works: before the rotation, because nothing changed; after it, because it
// is a retry within the reuse interval.
func TestRefreshDurableFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		st := open(t)
		db := &faultyDurable{Durable: st.db}
		st.db = db
		e := newEnv(t, st, nil)
		u := e.newUser()
		e.signInAs(u, time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		rt := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken

		for _, fault := range []struct {
			name string
			on   *atomic.Bool
		}{{"token lookup fails", &db.failLookup}, {"rotation's answer lost", &db.loseRotate}} {
			fault.on.Store(true)
			_, err := r.refresh(rt)
			fault.on.Store(false)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response.StatusCode != http.StatusInternalServerError || re.ErrorCode != "server_error" {
				t.Fatalf("%s: err %v, want 500 server_error", fault.name, err)
			}
			if strings.Contains(re.ErrorDescription, errInjected.Error()) {
				t.Errorf("%s: the cause reached the client: %q", fault.name, re.ErrorDescription)
			}
			next, err := r.refresh(rt)
			if err != nil {
				t.Fatalf("%s: the same token again: %v", fault.name, err)
			}
			rt = next.RefreshToken
		}
		if _, err := r.refresh(rt); err != nil {
			t.Errorf("the last successor: %v", err)
		}
		if n := e.reuseAlarms(u.ID); n != 0 {
			t.Errorf("refresh.reuse alarms = %d, want 0", n)
		}
	})
}

// A grant that read its token as current and then lost the rotation to
// another request decides on what that request did: rotated it to the
// successor this grant would make (the same client's racing retry), the
// grant answers with that successor; rotated it to another (a process with
// another key, or a thief's request), reuse; revoked it (a logout), a refusal
// without a theft alarm.
func TestRefreshLostRace(t *testing.T) {
	for _, tc := range []struct {
		name      string
		meanwhile func(e *env, db store.Durable, oldHash, value string) error
		ok        bool
		alarms    int
	}{
		{"rotated to the same successor", func(e *env, db store.Durable, oldHash, value string) error {
			return rotateTo(db, oldHash, hashToken(e.p.successorValue(value)), e.clock.now())
		}, true, 0},
		{"rotated to another successor", func(e *env, db store.Durable, oldHash, _ string) error {
			return rotateTo(db, oldHash, hashToken(randomToken(32)), e.clock.now())
		}, false, 1},
		{"revoked", func(e *env, db store.Durable, oldHash, _ string) error {
			old, err := db.RefreshTokenByHash(context.Background(), oldHash)
			if err != nil {
				return err
			}
			return db.RevokeRefreshFamily(context.Background(), old.FamilyID, e.clock.now())
		}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memorySQLite(t)
			db := &faultyDurable{Durable: st.db}
			st.db = db
			e := newEnv(t, st, nil)
			u := e.newUser()
			e.signInAs(u, time.Time{})
			r := e.rp("formapp")
			f := newFlow()
			first := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
			var hookErr error
			hook := func(oldHash string) { hookErr = tc.meanwhile(e, db.Durable, oldHash, first) }
			db.beforeRotate.Store(&hook)
			next, err := r.refresh(first)
			if hookErr != nil {
				t.Fatalf("the other request: %v", hookErr)
			}
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refresh: %v, want the successor", err)
			case tc.ok && next.RefreshToken != e.p.successorValue(first):
				t.Errorf("refresh gave another successor than the racing request made")
			case !tc.ok && oauthErrorCode(err) != "invalid_grant":
				t.Errorf("refresh: err %v, want invalid_grant", err)
			}
			if n := e.reuseAlarms(u.ID); n != tc.alarms {
				t.Errorf("refresh.reuse alarms = %d, want %d", n, tc.alarms)
			}
		})
	}
}

// rotateTo rotates oldHash to a successor with hash newHash, as another
// request would.
func rotateTo(db store.Durable, oldHash, newHash string, now time.Time) error {
	ctx := context.Background()
	old, err := db.RefreshTokenByHash(ctx, oldHash)
	if err != nil {
		return err
	}
	next := *old
	next.Hash, next.CreatedAt = newHash, now
	return db.RotateRefreshToken(ctx, oldHash, &next, now)
}

// Pruning the store (the servers' hourly retention) deletes only families
// the provider refuses anyway: a spent token of a live family is kept, so
// presenting it again is still reuse and revokes the family; an expired
// family goes, and its tokens are refused as before.
func TestRefreshReuseDetectedAfterPruning(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), func(c *Config) {
			c.RefreshTokenTTL = 3 * time.Hour
			c.RefreshTokenIdleTTL = time.Hour
		})
		ctx := context.Background()
		u := e.newUser()
		e.signInAs(u, time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		first := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
		f = newFlow()
		idle := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
		e.clock.advance(50 * time.Minute)
		second, err := r.refresh(first)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		e.clock.advance(50 * time.Minute) // first and idle are past their idle lifetime
		third, err := r.refresh(second.RefreshToken)
		if err != nil {
			t.Fatalf("second refresh: %v", err)
		}
		f = newFlow()
		later := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken

		n, err := e.st.db.PruneRefreshTokens(ctx, e.clock.now())
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("pruning deleted %d rows, want 1 (the idle family's token)", n)
		}
		if _, err := r.refresh(idle); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("pruned idle token: err %v, want invalid_grant", err)
		}
		if _, err := r.refresh(first); oauthErrorCode(err) != "invalid_grant" {
			t.Fatalf("spent token after pruning: err %v, want invalid_grant", err)
		}
		if n := e.reuseAlarms(u.ID); n != 1 {
			t.Errorf("refresh.reuse alarms after presenting a spent token = %d, want 1", n)
		}
		if _, err := r.refresh(third.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
			t.Errorf("current token after reuse of a spent one: err %v, want invalid_grant (family revoked)", err)
		}
		if _, err := r.refresh(later); err != nil {
			t.Errorf("a live family of the same person was touched by pruning: %v", err)
		}

		// Past every lifetime, the revoked family goes too.
		e.clock.advance(3 * time.Hour)
		n, err = e.st.db.PruneRefreshTokens(ctx, e.clock.now())
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Errorf("pruning past every lifetime deleted %d rows, want 5 (3 of the revoked family, 2 of the later one)", n)
		}
		if _, err := e.st.db.RefreshTokenByHash(ctx, hashToken(first)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("spent token of the expired revoked family still stored: %v", err)
		}
	})
}
