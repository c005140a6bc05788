package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// MaxBody bounds what the browser reads of one response.
const MaxBody = 4 << 20

// Browser is one person's web browser: its own cookie jar, redirects followed
// as a browser follows them, forms posted with the Origin and Sec-Fetch-Site
// headers a browser sends, until a redirect leads to the relying party's
// origin, where it stops (nothing need listen there): at the redirect URI it
// keeps that URL in Callback for the relying party to read; elsewhere (a
// post-logout URI) the redirect itself is the Page.
//
// A Browser is used by one goroutine at a time.
type Browser struct {
	Client *http.Client
	// Origin is the idp's origin: relative addresses are resolved against it,
	// and form posts carry it.
	Origin string
	// Header is sent with every request (a User-Agent, an Accept, or the
	// X-Forwarded-For a trusted proxy would add).
	Header http.Header
	// FoldLabels compares button labels and link texts ignoring case.
	FoldLabels bool
	// MainOnly reads only the <main> element of each page (see ParseMain).
	MainOnly bool
	// OnRequest, when set, is told how long each request took, redirects
	// followed included, labelled by method and path.
	OnRequest func(label string, d time.Duration, err error)

	// Page is the last page shown (nil once the redirect URI is reached).
	Page *Page
	// Status is the status of the last response.
	Status int
	// Callback is the redirect URI with its query, once a redirect reached it.
	Callback *url.URL

	redirect *url.URL
}

// Options are how a Browser connects.
type Options struct {
	Transport http.RoundTripper // nil: http.DefaultTransport
	Jar       http.CookieJar    // nil: a new, empty jar
	Timeout   time.Duration     // per request, redirects included; 0: none
}

// NewBrowser is a browser with an empty cookie jar (or o.Jar) that talks to
// the idp at issuer and stops at redirectURI (scheme, host and path compared).
func NewBrowser(issuer, redirectURI string, o Options) (*Browser, error) {
	iss, err := url.Parse(issuer)
	if err != nil {
		return nil, err
	}
	ru, err := url.Parse(redirectURI)
	if err != nil {
		return nil, err
	}
	jar := o.Jar
	if jar == nil {
		if jar, err = cookiejar.New(nil); err != nil {
			return nil, err
		}
	}
	b := &Browser{Origin: iss.Scheme + "://" + iss.Host, Header: http.Header{}, redirect: ru}
	b.Client = &http.Client{
		Transport: o.Transport,
		Jar:       jar,
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.atRelyingParty(req.URL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 20 {
				return errors.New("stopped after 20 redirects")
			}
			return nil
		},
	}
	return b, nil
}

// AtRedirectURI reports whether u is the relying party's redirect URI.
func (b *Browser) AtRedirectURI(u *url.URL) bool {
	return u.Scheme == b.redirect.Scheme && u.Host == b.redirect.Host && u.Path == b.redirect.Path
}

// atRelyingParty reports whether u is on the relying party's origin, where
// the browser stops: nothing need listen there.
func (b *Browser) atRelyingParty(u *url.URL) bool {
	return u.Scheme == b.redirect.Scheme && u.Host == b.redirect.Host
}

// StatusError is a page answered with a status of 400 or more; the browser
// shows it (Page) all the same.
type StatusError struct {
	Method string
	Page   *Page
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: page %s", e.Method, e.Page.Describe())
}

// ErrNotHTML is an answer that is not an HTML page: the browser keeps it as a
// Page with a Body and nothing parsed.
var ErrNotHTML = errors.New("not an HTML page")

// Open navigates to rawURL, absolute or a path on the idp (a GET, as typed
// into the address bar or reached by following a link).
func (b *Browser) Open(ctx context.Context, rawURL string) error {
	if strings.HasPrefix(rawURL, "/") {
		rawURL = b.Origin + rawURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	return b.Do(req)
}

// Click follows the link whose visible text is text.
func (b *Browser) Click(ctx context.Context, text string) error {
	if b.Page == nil {
		return fmt.Errorf("no page to find link %q on", text)
	}
	link := b.Page.Link
	if b.FoldLabels {
		link = b.Page.LinkFold
	}
	href, ok := link(text)
	if !ok {
		return fmt.Errorf("no link %q on page %s", text, b.Page.Describe())
	}
	u, err := b.Page.URL.Parse(href)
	if err != nil {
		return fmt.Errorf("link %q: %w", text, err)
	}
	return b.Open(ctx, u.String())
}

// Press fills the fields of the form holding the button labelled label and
// submits it by pressing that button.
func (b *Browser) Press(ctx context.Context, label string, fill map[string]string) error {
	if b.Page == nil {
		return fmt.Errorf("no page to press %q on", label)
	}
	find := b.Page.Button
	if b.FoldLabels {
		find = b.Page.ButtonFold
	}
	f, btn, ok := find(label)
	if !ok {
		return fmt.Errorf("no button %q on page %s", label, b.Page.Describe())
	}
	return b.Submit(ctx, f, btn, fill)
}

// Submit posts form f of the page shown (or GETs it, as its method says) as
// pressing btn does, with the fields in fill typed in.
func (b *Browser) Submit(ctx context.Context, f *Form, btn *Button, fill map[string]string) error {
	vals, err := f.Values(btn, fill)
	if err != nil {
		return fmt.Errorf("page %s: %w", b.Page.Describe(), err)
	}
	action, err := b.Page.URL.Parse(f.Action)
	if err != nil {
		return fmt.Errorf("form action %q: %w", f.Action, err)
	}
	if f.Method != "post" {
		action.RawQuery = vals.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, action.String(), nil)
		if err != nil {
			return err
		}
		return b.Do(req)
	}
	return b.Post(ctx, action.String(), vals)
}

// Post sends a form post as a browser on the idp's own page does (Origin and
// Sec-Fetch-Site included) to action, absolute or a path on the idp.
func (b *Browser) Post(ctx context.Context, action string, vals url.Values) error {
	if strings.HasPrefix(action, "/") {
		action = b.Origin + action
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(vals.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.Origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.Do(req)
}

// Do sends req with the browser's headers, follows redirects and reads the
// page it ends on, or records the redirect URI reached (Callback; Page nil).
// A page with a status of 400 or more is a *StatusError, an answer other than
// HTML wraps ErrNotHTML; either way it is kept as Page.
func (b *Browser) Do(req *http.Request) (err error) {
	b.Callback, b.Status = nil, 0
	if b.OnRequest != nil {
		start, label := time.Now(), req.Method+" "+PathLabel(req.URL.Path)
		defer func() { b.OnRequest(label, time.Since(start), err) }()
	}
	r, err := b.Fetch(req)
	b.Status = r.Status
	if r.Page != nil || r.Callback != nil {
		b.Page, b.Callback = r.Page, r.Callback
	}
	return err
}

// Result is what one request showed: a page, or the redirect URI reached.
type Result struct {
	Page     *Page    // nil at the redirect URI, or when no answer came
	Callback *url.URL // the redirect URI with its query, when reached
	Status   int      // of the last response; 0 when none came
}

// Fetch is Do without changing what the browser shows (Page, Callback,
// Status): requests on the same cookies from several goroutines at once (a
// double-submitted form) each get their own Result.
func (b *Browser) Fetch(req *http.Request) (Result, error) {
	for k, vs := range b.Header {
		req.Header[k] = vs
	}
	res, err := b.Client.Do(req)
	if err != nil {
		return Result{}, err
	}
	defer res.Body.Close()
	r := Result{Status: res.StatusCode}
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxBody))
	if err != nil {
		return r, fmt.Errorf("%s %s: read body: %w", req.Method, res.Request.URL.Path, err)
	}
	if res.StatusCode/100 == 3 {
		if loc, err := res.Location(); err == nil && b.atRelyingParty(loc) {
			if b.AtRedirectURI(loc) {
				r.Callback = loc
				return r, nil
			}
			// Another address of the form app (a post-logout URI): the
			// redirect is what the browser shows.
			r.Page = &Page{URL: res.Request.URL, Status: res.StatusCode, Header: res.Header}
			return r, nil
		}
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if ct != "text/html" {
		r.Page = &Page{URL: res.Request.URL, Status: res.StatusCode, Header: res.Header, Body: string(body)}
		return r, fmt.Errorf("%s %s: status %d, %w (%s): %.200s", req.Method, res.Request.URL.Path, res.StatusCode, ErrNotHTML, ct, body)
	}
	parse := Parse
	if b.MainOnly {
		parse = ParseMain
	}
	r.Page = parse(res.Request.URL, res.StatusCode, res.Header, string(body))
	if res.StatusCode >= 400 {
		return r, &StatusError{Method: req.Method, Page: r.Page}
	}
	return r, nil
}

// PathLabel names a request path for a step breakdown: segments that look
// like random ids become {id}.
func PathLabel(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if len(s) >= 16 && strings.ContainsAny(s, "0123456789") {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}
