package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/storetest"
)

// logoutReceiver is a form app's back-channel logout endpoint: it checks each
// logout token as Back-Channel Logout 1.0 section 2.6 says a form app must,
// and answers 503 while it is down.
type logoutReceiver struct {
	t        *testing.T
	e        *env
	clientID string
	srv      *httptest.Server
	down     atomic.Bool
	attempts atomic.Int32  // POSTs received, down or up
	tried    chan struct{} // one per POST

	mu       sync.Mutex
	accepted []logoutClaims
	got      chan logoutClaims
}

type logoutClaims struct {
	Issuer   string                     `json:"iss"`
	Audience any                        `json:"aud"`
	IssuedAt int64                      `json:"iat"`
	Expiry   int64                      `json:"exp"`
	JTI      string                     `json:"jti"`
	Subject  string                     `json:"sub"`
	SID      string                     `json:"sid"`
	Events   map[string]json.RawMessage `json:"events"`
	Nonce    *string                    `json:"nonce"`
}

func newLogoutReceiver(t *testing.T, clientID string) *logoutReceiver {
	lr := &logoutReceiver{t: t, clientID: clientID, got: make(chan logoutClaims, 16), tried: make(chan struct{}, 64)}
	lr.srv = httptest.NewServer(http.HandlerFunc(lr.serve))
	t.Cleanup(lr.srv.Close)
	return lr
}

func (lr *logoutReceiver) uri() string { return lr.srv.URL + "/backchannel-logout" }

func (lr *logoutReceiver) serve(w http.ResponseWriter, r *http.Request) {
	lr.attempts.Add(1)
	select {
	case lr.tried <- struct{}{}:
	default:
	}
	if lr.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		http.Error(w, "want a form POST", http.StatusBadRequest)
		return
	}
	claims, err := lr.verify(r.PostFormValue("logout_token"))
	if err != nil {
		lr.t.Errorf("%s: logout token refused: %v", lr.clientID, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	lr.mu.Lock()
	lr.accepted = append(lr.accepted, claims)
	lr.mu.Unlock()
	lr.got <- claims
}

// verify checks a logout token against the provider's published keys.
func (lr *logoutReceiver) verify(raw string) (logoutClaims, error) {
	var c logoutClaims
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return c, err
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != "logout+jwt" {
		return c, fmt.Errorf("typ = %v, want logout+jwt", h.ExtraHeaders[jose.HeaderType])
	}
	res, err := lr.e.srv.Client().Get(lr.e.issuer + "/keys")
	if err != nil {
		return c, err
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		return c, err
	}
	keys := set.Key(h.KeyID)
	if len(keys) == 0 {
		return c, fmt.Errorf("kid %q not in JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, err
	}
	now := lr.e.clock.now().Unix()
	switch {
	case c.Issuer != lr.e.issuer:
		return c, fmt.Errorf("iss = %q", c.Issuer)
	case c.Audience != lr.clientID:
		return c, fmt.Errorf("aud = %v, want %s", c.Audience, lr.clientID)
	case c.IssuedAt == 0 || c.IssuedAt > now+5 || c.Expiry <= now:
		return c, fmt.Errorf("iat %d exp %d at %d", c.IssuedAt, c.Expiry, now)
	case c.JTI == "" || c.Subject == "" || c.SID == "":
		return c, fmt.Errorf("jti %q sub %q sid %q: all required", c.JTI, c.Subject, c.SID)
	case c.Nonce != nil:
		return c, fmt.Errorf("a logout token must not carry a nonce")
	case len(c.Events) != 1 || strings.TrimSpace(string(c.Events[backchannelLogoutEvent])) != "{}":
		return c, fmt.Errorf("events = %v", c.Events)
	}
	return c, nil
}

// await returns the next accepted logout token, or fails after a while.
func (lr *logoutReceiver) await() logoutClaims {
	lr.t.Helper()
	select {
	case c := <-lr.got:
		return c
	case <-time.After(15 * time.Second):
		lr.t.Fatalf("%s received no valid logout token (%d attempts)", lr.clientID, lr.attempts.Load())
		return logoutClaims{}
	}
}

// bclEnv is an env with two form apps that registered back-channel logout
// URIs, and the logout delivery running in the provider instance.
type bclEnv struct {
	*env
	a, b   *logoutReceiver
	cancel context.CancelFunc
}

func newBCLEnv(t *testing.T, st stores) *bclEnv {
	a, b := newLogoutReceiver(t, "referral"), newLogoutReceiver(t, "concern")
	secrets := map[string]string{"referral": randomToken(24), "concern": randomToken(24)}
	e := newEnv(t, st, func(c *Config) {
		cs, err := NewClientSecrets(c.KeyEncryptionKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, lr := range []*logoutReceiver{a, b} {
			c.StaticClients = append(c.StaticClients, &store.Client{
				ID: lr.clientID, Name: "Form " + lr.clientID, SecretHash: cs.Hash(secrets[lr.clientID]),
				RedirectURIs:           []string{"https://" + rpHost + "/" + lr.clientID + "/callback"},
				PostLogoutRedirectURIs: []string{"https://" + rpHost + "/" + lr.clientID + "/signed-out"},
				BackchannelLogoutURI:   lr.uri(), BackchannelLogoutSessionRequired: true,
			})
		}
		c.BackchannelRetryMax = 2 * time.Second
	})
	for id, s := range secrets {
		e.secrets[id] = s
	}
	a.e, b.e = e, e
	be := &bclEnv{env: e, a: a, b: b}
	be.cancel = be.runDelivery(e.p)
	return be
}

func (be *bclEnv) runDelivery(p *Provider) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.RunLogoutDelivery(ctx)
	}()
	stop := func() { cancel(); <-done }
	be.t.Cleanup(stop)
	return stop
}

// signedInToBoth signs a person in to form app a (password and phone), then
// to form app b in the same browser (single sign-on, no second sign-in).
func (be *bclEnv) signedInToBoth() (u *store.User, b *http.Client, ta, tb *tokens) {
	be.t.Helper()
	u = be.newUser()
	be.signInAs(u, time.Time{})
	b = be.browser()
	ra, rb := be.rp(be.a.clientID), be.rp(be.b.clientID)
	fa, fb := newFlow(), newFlow()
	ta = ra.mustExchange(ra.signIn(b, fa), fa)
	before := be.logins.Load()
	tb = rb.mustExchange(rb.signIn(b, fb), fb)
	if be.logins.Load() != before {
		be.t.Fatal("the second form app needed a second sign-in")
	}
	sa, sb := ta.claims["sid"], tb.claims["sid"]
	if sa == nil || sa == "" || sa != sb {
		be.t.Fatalf("ID tokens' sid: %v and %v, want the same session id", sa, sb)
	}
	return u, b, ta, tb
}

// logoutFromA is RP-initiated logout from form app a with its ID token.
func (be *bclEnv) logoutFromA(b *http.Client, ta *tokens) {
	be.t.Helper()
	q := url.Values{"id_token_hint": {ta.rawID}, "post_logout_redirect_uri": {"https://" + rpHost + "/referral/signed-out"}}
	res := be.visit(b, be.rp(be.a.clientID).endpoint("end_session_endpoint")+"?"+q.Encode())
	if res.callback == nil || res.callback.Path != "/referral/signed-out" {
		be.t.Fatalf("logout: status %d body %q", res.status, res.body)
	}
}

// assertSignedOutOfB: b's tokens are void and its next sign-in asks again.
func (be *bclEnv) assertSignedOutOfB(b *http.Client, tb *tokens) {
	be.t.Helper()
	rb := be.rp(be.b.clientID)
	if _, err := rb.userinfo(tb.raw.AccessToken); err == nil {
		be.t.Error("the other form app's access token still answers userinfo")
	}
	if _, err := rb.refresh(tb.raw.RefreshToken); oauthErrorCode(err) != "invalid_grant" {
		be.t.Errorf("the other form app's refresh token: %v, want invalid_grant", err)
	}
	before := be.logins.Load()
	f := newFlow()
	rb.mustExchange(rb.signIn(b, f), f)
	if be.logins.Load() != before+1 {
		be.t.Error("the other form app's next visit did not ask for the sign-in again")
	}
}

// Issue 16 item 1: signing out of one form app tells every form app of the
// session, the one that asked included, and ends their tokens.
func TestBackchannelLogoutReachesEveryFormApp(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		be := newBCLEnv(t, open(t))
		u, b, ta, tb := be.signedInToBoth()
		be.logoutFromA(b, ta)
		for _, lr := range []*logoutReceiver{be.a, be.b} {
			c := lr.await()
			if c.Subject != u.ID || c.SID != tb.claims["sid"] {
				t.Errorf("%s told sub %q sid %q, want %q %v", lr.clientID, c.Subject, c.SID, u.ID, tb.claims["sid"])
			}
		}
		be.assertSignedOutOfB(b, tb)
	})
}

// A form app that is down when the session ends is told when it is back,
// with a fresh logout token; and a notice queued by a process that stops is
// delivered by another one (the outbox is durable).
func TestBackchannelLogoutRetriesAFormAppThatIsDown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		be := newBCLEnv(t, open(t))
		be.b.down.Store(true)
		_, b, ta, tb := be.signedInToBoth()
		be.logoutFromA(b, ta)
		be.a.await()
		for i := range 2 { // the first attempt and a retry, both refused
			select {
			case <-be.b.tried:
			case <-time.After(15 * time.Second):
				t.Fatalf("the form app that is down was tried %d times, want a retry", i)
			}
		}
		be.b.down.Store(false)
		c := be.b.await()
		if c.Subject == "" {
			t.Fatal("no logout token once back")
		}
		be.assertSignedOutOfB(b, tb)
	})
}

func TestBackchannelLogoutSurvivesARestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		be := newBCLEnv(t, open(t))
		be.cancel() // this process stops delivering before the logout
		_, b, ta, _ := be.signedInToBoth()
		be.logoutFromA(b, ta)
		select {
		case <-be.a.got:
			t.Fatal("delivered with no worker running")
		default:
		}
		be.runDelivery(be.newInstance()) // another process, same stores
		be.a.await()
		be.b.await()
	})
}

// A password reset (RevokeUserTokens) ends every session of the person and
// tells their form apps; a cross-site logout POST with a valid hint and no
// cookie ends the session the hint names.
func TestBackchannelLogoutOnPasswordResetAndCrossSitePost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		be := newBCLEnv(t, open(t))
		u, b, _, tb := be.signedInToBoth()
		if err := be.p.RevokeUserTokens(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		be.a.await()
		be.b.await()
		be.assertSignedOutOfB(b, tb)

		// Signed in again: a logout form POSTed from the form app's page,
		// which carries no IdP cookie, with the ID token as hint.
		_, b2, ta2, tb2 := be.signedInToBoth()
		form := url.Values{"id_token_hint": {ta2.rawID}, "post_logout_redirect_uri": {"https://" + rpHost + "/referral/signed-out"}}
		noCookies := &http.Client{Transport: be.srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := noCookies.PostForm(be.rp(be.a.clientID).endpoint("end_session_endpoint"), form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasSuffix(loc, "/referral/signed-out") {
			t.Fatalf("cross-site logout POST: %d to %q, want a redirect to the post-logout URI", res.StatusCode, loc)
		}
		be.a.await()
		be.b.await()
		f := newFlow()
		if r := be.visit(b2, be.rp(be.a.clientID).authURL(f, oauth2.SetAuthURLParam("prompt", "none"))); r.param("error") != "login_required" {
			t.Errorf("prompt=none after the cross-site logout: %v", r.callback)
		}
		be.assertSignedOutOfB(b2, tb2)
	})
}

// A logout while Redis is down is a try-again page, not "you could not be
// signed out" and not a redirect that pretends it worked; trying again once
// Redis is back signs out and tells every form app.
func TestLogoutDuringRedisOutageIsRetried(t *testing.T) {
	rs := storetest.StartRedis(t)
	be := newBCLEnv(t, postgresAndRedis(t, rs))
	_, b, ta, tb := be.signedInToBoth()
	q := url.Values{"id_token_hint": {ta.rawID}, "post_logout_redirect_uri": {"https://" + rpHost + "/referral/signed-out"}}
	endSession := be.rp(be.a.clientID).endpoint("end_session_endpoint") + "?" + q.Encode()

	rs.Stop()
	res := be.visit(b, endSession)
	rs.Start()
	if res.status != http.StatusServiceUnavailable || res.callback != nil || !strings.Contains(res.body, OutageTitle) {
		t.Fatalf("logout with Redis down: status %d callback %v body %q, want the 503 try-again page", res.status, res.callback, res.body)
	}
	be.logoutFromA(b, ta)
	be.a.await()
	be.b.await()
	be.assertSignedOutOfB(b, tb)
}

// An admin command (idp users disable, idp users end-sessions), which has no
// provider of its own, queues a request that a running server carries out:
// every session of the person ends, and every form app is told.
func TestEndSessionsRequestedByAnAdminCommand(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		be := newBCLEnv(t, open(t))
		u, b, _, tb := be.signedInToBoth()
		if err := QueueEndSessions(context.Background(), be.st.db, u.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		be.a.await()
		be.b.await()
		f := newFlow()
		if r := be.visit(b, be.rp(be.a.clientID).authURL(f, oauth2.SetAuthURLParam("prompt", "none"))); r.param("error") != "login_required" {
			t.Errorf("prompt=none after the admin ended the sessions: %v", r.callback)
		}
		be.assertSignedOutOfB(b, tb)
	})
}
