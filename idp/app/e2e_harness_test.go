package app_test

import (
	"context"
	"encoding/json"
	"html"
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
	"github.com/councilforms/idp/store/storetest"
)

// The end-to-end harness: the whole idp as deployed (app.Open: provider, login
// pages, dev inbox) on a real listener, a person's browser as an HTTP client with a
// cookie jar that reads the pages and submits their forms by button label, and a
// form app as the relying party using go-oidc and x/oauth2 (an OIDC client library
// independent of the provider's).

const rpRedirect = "https://rp.test/callback" // never fetched: the browser stops there

// clock is the login pages' clock; tests move it on to expire codes and locks.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

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
func startIdP(t *testing.T, b backend, extra map[string]string) *idp {
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
	a, ck := serveIdP(t, ln, vars)
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
func serveIdP(t *testing.T, ln net.Listener, vars map[string]string) (*app.App, *clock) {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ck := &clock{}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.WithClock(ck.now))
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

// browser is one person's browser: a cookie jar, the page on screen, and the
// sign-in in progress for the relying party.
type browser struct {
	t   *testing.T
	idp *idp
	c   *http.Client
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

type page struct {
	status int
	url    string
	body   string
	header http.Header
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
	jar := newSessionJar()
	b := &browser{t: d.t, idp: d, jar: jar}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "rp.test" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", b.forwardedFor)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if loc := res.Header.Get("Location"); res.StatusCode/100 == 3 && strings.HasPrefix(loc, rpRedirect) {
		u, _ := url.Parse(loc)
		if got := u.Query().Get("state"); got != b.state {
			b.t.Fatalf("state %q came back as %q", b.state, got)
		}
		b.code = u.Query().Get("code")
		if b.code == "" {
			b.t.Fatalf("back at the relying party without a code: %s", loc)
		}
		return page{status: res.StatusCode, url: loc}
	}
	if res.StatusCode >= 500 {
		b.t.Fatalf("%s %s: %d\n%s", req.Method, req.URL, res.StatusCode, text(string(body)))
	}
	b.page = page{status: res.StatusCode, url: res.Request.URL.String(), body: string(body), header: res.Header}
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

// postForm posts like a browser on the idp's own page (Origin header included).
func (b *browser) postForm(action string, v url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.idp.issuer+action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.idp.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// startSignIn is the form app's 'Login or Register': a fresh authorization request.
func (b *browser) startSignIn() page {
	b.t.Helper()
	b.verifier, b.state, b.nonce, b.code = oauth2.GenerateVerifier(), randomString(), randomString(), ""
	u := b.idp.rp.AuthCodeURL(b.state, oauth2.S256ChallengeOption(b.verifier), oidc.Nonce(b.nonce))
	return b.get(u)
}

var (
	formRe   = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	buttonRe = regexp.MustCompile(`(?s)<button type="submit"([^>]*)>\s*(.*?)\s*</button>`)
	attrRe   = regexp.MustCompile(`(name|value)="([^"]*)"`)
	hiddenRe = regexp.MustCompile(`<input type="hidden"([^>]*)>`)
	linkRe   = regexp.MustCompile(`(?s)<a [^>]*href="([^"]*)"[^>]*>\s*(.*?)\s*</a>`)
	tagRe    = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]+>`)
	spaceRe  = regexp.MustCompile(`\s+`)
)

// press submits the form on the page that holds the button labelled label, with the
// fields given (a field name, then its value, and so on).
func (b *browser) press(label string, fields ...string) page {
	b.t.Helper()
	for _, f := range formRe.FindAllStringSubmatch(b.page.body, -1) {
		for _, btn := range buttonRe.FindAllStringSubmatch(f[2], -1) {
			if html.UnescapeString(btn[2]) != label {
				continue
			}
			v := url.Values{}
			attrs := map[string]string{}
			for _, a := range attrRe.FindAllStringSubmatch(btn[1], -1) {
				attrs[a[1]] = html.UnescapeString(a[2])
			}
			if attrs["name"] != "" {
				v.Set(attrs["name"], attrs["value"])
			}
			// Hidden inputs go with the form, as a browser sends them.
			for _, in := range hiddenRe.FindAllStringSubmatch(f[2], -1) {
				ha := map[string]string{}
				for _, a := range attrRe.FindAllStringSubmatch(in[1], -1) {
					ha[a[1]] = html.UnescapeString(a[2])
				}
				if ha["name"] != "" {
					v.Set(ha["name"], ha["value"])
				}
			}
			for i := 0; i+1 < len(fields); i += 2 {
				if !strings.Contains(f[2], `name="`+fields[i]+`"`) {
					b.t.Fatalf("no field %q in the form of %q on\n%s", fields[i], label, b.page)
				}
				v.Set(fields[i], fields[i+1])
			}
			return b.postForm(html.UnescapeString(f[1]), v)
		}
	}
	b.t.Fatalf("no button %q on\n%s", label, b.page)
	return page{}
}

// follow clicks the link with this text.
func (b *browser) follow(label string) page {
	b.t.Helper()
	for _, l := range linkRe.FindAllStringSubmatch(b.page.body, -1) {
		if text(l[2]) == label {
			return b.get(html.UnescapeString(l[1]))
		}
	}
	b.t.Fatalf("no link %q on\n%s", label, b.page)
	return page{}
}

// heading is the page's h1.
func (b *browser) heading() string {
	m := regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`).FindStringSubmatch(b.page.body)
	if m == nil {
		return ""
	}
	return text(m[1])
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
func text(h string) string {
	return strings.TrimSpace(spaceRe.ReplaceAllString(html.UnescapeString(tagRe.ReplaceAllString(h, " ")), " "))
}

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
	ctx := context.Background()
	tok, err := b.idp.rp.Exchange(ctx, b.code, oauth2.VerifierOption(b.verifier))
	if err != nil {
		b.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	id, err := b.idp.verify.Verify(ctx, raw)
	if err != nil {
		b.t.Fatalf("verify ID token: %v", err)
	}
	out := &tokens{Token: tok, id: id}
	if err := id.Claims(&out.claims); err != nil {
		b.t.Fatal(err)
	}
	if out.claims.Nonce != b.nonce {
		b.t.Fatalf("nonce %q, want %q", out.claims.Nonce, b.nonce)
	}
	return out
}

// inboxItem is one message in the dev inbox (GET /dev/inbox.json).
type inboxItem struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Code    string `json:"code"`
}

func (d *idp) inbox() []inboxItem {
	d.t.Helper()
	res, err := http.Get(d.issuer + "/dev/inbox.json")
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	var items []inboxItem
	if err := json.NewDecoder(res.Body).Decode(&items); err != nil {
		d.t.Fatal(err)
	}
	return items
}

// latest is the newest message on channel to to.
func (d *idp) latest(channel, to string) inboxItem {
	d.t.Helper()
	for _, it := range d.inbox() {
		if it.Channel == channel && it.To == to {
			return it
		}
	}
	d.t.Fatalf("no %s message to %s in the inbox", channel, to)
	return inboxItem{}
}

func (d *idp) count(channel, to string) int {
	n := 0
	for _, it := range d.inbox() {
		if it.Channel == channel && it.To == to {
			n++
		}
	}
	return n
}

// answerCall presses keys on the simulated call to to, as the person would.
func (d *idp) answerCall(to, digits string) {
	d.t.Helper()
	call := d.latest("voice", to)
	req, _ := http.NewRequest(http.MethodPost, d.issuer+"/dev/calls/"+call.ID+"/keypress",
		strings.NewReader(url.Values{"digits": {digits}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 400 {
		d.t.Fatalf("keypress: %d", res.StatusCode)
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
