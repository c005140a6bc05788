package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/councilforms/idp/factors/email/smtptest"
	"github.com/councilforms/idp/factors/vonage/vonagetest"
	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/webtest/sim"
	"github.com/councilforms/idp/store/storetest"
)

// The end-to-end harness: the whole idp as deployed (app.Open: provider, login
// pages, dev inbox) on a real listener, a person's browser as an HTTP client with a
// cookie jar that reads the pages and submits their forms by button label, and a
// form app as the relying party using go-oidc and x/oauth2 (an OIDC client library
// independent of the provider's).

const rpRedirect = "https://rp.test/callback" // never fetched: the browser stops there

// clock is the login pages' clock (the tests' one clock, sim.Clock); tests move
// it on to expire codes and locks.
type clock struct{ sim.Clock }

func (c *clock) now() time.Time { return c.Now() }

func (c *clock) advance(d time.Duration) { c.Advance(d) }

type idp struct {
	// Where codes and calls go: the dev inbox, or (production mode) an SMTP relay and
	// a fake Vonage.
	relay  *smtptest.Relay
	vonage *vonagetest.Fake
	seen   map[string]int // emails read per address

	t      *testing.T
	app    *app.App
	issuer string
	clock  *clock
	rp     *oauth2.Config
	verify *oidc.IDTokenVerifier
	prov   *oidc.Provider
	vars   map[string]string // the configuration it was started with
	// redisURL and redisPrefix are the journey store on postgres+redis.
	redisURL, redisPrefix string
}

type backend string

const (
	embedded   backend = "sqlite+memory"
	pgAndRedis backend = "postgres+redis"
)

// startIdP runs the idp in development mode on the backend, with a confidential
// client registered for the relying party.
func startIdP(t *testing.T, b backend, extra map[string]string, opts ...app.Option) *idp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	vars := map[string]string{
		"IDP_ISSUER": issuer, "IDP_DEV": "true", "IDP_ADDR": ln.Addr().String(),
		"IDP_KEY_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	switch b {
	case embedded:
		vars["IDP_DATABASE_URL"] = "sqlite:" + filepath.Join(t.TempDir(), "idp.db")
	case pgAndRedis:
		vars["IDP_DATABASE_URL"] = storetest.PostgresURL(t)
		u, prefix := storetest.Redis(t)
		vars["IDP_REDIS_URL"], vars["IDP_REDIS_PREFIX"] = u, prefix
	}
	for k, v := range extra {
		vars[k] = v
	}
	a, ck := serveIdP(t, ln, vars, opts...)
	ctx := context.Background()
	secret, err := provider.AddClient(ctx, a.Durable, clientSecretsOf(t, a), provider.NewClient{
		ID: "referral-form", Name: "Make a social care referral", RedirectURIs: []string{rpRedirect},
		Scopes: []string{"openid", "profile", "email", "phone", "offline_access"},
	}, time.Now())
	if err != nil {
		t.Fatalf("add client: %v", err)
	}
	prov, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &idp{
		redisURL: vars["IDP_REDIS_URL"], redisPrefix: vars["IDP_REDIS_PREFIX"],
		seen: map[string]int{},
		t:    t, app: a, issuer: issuer, clock: ck, prov: prov, vars: vars,
		verify: prov.Verifier(&oidc.Config{ClientID: "referral-form"}),
		rp: &oauth2.Config{ClientID: "referral-form", ClientSecret: secret, Endpoint: prov.Endpoint(),
			RedirectURL: rpRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email", "phone", oidc.ScopeOfflineAccess}},
	}
}

// serveIdP opens the app vars configure and serves it on ln until the test ends.
func serveIdP(t *testing.T, ln net.Listener, vars map[string]string, opts ...app.Option) (*app.App, *clock) {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ck := &clock{}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), append([]app.Option{app.WithClock(ck.now),
		// With JavaScript the call-waiting page asks every 200 ms (not 2 s): a
		// browser test sees '#' move it on at once.
		app.WithCallPoll(200 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	bg, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	a.Start(bg)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Handler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	return a, ck
}

// sibling starts a second idp process on d's database and journey store with d's
// configuration, as a second replica behind a load balancer is, on an address of
// its own (so its own issuer). The relying party's client is d's.
func (d *idp) sibling() *idp {
	d.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.t.Fatal(err)
	}
	vars := maps.Clone(d.vars)
	vars["IDP_ISSUER"], vars["IDP_ADDR"] = "http://"+ln.Addr().String(), ln.Addr().String()
	a, ck := serveIdP(d.t, ln, vars)
	prov, err := oidc.NewProvider(context.Background(), vars["IDP_ISSUER"])
	if err != nil {
		d.t.Fatalf("discovery: %v", err)
	}
	rp := *d.rp
	rp.Endpoint = prov.Endpoint()
	return &idp{
		redisURL: vars["IDP_REDIS_URL"], redisPrefix: vars["IDP_REDIS_PREFIX"],
		seen: map[string]int{},
		t:    d.t, app: a, issuer: vars["IDP_ISSUER"], clock: ck, prov: prov, vars: vars,
		verify: prov.Verifier(&oidc.Config{ClientID: rp.ClientID}), rp: &rp,
	}
}

// metrics is what Prometheus scrapes from the metrics listener.
func (d *idp) metrics() string {
	d.t.Helper()
	rec := httptest.NewRecorder()
	d.app.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		d.t.Fatalf("GET /metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// browser is one person's browser (sim.Browser, which the fault suite and the
// load driver share): a cookie jar, the page on screen, and the sign-in in
// progress for the relying party. Its methods fail the test.
type browser struct {
	t   *testing.T
	idp *idp
	sim *sim.Browser
	c   *http.Client // sim's: tests may watch its redirects or edit its jar
	jar *sessionJar
	// forwardedFor, when set, is sent as X-Forwarded-For: the browser's address
	// as a trusted proxy (IDP_TRUSTED_PROXIES=127.0.0.1/32) reports it.
	forwardedFor string
	page         page
	verifier     string
	state        string
	nonce        string
	code         string // the authorization code once back at the relying party
}

// page is what the browser shows; parsed is its forms, links, heading and errors.
type page struct {
	status int
	url    string
	body   string
	header http.Header
	parsed *sim.Page
}

func (p page) String() string { return p.url + "\n" + text(p.body) }

// sessionJar is a cookie jar that can be restarted as a browser is: cookies
// without Max-Age or Expires (session cookies) are gone after restart, the others
// stay until they expire.
type sessionJar struct {
	mu   sync.Mutex
	jar  *cookiejar.Jar
	kept map[string]keptCookie // name@host -> the last persistent cookie set
}

type keptCookie struct {
	u *url.URL
	c *http.Cookie
}

func newSessionJar() *sessionJar {
	jar, _ := cookiejar.New(nil)
	return &sessionJar{jar: jar, kept: map[string]keptCookie{}}
}

func (j *sessionJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jar.SetCookies(u, cookies)
	for _, c := range cookies {
		key := c.Name + "@" + u.Host
		if c.MaxAge > 0 || (c.MaxAge == 0 && !c.Expires.IsZero() && c.Expires.After(time.Now())) {
			if c.MaxAge > 0 && c.Expires.IsZero() {
				cc := *c
				cc.Expires, cc.MaxAge = time.Now().Add(time.Duration(c.MaxAge)*time.Second), 0
				c = &cc
			}
			j.kept[key] = keptCookie{u: u, c: c}
		} else {
			delete(j.kept, key)
		}
	}
}

func (j *sessionJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.jar.Cookies(u)
}

// restart is the browser closed and opened again.
func (j *sessionJar) restart() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jar, _ = cookiejar.New(nil)
	for _, k := range j.kept {
		j.jar.SetCookies(k.u, []*http.Cookie{k.c})
	}
}

// restart closes the browser and opens it again: session cookies are gone.
func (b *browser) restart() { b.jar.restart() }

func (d *idp) browser() *browser {
	d.t.Helper()
	jar := newSessionJar()
	sb, err := sim.NewBrowser(d.issuer, rpRedirect, sim.Options{Jar: jar, Timeout: 30 * time.Second})
	if err != nil {
		d.t.Fatal(err)
	}
	return &browser{t: d.t, idp: d, jar: jar, sim: sb, c: sb.Client}
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	// Fetch, not Do: a test may submit one page twice at once from copies of
	// this browser (same cookies, separate pages).
	r, err := b.sim.Fetch(req)
	if cb := r.Callback; cb != nil {
		code, err := b.relyingParty().Code(b.authorization(), cb)
		if err != nil {
			b.t.Fatalf("back at the relying party: %v", err)
		}
		b.code = code
		return page{status: r.Status, url: cb.String()}
	}
	var status *sim.StatusError
	switch {
	case err == nil, errors.Is(err, sim.ErrNotHTML) && r.Status < 500, errors.As(err, &status) && r.Status < 500:
	case r.Page != nil:
		b.t.Fatalf("%s %s: %d\n%s", req.Method, req.URL, r.Status, text(r.Page.Body))
	default:
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	p := r.Page
	b.page = page{status: p.Status, url: p.URL.String(), body: p.Body, header: p.Header, parsed: p}
	return b.page
}

func (b *browser) get(path string) page {
	b.t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = b.idp.issuer + path
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

// postForm posts like a browser on the page's own origin (Origin header included).
func (b *browser) postForm(action string, v url.Values) page {
	b.t.Helper()
	if strings.HasPrefix(action, "/") {
		action = b.idp.issuer + action
	}
	req, _ := http.NewRequest(http.MethodPost, action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The page's own origin: the idp's, or the console's for its forms.
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// relyingParty is the form app the browser signs in to (d.rp and d.verify).
func (b *browser) relyingParty() *sim.RelyingParty {
	return &sim.RelyingParty{Issuer: b.idp.issuer, Config: b.idp.rp, Verifier: b.idp.verify}
}

func (b *browser) authorization() sim.Authorization {
	return sim.Authorization{State: b.state, Verifier: b.verifier, Nonce: b.nonce}
}

// startSignIn is the form app's 'Login or Register': a fresh authorization request.
func (b *browser) startSignIn() page {
	b.t.Helper()
	a := b.relyingParty().Start()
	b.verifier, b.state, b.nonce, b.code = a.Verifier, a.State, a.Nonce, ""
	return b.get(a.URL)
}

// press submits the form on the page that holds the button labelled label, with the
// fields given (a field name, then its value, and so on), as a browser does: every
// field of the form goes with it, those given typed in.
func (b *browser) press(label string, fields ...string) page {
	b.t.Helper()
	if b.page.parsed == nil {
		b.t.Fatalf("no page to press %q on", label)
	}
	f, btn, ok := b.page.parsed.Button(label)
	if !ok {
		b.t.Fatalf("no button %q on\n%s", label, b.page)
	}
	set := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		set[fields[i]] = fields[i+1]
	}
	v, err := f.Values(btn, set)
	if err != nil {
		b.t.Fatalf("the form of %q: %v on\n%s", label, err, b.page)
	}
	action, err := b.page.parsed.URL.Parse(f.Action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", f.Action, err)
	}
	if f.Method != "post" {
		action.RawQuery = v.Encode()
		return b.get(action.String())
	}
	return b.postForm(action.String(), v)
}

// follow clicks the link with this text.
func (b *browser) follow(label string) page {
	b.t.Helper()
	if b.page.parsed != nil {
		if href, ok := b.page.parsed.Link(label); ok {
			u, err := b.page.parsed.URL.Parse(href)
			if err != nil {
				b.t.Fatalf("link %q: %v", label, err)
			}
			return b.get(u.String())
		}
	}
	b.t.Fatalf("no link %q on\n%s", label, b.page)
	return page{}
}

// heading is the page's h1.
func (b *browser) heading() string {
	if b.page.parsed == nil {
		return ""
	}
	return b.page.parsed.H1
}

func (b *browser) expectHeading(want string) {
	b.t.Helper()
	if got := b.heading(); got != want {
		b.t.Fatalf("heading %q, want %q on\n%s", got, want, b.page)
	}
}

func (b *browser) expectText(want string) {
	b.t.Helper()
	if !strings.Contains(text(b.page.body), want) {
		b.t.Fatalf("page does not say %q:\n%s", want, b.page)
	}
}

func (b *browser) expectNoText(unwanted string) {
	b.t.Helper()
	if strings.Contains(text(b.page.body), unwanted) {
		b.t.Fatalf("page says %q:\n%s", unwanted, b.page)
	}
}

// text is what a person reads of some HTML.
func text(h string) string { return sim.Text(h) }

// tokens is what the relying party got back.
type tokens struct {
	*oauth2.Token
	id     *oidc.IDToken
	claims struct {
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		GivenName     string   `json:"given_name"`
		FamilyName    string   `json:"family_name"`
		Name          string   `json:"name"`
		Phone         string   `json:"phone_number"`
		PhoneVerified bool     `json:"phone_number_verified"`
		AMR           []string `json:"amr"`
		Nonce         string   `json:"nonce"`
	}
}

// exchange is the relying party redeeming the code it was sent back with.
func (b *browser) exchange() *tokens {
	b.t.Helper()
	if b.code == "" {
		b.t.Fatalf("not back at the relying party; on\n%s", b.page)
	}
	got, err := b.relyingParty().Exchange(context.Background(), b.authorization(), b.code)
	if err != nil {
		b.t.Fatal(err)
	}
	out := &tokens{Token: got.Token, id: got.IDToken}
	if err := got.IDToken.Claims(&out.claims); err != nil {
		b.t.Fatal(err)
	}
	return out
}

// inboxItem is one message in the dev inbox (GET /dev/inbox.json).
type inboxItem = sim.Item

// devInbox is the dev inbox client the fault suite and the load driver share.
func (d *idp) devInbox() *sim.Inbox { return &sim.Inbox{URL: d.issuer} }

func (d *idp) inbox() []inboxItem {
	d.t.Helper()
	items, err := d.devInbox().Read(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return items
}

// latest is the newest message on channel to to.
func (d *idp) latest(channel, to string) inboxItem {
	d.t.Helper()
	it, err := d.devInbox().Latest(context.Background(), channel, to)
	if err != nil {
		d.t.Fatal(err)
	}
	return it
}

func (d *idp) count(channel, to string) int { return sim.Count(d.inbox(), channel, to) }

// answerCall presses keys on the simulated call to to, as the person would.
func (d *idp) answerCall(to, digits string) {
	d.t.Helper()
	call := d.latest("voice", to)
	if err := d.devInbox().PressKeys(context.Background(), call.ID, digits); err != nil {
		d.t.Fatal(err)
	}
}

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

// emailCode waits for the next email to to and returns its subject and code.
func (d *idp) emailCode(to string) (subject, code string) {
	d.t.Helper()
	if d.relay == nil {
		m := d.latest("email", to)
		return m.Subject, m.Code
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		ms := d.relay.To(to)
		if len(ms) > d.seen[to] {
			d.seen[to] = len(ms)
			m := ms[len(ms)-1]
			return m.Subject, codeRe.FindString(m.Text)
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("no email to %s reached the relay", to)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// smsCode is the code in the latest text message to e164.
func (d *idp) smsCode(e164 string) string {
	d.t.Helper()
	if d.vonage == nil {
		return d.latest("sms", e164).Code
	}
	sent := d.vonage.SentSMS()
	for i := len(sent) - 1; i >= 0; i-- {
		if "+"+strings.TrimPrefix(sent[i].To, "+") == e164 && sent[i].Status == "0" {
			return codeRe.FindString(sent[i].Text)
		}
	}
	d.t.Fatalf("no text message to %s reached Vonage", e164)
	return ""
}

// pressKeys answers the latest call to e164 with digits.
func (d *idp) pressKeys(e164, digits string) {
	d.t.Helper()
	if d.vonage == nil {
		d.answerCall(e164, digits)
		return
	}
	res, err := d.vonage.PressKeys(context.Background(), strings.TrimPrefix(e164, "+"), digits)
	if err != nil {
		d.t.Fatalf("press %s on the call: %v (%+v)", digits, err, res)
	}
}

var seq struct {
	sync.Mutex
	n int
}

func randomString() string { return oauth2.GenerateVerifier()[:22] }

// clientSecretsOf hashes client secrets as the app's provider does.
func clientSecretsOf(t *testing.T, a *app.App) *provider.ClientSecrets {
	t.Helper()
	s, err := provider.NewClientSecrets(a.KeyEncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
