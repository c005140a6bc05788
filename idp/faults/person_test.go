package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Person is one person's browser (a cookie jar, the page on screen) and the form app
// they came from, all talking to the cluster through the proxy. Its methods return an
// error instead of failing the test, so that a load generator can count what went
// wrong; scenarios turn errors into failures.
type Person struct {
	c       *Cluster
	http    *http.Client
	rp      *oauth2.Config
	Email   string
	Phone   string // as typed: 07700 900xxx
	E164    string
	Page    Page
	Timeout time.Duration // per request; 30 s when zero

	verifier, state string
	code            string // the authorization code once back at the form app

	// Requests counts every request the person made, Failed those that got no
	// answer or a 5xx; OnResponse, when set, sees each one's outcome.
	Requests   atomic.Int64
	Failed     atomic.Int64
	OnResponse func(method, path string, status int, err error)
}

// Page is what the browser shows.
type Page struct {
	Status int
	URL    string
	Body   string
}

func (p Page) String() string { return fmt.Sprintf("%d %s\n%s", p.Status, p.URL, pageText(p.Body)) }

var people atomic.Int64

// Person is a new person with a fresh browser, an email address and a drama-range
// mobile number of their own.
func (c *Cluster) Person() *Person {
	n := people.Add(1)
	jar, _ := cookiejar.New(nil)
	p := &Person{
		c:     c,
		Email: fmt.Sprintf("worker%d.%d@example.gov.uk", n, time.Now().UnixNano()%1e6),
		Phone: fmt.Sprintf("07700 900%03d", n%1000),
		E164:  fmt.Sprintf("+447700900%03d", n%1000),
		rp: &oauth2.Config{ClientID: ClientID, RedirectURL: RPRedirect,
			Scopes:   []string{"openid", "profile", "email", "phone"},
			Endpoint: oauth2.Endpoint{AuthURL: c.Issuer + "/authorize", TokenURL: c.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}},
	}
	p.http = &http.Client{Jar: jar, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "rp.test" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
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

// do sends req; every redirect on the way is followed (and counted) except the last
// one to the form app, whose code is kept.
func (p *Person) do(req *http.Request) error {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	req = req.WithContext(ctx)
	p.Requests.Add(1)
	res, err := p.http.Do(req)
	if err != nil {
		p.report(req.Method, req.URL.Path, 0, err)
		return fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		p.report(req.Method, res.Request.URL.Path, res.StatusCode, err)
		return fmt.Errorf("%s %s: read body: %w", req.Method, res.Request.URL, err)
	}
	p.report(req.Method, res.Request.URL.Path, res.StatusCode, nil)
	if loc := res.Header.Get("Location"); res.StatusCode/100 == 3 && strings.HasPrefix(loc, RPRedirect) {
		u, _ := url.Parse(loc)
		if got := u.Query().Get("state"); got != p.state {
			return fmt.Errorf("back at the form app with state %q, want %q", got, p.state)
		}
		if p.code = u.Query().Get("code"); p.code == "" {
			return fmt.Errorf("back at the form app without a code: %s", loc)
		}
		p.Page = Page{Status: res.StatusCode, URL: loc}
		return nil
	}
	p.Page = Page{Status: res.StatusCode, URL: res.Request.URL.String(), Body: string(body)}
	if res.StatusCode >= 500 {
		return &ErrStatus{Method: req.Method, URL: res.Request.URL.String(), Status: res.StatusCode, Body: string(body)}
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
	req, err := http.NewRequest(http.MethodPost, p.c.Issuer+action, strings.NewReader(v.Encode()))
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
	p.verifier, p.state, p.code = oauth2.GenerateVerifier(), oauth2.GenerateVerifier()[:22], ""
	return p.Get(p.rp.AuthCodeURL(p.state, oauth2.S256ChallengeOption(p.verifier)))
}

var (
	formRe    = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	buttonRe  = regexp.MustCompile(`(?s)<button type="submit"([^>]*)>\s*(.*?)\s*</button>`)
	attrRe    = regexp.MustCompile(`(name|value)="([^"]*)"`)
	linkRe    = regexp.MustCompile(`(?s)<a [^>]*href="([^"]*)"[^>]*>\s*(.*?)\s*</a>`)
	headingRe = regexp.MustCompile(`(?s)<h1[^>]*>(.*?)</h1>`)
	tagRe     = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]+>`)
	spaceRe   = regexp.MustCompile(`\s+`)
)

// Press submits the form holding the button labelled label, with the fields given
// (a name, then its value, and so on).
func (p *Person) Press(label string, fields ...string) error {
	for _, f := range formRe.FindAllStringSubmatch(p.Page.Body, -1) {
		for _, btn := range buttonRe.FindAllStringSubmatch(f[2], -1) {
			if pageText(btn[2]) != label {
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
			for i := 0; i+1 < len(fields); i += 2 {
				if !strings.Contains(f[2], `name="`+fields[i]+`"`) {
					return fmt.Errorf("no field %q in the form of %q on %s", fields[i], label, p.Page)
				}
				v.Set(fields[i], fields[i+1])
			}
			return p.post(html.UnescapeString(f[1]), v)
		}
	}
	return fmt.Errorf("no button %q on %s", label, p.Page)
}

// Follow clicks the link with this text.
func (p *Person) Follow(label string) error {
	for _, l := range linkRe.FindAllStringSubmatch(p.Page.Body, -1) {
		if pageText(l[2]) == label {
			return p.Get(html.UnescapeString(l[1]))
		}
	}
	return fmt.Errorf("no link %q on %s", label, p.Page)
}

// Heading is the h1 of the page on screen.
func (p *Person) Heading() string {
	m := headingRe.FindStringSubmatch(p.Page.Body)
	if m == nil {
		return ""
	}
	return pageText(m[1])
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
type inboxItem struct {
	ID      string    `json:"id"`
	Channel string    `json:"channel"`
	To      string    `json:"to"`
	Code    string    `json:"code"`
	Created time.Time `json:"created_at"`
}

// LatestCode is the code of the newest message on channel to to, read from the dev
// inbox through the proxy (any node shows every message), waiting up to 5 s for it.
func (p *Person) LatestCode(channel, to string) (string, error) {
	var found inboxItem
	c := &http.Client{Timeout: 3 * time.Second}
	ok := waitFor(5*time.Second, func() bool {
		res, err := c.Get(p.c.Issuer + "/dev/inbox.json?to=" + url.QueryEscape(to))
		if err != nil {
			return false // the proxy had no node to ask
		}
		var items []inboxItem
		err = json.NewDecoder(res.Body).Decode(&items)
		res.Body.Close()
		if err != nil {
			return false // a 503 while a node's Redis is away, say
		}
		for _, it := range items {
			if it.Channel == channel && it.To == to && it.Code != "" && it.Created.After(found.Created) {
				found = it
			}
		}
		return found.Code != ""
	})
	if !ok {
		return "", fmt.Errorf("%w: %s to %s", ErrCodeLost, channel, to)
	}
	return found.Code, nil
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
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: countingTransport{p}, Timeout: 30 * time.Second})
	tok, err := p.rp.Exchange(ctx, p.code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return nil, fmt.Errorf("token exchange: %w", err)
	}
	if _, ok := tok.Extra("id_token").(string); !ok {
		return nil, errors.New("token response without an id_token")
	}
	return tok, nil
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
func pageText(h string) string {
	return strings.TrimSpace(spaceRe.ReplaceAllString(html.UnescapeString(tagRe.ReplaceAllString(h, " ")), " "))
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "...")
	}
	return strings.Join(f, " ")
}
