package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/idp/webtest/sim"
)

const userAgent = "idp-bench/1"

// driver runs the scenarios against one target.
type driver struct {
	t           *target
	transport   *http.Transport
	client      *http.Client // the relying party's and the inbox reader's (no cookies)
	rp          *relyingParty
	inbox       *inbox
	redirectURI string

	workers    int
	duration   time.Duration // per scenario, when iterations is 0
	iterations int           // per worker and scenario; 0 runs for duration
	rate       float64       // operations a second across workers; 0 is flat out
	run        string        // distinguishes this run's people from earlier runs'

	people []*person
	free   chan *person // people not in a journey right now

	// steps times each page request of the measured sign-in journeys.
	stepsMu sync.Mutex
	steps   map[string]*recorder
	stepSeq []string

	// login, for a peer, signs a browser in on the peer's own pages when
	// /authorize shows them; nil for the idp, whose people have a session.
	login func(ctx context.Context, b *browser) error
	// authzName names the authorize row of the code scenario.
	authzName string

	// busy counts 'Sorry, the service is busy' answers to a password
	// step, each pressed again after busyWait (pressHashing).
	busy atomic.Int64

	rss rssWatch
	out io.Writer
}

// scenario runs op from d.workers goroutines until the duration is up (or
// each has done d.iterations), timing each call. Driver goroutines carry the
// pprof label side=driver, so that a CPU profile of an in-process run can
// leave them out and show the server alone.
func (d *driver) scenario(ctx context.Context, name string, op func(ctx context.Context, worker int) error) result {
	rec := newRecorder()
	before := sampleCPU(d.t.pid)
	start := time.Now()
	deadline := start.Add(d.duration)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	paced := d.pace(ctx)
	var wg sync.WaitGroup
	for w := range d.workers {
		wg.Add(1)
		go pprof.Do(ctx, pprof.Labels("side", "driver"), func(ctx context.Context) {
			defer wg.Done()
			for i := 0; ; i++ {
				if d.iterations > 0 && i >= d.iterations || d.iterations == 0 && time.Now().After(deadline) || ctx.Err() != nil {
					return
				}
				if paced != nil {
					select {
					case <-paced:
					case <-ctx.Done():
						return
					}
				}
				t0 := time.Now()
				err := op(ctx, w)
				rec.record(time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	res := rec.result(name, time.Since(start))
	res.usage = before.to(sampleCPU(d.t.pid))
	printProgress(d.out, res)
	return res
}

// printProgress writes one line of progress: a scenario's rate, latency and
// errors.
func printProgress(w io.Writer, r result) {
	fmt.Fprintf(w, "  %-28s %8.1f/s  p50 %s  p99 %s  errors %d\n", r.name, r.rate(), ms(r.p50), ms(r.p99), r.errors)
}

// pace returns a channel that lets d.rate operations a second through, shared
// by all workers, or nil when the scenario runs flat out. An operation that
// finds no free worker waits: latency is timed from when a worker starts it,
// so a saturated server shows as a rate below the one asked for.
func (d *driver) pace(ctx context.Context) <-chan struct{} {
	if d.rate <= 0 {
		return nil
	}
	c := make(chan struct{})
	go func() {
		interval := time.Duration(float64(time.Second) / d.rate)
		next := time.Now()
		for {
			select {
			case c <- struct{}{}:
			case <-ctx.Done():
				return
			}
			next = next.Add(interval)
			if wait := time.Until(next); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return c
}

// setupPeople signs every person up, as a browser would, and keeps the
// browser (its IdP session) and the tokens of that first sign-in.
func (d *driver) setupPeople(ctx context.Context, n, phoneOffset int) (result, error) {
	d.makePeople(n, phoneOffset)
	// At most as many sign-ups at once as the idp lets password hashes wait
	// (its slots, one per core, and password.QueueFactor waiting per slot;
	// beyond that it answers 'Sorry, the service is busy'): setup is not
	// measured, only needs every person signed up.
	workers := d.workers
	if d.t.pid != 0 || d.t.inProcess {
		d.workers = min(workers, runtime.NumCPU()*(password.QueueFactor+1))
	}
	res := d.eachPerson(ctx, "sign-up journey (setup)", d.signUp)
	d.workers = workers
	if res.errors > 0 {
		return res, fmt.Errorf("%d of %d sign-ups failed; first: %s", res.errors, n, firstMessage(res))
	}
	d.free = make(chan *person, n)
	for _, p := range d.people {
		d.free <- p
	}
	return res, nil
}

// makePeople gives d n people; against a loopback target, each connects from
// an address of their own.
func (d *driver) makePeople(n, phoneOffset int) {
	d.people = make([]*person, n)
	loopback := isLoopback(d.t.issuer)
	for i := range n {
		p := newPerson(d.run, i, phoneOffset)
		p.transport = d.transport
		if loopback {
			p.transport = newTransport(2, personAddress(i))
		}
		d.people[i] = p
	}
}

// eachPerson runs fn once for every person of d, from at most d.workers
// goroutines, timing each call.
func (d *driver) eachPerson(ctx context.Context, name string, fn func(ctx context.Context, p *person) error) result {
	var next atomic.Int64
	rec := newRecorder()
	before := sampleCPU(d.t.pid)
	start := time.Now()
	var wg sync.WaitGroup
	for range min(d.workers, len(d.people)) {
		wg.Add(1)
		go pprof.Do(ctx, pprof.Labels("side", "driver"), func(ctx context.Context) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(d.people) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := fn(ctx, d.people[i])
				rec.record(time.Since(t0), err)
			}
		})
	}
	wg.Wait()
	res := rec.result(name, time.Since(start))
	res.usage = before.to(sampleCPU(d.t.pid))
	return res
}

func firstMessage(r result) string {
	for m := range r.messages {
		return oneLine(m)
	}
	return ""
}

// newBrowser is a fresh browser (no cookies) on p's connections.
func (d *driver) newBrowser(p *person) (*browser, error) {
	return newBrowser(p.transport, d.t.issuer, d.redirectURI)
}

// closePeople closes the people's idle connections.
func (d *driver) closePeople() {
	for _, p := range d.people {
		if p != nil && p.transport != d.transport {
			p.transport.CloseIdleConnections()
		}
	}
}

// signUp is guide steps 1-12 for p, ending with a code exchange that gives p
// its first tokens.
func (d *driver) signUp(ctx context.Context, p *person) error {
	b, err := d.newBrowser(p)
	if err != nil {
		return err
	}
	a := d.rp.start()
	if err := b.Open(ctx, a.URL); err != nil {
		return fmt.Errorf("sign-up: %w", err)
	}
	if err := d.walk(ctx, b, p, goalSignUp); err != nil {
		return fmt.Errorf("sign-up: %w", err)
	}
	code, err := d.rp.code(a, b.Callback)
	if err != nil {
		return fmt.Errorf("sign-up: %w", err)
	}
	tok, err := d.rp.exchange(ctx, a, code)
	if err != nil {
		return fmt.Errorf("sign-up: %w", err)
	}
	p.session, p.refresh, p.access = b, tok.RefreshToken, tok.AccessToken
	return nil
}

// signInJourney is the measured journey: a browser without an IdP session
// goes from the relying party's /authorize to the sign-in page, gives the
// password, asks for an SMS code, types it, and returns to the relying party,
// which exchanges the code and fetches userinfo.
func (d *driver) signInJourney(ctx context.Context) error {
	var p *person
	select {
	case p = <-d.free:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { d.free <- p }()
	b, err := d.newBrowser(p)
	if err != nil {
		return err
	}
	b.OnRequest = d.recordStep
	a := d.rp.start()
	if err := b.Open(ctx, a.URL); err != nil {
		return err
	}
	if err := d.walk(ctx, b, p, goalSignIn); err != nil {
		return err
	}
	code, err := d.rp.code(a, b.Callback)
	if err != nil {
		return err
	}
	t0 := time.Now()
	tok, err := d.rp.exchange(ctx, a, code)
	d.recordStep("POST token (code exchange)", time.Since(t0), err)
	if err != nil {
		return err
	}
	t0 = time.Now()
	err = d.rp.userinfo(ctx, tok.AccessToken)
	d.recordStep("GET userinfo", time.Since(t0), err)
	return err
}

func (d *driver) recordStep(label string, dur time.Duration, err error) {
	d.stepsMu.Lock()
	r, ok := d.steps[label]
	if !ok {
		r = newRecorder()
		d.steps[label] = r
		d.stepSeq = append(d.stepSeq, label)
	}
	d.stepsMu.Unlock()
	r.record(dur, err)
}

// authorizeWithSession takes an authorization code for p through p's IdP
// session: /authorize completes at once, without the login pages. Against a
// peer that shows its login pages instead (no session yet, or none at all),
// p signs in there.
func (d *driver) authorizeWithSession(ctx context.Context, p *person) (sim.Authorization, string, error) {
	a := d.rp.start()
	if err := p.session.Open(ctx, a.URL); err != nil {
		return a, "", fmt.Errorf("authorize with a session: %w", err)
	}
	if p.session.Callback == nil && d.login != nil {
		if err := d.login(ctx, p.session); err != nil {
			return a, "", fmt.Errorf("authorize: sign in at the peer: %w", err)
		}
	}
	code, err := d.rp.code(a, p.session.Callback)
	if err != nil {
		return a, "", fmt.Errorf("authorize with a session: %w (page: %s)", err, p.session.Page.Describe())
	}
	return a, code, nil
}

// codeExchanges measures the token endpoint's authorization_code grant. Codes
// live 60 seconds, so they are made in rounds: each worker takes a batch
// through its person's IdP session (timed as its own scenario), then all
// workers exchange their batches; only the exchange phases count towards the
// exchange rate.
func (d *driver) codeExchanges(ctx context.Context, batch int) (authz, exch result) {
	type pending struct {
		a    sim.Authorization
		code string
	}
	authzRec, exchRec := newRecorder(), newRecorder()
	var authzWall, exchWall time.Duration
	var authzUse, exchUse cpuUsage
	phase := func(wall *time.Duration, use *cpuUsage, f func(ctx context.Context, w int)) {
		before := sampleCPU(d.t.pid)
		start := time.Now()
		var wg sync.WaitGroup
		for w := range d.workers {
			wg.Add(1)
			go pprof.Do(ctx, pprof.Labels("side", "driver"), func(ctx context.Context) {
				defer wg.Done()
				f(ctx, w)
			})
		}
		wg.Wait()
		*wall += time.Since(start)
		u := before.to(sampleCPU(d.t.pid))
		use.known, use.driver = true, use.driver+u.driver
		if u.server >= 0 {
			use.server += u.server
		} else {
			use.server = -1
		}
		use.busyFrac += u.busyFrac * float64(time.Since(start)) // weighted; normalised below
	}
	codes := make([][]pending, d.workers)
	for round := 0; ; round++ {
		if d.iterations > 0 && round*batch >= d.iterations || d.iterations == 0 && exchWall >= d.duration || ctx.Err() != nil {
			break
		}
		n := batch
		if d.iterations > 0 {
			n = min(batch, d.iterations-round*batch)
		}
		phase(&authzWall, &authzUse, func(ctx context.Context, w int) {
			p := d.people[w]
			codes[w] = codes[w][:0]
			for range n {
				t0 := time.Now()
				a, code, err := d.authorizeWithSession(ctx, p)
				authzRec.record(time.Since(t0), err)
				if err == nil {
					codes[w] = append(codes[w], pending{a, code})
				}
			}
		})
		phase(&exchWall, &exchUse, func(ctx context.Context, w int) {
			for _, c := range codes[w] {
				t0 := time.Now()
				_, err := d.rp.exchange(ctx, c.a, c.code)
				exchRec.record(time.Since(t0), err)
			}
		})
	}
	authzName := d.authzName
	if authzName == "" {
		authzName = "authorize (SSO session)"
	}
	authz = authzRec.result(authzName, authzWall)
	exch = exchRec.result("code exchange", exchWall)
	if authzWall > 0 {
		authzUse.busyFrac /= float64(authzWall)
	}
	if exchWall > 0 {
		exchUse.busyFrac /= float64(exchWall)
	}
	authz.usage, exch.usage = authzUse, exchUse
	authz.note = "the relying party's redirect with an IdP session: /authorize, then /authorize/continue answers with the redirect back"
	if d.login != nil {
		authz.note = "/authorize, the peer's login pages when it shows them, callback"
	}
	exch.note = fmt.Sprintf("codes made in rounds of %d per worker (they live 60s); rate over the exchange phases only", batch)
	printProgress(d.out, authz)
	printProgress(d.out, exch)
	return authz, exch
}

// tokenScenarios runs the selected token-endpoint scenarios, in this order:
// code exchange (with its authorize rounds), refresh grant, userinfo. Each
// worker w acts as d.people[w], who must be signed in with tokens.
func (d *driver) tokenScenarios(ctx context.Context, want func(string) bool, codeBatch int) []result {
	var results []result
	if want("code") {
		authz, exch := d.codeExchanges(ctx, codeBatch)
		results = append(results, authz, exch)
	}
	if want("refresh") {
		res := d.scenario(ctx, "refresh grant (rotation)", d.refreshGrant)
		res.note = "each worker rotates its own refresh token family; every grant returns a new refresh token"
		results = append(results, res)
	}
	if want("userinfo") {
		results = append(results, d.scenario(ctx, "userinfo", func(ctx context.Context, w int) error {
			return d.rp.userinfo(ctx, d.people[w].access)
		}))
	}
	return results
}

// signInWorkers gives each worker, against a peer, a person with a browser of
// their own signed in through the peer's login pages, and the tokens of that
// first code exchange: what sign-up gives each person of the idp.
func (d *driver) signInWorkers(ctx context.Context) (result, error) {
	d.makePeople(d.workers, 0)
	res := d.eachPerson(ctx, "sign-in (setup)", d.signInPerson)
	res.note = "one per worker, through the peer's login pages, then the code exchange"
	if res.errors > 0 {
		return res, fmt.Errorf("%d of %d sign-ins at the peer failed; first: %s", res.errors, d.workers, firstMessage(res))
	}
	return res, nil
}

func (d *driver) signInPerson(ctx context.Context, p *person) error {
	b, err := d.newBrowser(p)
	if err != nil {
		return err
	}
	p.session = b
	a, code, err := d.authorizeWithSession(ctx, p)
	if err != nil {
		return err
	}
	tok, err := d.rp.exchange(ctx, a, code)
	if err != nil {
		return err
	}
	p.refresh, p.access = tok.RefreshToken, tok.AccessToken
	return nil
}

// refreshGrant rotates worker w's person's refresh token once.
func (d *driver) refreshGrant(ctx context.Context, w int) error {
	p := d.people[w]
	tok, err := d.rp.refresh(ctx, p.refresh)
	if err != nil {
		return err
	}
	p.refresh, p.access = tok.RefreshToken, tok.AccessToken
	return nil
}

// reuseDetected checks, once, that presenting a spent refresh token whose
// successor was used fails and revokes the family: the newest token stops
// working too. (Presented again before its successor is used, and within
// the idp's reuse interval, a spent token is a retry and gets that successor
// again: not what this checks.)
func (d *driver) reuseDetected(ctx context.Context, p *person) error {
	spent := p.refresh
	tok, err := d.rp.refresh(ctx, spent)
	if err != nil {
		return fmt.Errorf("reuse check: %w", err)
	}
	newest, err := d.rp.refresh(ctx, tok.RefreshToken)
	if err != nil {
		return fmt.Errorf("reuse check: %w", err)
	}
	if _, err := d.rp.refresh(ctx, spent); err == nil {
		return errors.New("reuse check: a spent refresh token was accepted")
	}
	if _, err := d.rp.refresh(ctx, newest.RefreshToken); err == nil {
		return errors.New("reuse check: after reuse, the family's newest refresh token still works")
	}
	p.refresh = ""
	return nil
}

// fetch is a GET scenario with a check of what came back.
func (d *driver) fetch(url string, check func([]byte) error) func(ctx context.Context, w int) error {
	return func(ctx context.Context, w int) error {
		body, err := get(ctx, d.client, url, "application/json")
		if err != nil {
			return err
		}
		return check(body)
	}
}

func checkDiscovery(issuer string) func([]byte) error {
	return func(b []byte) error {
		var m struct {
			Issuer string `json:"issuer"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("discovery: %w", err)
		}
		if strings.TrimSuffix(m.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
			return fmt.Errorf("discovery: issuer %q", m.Issuer)
		}
		return nil
	}
}

func checkJWKS(b []byte) error {
	var m struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	if len(m.Keys) == 0 {
		return errors.New("jwks: no keys")
	}
	return nil
}

// rssWatch samples the server's resident memory while load runs.
type rssWatch struct {
	mu       sync.Mutex
	idleKiB  int64
	peakKiB  int64
	samples  int
	stopFunc func()
}

func (r *rssWatch) start(pid int) {
	if pid == 0 {
		return
	}
	if rss, _, err := rssKiB(pid); err == nil {
		r.idleKiB = rss
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	r.stopFunc = func() { cancel(); <-done }
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if rss, err := rssNowKiB(pid); err == nil {
					r.mu.Lock()
					r.peakKiB = max(r.peakKiB, rss)
					r.samples++
					r.mu.Unlock()
				}
			}
		}
	}()
}

func (r *rssWatch) stop() {
	if r.stopFunc != nil {
		r.stopFunc()
		r.stopFunc = nil
	}
}
