package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/idp/webtest/sim"
)

// Person is one person's browser (sim.Browser, which the end-to-end tests and the
// load driver share: a cookie jar, the page on screen) and the form app they came
// from, all talking to the cluster through the proxy. Its methods return an error
// instead of failing the test, so that a load generator can count what went wrong;
// scenarios turn errors into failures.
type Person struct {
	c       *Cluster
	browser *sim.Browser
	http    *http.Client // the browser's
	rp      *sim.RelyingParty
	Email   string
	Phone   string // as typed: 07700 900xxx
	E164    string
	Page    Page
	Timeout time.Duration // per request; 30 s when zero

	auth sim.Authorization
	code string // the authorization code once back at the form app

	// Requests counts every request the person made, Failed those that got no
	// answer or a 5xx; OnResponse, when set, sees each one's outcome.
	Requests   atomic.Int64
	Failed     atomic.Int64
	OnResponse func(method, path string, status int, err error)
}

// Page is what the browser shows. A test may keep one and put it back, as the
// browser's back button does.
type Page struct {
	Status int
	URL    string
	Body   string
	parsed *sim.Page
}

func (p Page) String() string { return fmt.Sprintf("%d %s\n%s", p.Status, p.URL, pageText(p.Body)) }

var people atomic.Int64

// Person is a new person with a fresh browser, an email address and a drama-range
// mobile number of their own.
func (c *Cluster) Person() *Person {
	n := people.Add(1)
	b, err := sim.NewBrowser(c.Issuer, RPRedirect, sim.Options{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}})
	if err != nil {
		panic(err) // RPRedirect and the issuer are well-formed
	}
	p := &Person{
		c:       c,
		browser: b,
		http:    b.Client,
		Email:   fmt.Sprintf("worker%d.%d@example.gov.uk", n, time.Now().UnixNano()%1e6),
		Phone:   fmt.Sprintf("07700 900%03d", n%1000),
		E164:    fmt.Sprintf("+447700900%03d", n%1000),
	}
	p.rp = &sim.RelyingParty{Issuer: c.Issuer,
		Client: &http.Client{Transport: countingTransport{p}, Timeout: 30 * time.Second},
		Config: &oauth2.Config{ClientID: ClientID, RedirectURL: RPRedirect,
			Scopes:   []string{"openid", "profile", "email", "phone"},
			Endpoint: oauth2.Endpoint{AuthURL: c.Issuer + "/authorize", TokenURL: c.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}}
	return p
}

// ErrStatus is a response with a status of 500 or more.
type ErrStatus struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *ErrStatus) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, firstWords(pageText(e.Body), 30))
}

// do sends req; every redirect on the way is followed except the last one to the
// form app, whose code is kept.
func (p *Person) do(req *http.Request) error {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	req = req.WithContext(ctx)
	p.Requests.Add(1)
	r, err := p.browser.Fetch(req)
	var status *sim.StatusError
	if err != nil && !errors.As(err, &status) && !errors.Is(err, sim.ErrNotHTML) {
		// No answer, or the answer broke off.
		p.report(req.Method, req.URL.Path, r.Status, err)
		return fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	if cb := r.Callback; cb != nil {
		p.report(req.Method, req.URL.Path, r.Status, nil)
		if p.code, err = p.rp.Code(p.auth, cb); err != nil {
			return fmt.Errorf("back at the form app: %w", err)
		}
		p.Page = Page{Status: r.Status, URL: cb.String()}
		return nil
	}
	pg := r.Page
	p.report(req.Method, pg.URL.Path, pg.Status, nil)
	p.Page = Page{Status: pg.Status, URL: pg.URL.String(), Body: pg.Body, parsed: pg}
	if pg.Status >= 500 {
		return &ErrStatus{Method: req.Method, URL: pg.URL.String(), Status: pg.Status, Body: pg.Body}
	}
	return nil
}

func (p *Person) report(method, path string, status int, err error) {
	if err != nil || status >= 500 {
		p.Failed.Add(1)
	}
	if p.OnResponse != nil {
		p.OnResponse(method, path, status, err)
	}
}

// Get fetches path (on the issuer) or an absolute URL.
func (p *Person) Get(path string) error {
	u := path
	if strings.HasPrefix(path, "/") {
		u = p.c.Issuer + path
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return p.do(req)
}

// post submits a form as a browser on the idp's own page does.
func (p *Person) post(action string, v url.Values) error {
	if strings.HasPrefix(action, "/") {
		action = p.c.Issuer + action
	}
	req, err := http.NewRequest(http.MethodPost, action, strings.NewReader(v.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.c.Issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return p.do(req)
}

// StartSignIn is the form app's 'Login or Register': a fresh authorization request
// (PKCE), followed to the idp's first page.
func (p *Person) StartSignIn() error {
	p.auth, p.code = p.rp.Start(), ""
	return p.Get(p.auth.URL)
}

// Press submits the form holding the button labelled label, with the fields given
// (a name, then its value, and so on), as a browser does: every field of the form
// goes with it, those given typed in.
func (p *Person) Press(label string, fields ...string) error {
	pg := p.Page.parsed
	if pg == nil {
		return fmt.Errorf("no button %q on %s", label, p.Page)
	}
	f, btn, ok := pg.Button(label)
	if !ok {
		return fmt.Errorf("no button %q on %s", label, p.Page)
	}
	set := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		set[fields[i]] = fields[i+1]
	}
	v, err := f.Values(btn, set)
	if err != nil {
		return fmt.Errorf("the form of %q: %w on %s", label, err, p.Page)
	}
	action, err := pg.URL.Parse(f.Action)
	if err != nil {
		return fmt.Errorf("form action %q: %w", f.Action, err)
	}
	if f.Method != "post" {
		action.RawQuery = v.Encode()
		return p.Get(action.String())
	}
	return p.post(action.String(), v)
}

// Follow clicks the link with this text.
func (p *Person) Follow(label string) error {
	if pg := p.Page.parsed; pg != nil {
		if href, ok := pg.Link(label); ok {
			u, err := pg.URL.Parse(href)
			if err != nil {
				return fmt.Errorf("link %q: %w", label, err)
			}
			return p.Get(u.String())
		}
	}
	return fmt.Errorf("no link %q on %s", label, p.Page)
}

// Heading is the h1 of the page on screen.
func (p *Person) Heading() string {
	if p.Page.parsed == nil {
		return ""
	}
	return p.Page.parsed.H1
}

// ErrUnexpectedPage is a page other than the one the person expected.
var ErrUnexpectedPage = errors.New("unexpected page")

// Expect checks the heading of the page on screen.
func (p *Person) Expect(heading string) error {
	if got := p.Heading(); got != heading {
		return fmt.Errorf("%w: heading %q, want %q on %s", ErrUnexpectedPage, got, heading, firstWords(p.Page.String(), 60))
	}
	return nil
}

// step is one action of a journey and the heading it must lead to.
func (p *Person) step(action func() error, heading string) error {
	if err := action(); err != nil {
		return err
	}
	return p.Expect(heading)
}

// ErrCodeLost: the message with the code is not in the dev inbox. The inbox is in
// Redis, one for every node (issue 14 item 8), so a node restarted before the code
// was read loses nothing: this is a failure.
var ErrCodeLost = errors.New("code not in the dev inbox")

// inboxItem is one message of GET /dev/inbox.json.
type inboxItem = sim.Item

// LatestCode is the code of the newest message on channel to to, read from the dev
// inbox through the proxy (any node shows every message), waiting up to 5 s for it.
func (p *Person) LatestCode(channel, to string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in := &sim.Inbox{URL: p.c.Issuer, Client: &http.Client{Timeout: 3 * time.Second}, PollEvery: 50 * time.Millisecond}
	it, err := in.Wait(ctx, channel, to, nil)
	if err != nil {
		return "", fmt.Errorf("%w: %s to %s: %v", ErrCodeLost, channel, to, err)
	}
	return it.Code, nil
}

// SignUpToPhone walks the login guide from 'Login or Register' to the phone number
// page: email code, name and password, 'Create'.
func (p *Person) SignUpToPhone() error {
	steps := []struct {
		do      func() error
		heading string
	}{
		{p.StartSignIn, "Sign In"},
		{func() error { return p.Follow("Sign up now") }, "Sign up"},
		{func() error { return p.Press("Send verification code", "email", p.Email) }, "Check your email"},
		{func() error {
			code, err := p.LatestCode("email", p.Email)
			if err != nil {
				return err
			}
			return p.Press("Verify code", "code", code)
		}, "Your email address has now been verified"},
		{func() error { return p.Press("Continue") }, "Create your account"},
		{func() error {
			pw := "correct horse battery staple"
			return p.Press("Create", "given-name", "Sam", "surname", "O'Neill", "password", pw, "confirm-password", pw)
		}, "Enter your phone number"},
	}
	for _, s := range steps {
		if err := p.step(s.do, s.heading); err != nil {
			return err
		}
	}
	return nil
}

// proveBySMS answers a phone page with 'Send Code' and the texted code.
func (p *Person) proveBySMS(fields ...string) error {
	if err := p.step(func() error { return p.Press("Send Code", fields...) }, "Check your phone"); err != nil {
		return err
	}
	code, err := p.LatestCode("sms", p.E164)
	if err != nil {
		return err
	}
	return p.Press("Verify code", "code", code)
}

// SignUp is the whole sign-up of the guide by text message, back to the form app,
// which redeems the code at the token endpoint.
func (p *Person) SignUp() (*oauth2.Token, error) {
	if err := p.SignUpToPhone(); err != nil {
		return nil, err
	}
	if err := p.step(func() error { return p.proveBySMS("phone", p.Phone) }, "Confirm your phone number"); err != nil {
		return nil, err
	}
	if err := p.proveBySMS(); err != nil {
		return nil, err
	}
	return p.Exchange()
}

// Exchange is the form app redeeming the code it was sent back with (through the
// proxy, like every other request).
func (p *Person) Exchange() (*oauth2.Token, error) {
	if p.code == "" {
		return nil, fmt.Errorf("%w: not back at the form app; on %s", ErrUnexpectedPage, firstWords(p.Page.String(), 60))
	}
	tok, err := p.rp.Exchange(context.Background(), p.auth, p.code)
	if err != nil {
		return nil, fmt.Errorf("token exchange: %w", err)
	}
	return tok.Token, nil
}

// countingTransport counts and reports the form app's requests like the browser's.
type countingTransport struct{ p *Person }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.p.Requests.Add(1)
	res, err := t.p.http.Transport.RoundTrip(r)
	status := 0
	if res != nil {
		status = res.StatusCode
	}
	t.p.report(r.Method, r.URL.Path, status, err)
	return res, err
}

// pageText is what a person reads of some HTML.
func pageText(h string) string { return sim.Text(h) }

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "...")
	}
	return strings.Join(f, " ")
}
