package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/councilforms/idp/idp/limits"
)

// options are the driver's settings (flags in main.go).
type options struct {
	issuer      string // a running idp; empty starts one
	serverPID   int    // with issuer: the server's process on this machine, for CPU and RSS
	redisPrefix string // with issuer: the server's IDP_REDIS_PREFIX
	server      serverOptions

	clientID    string
	redirectURI string

	workers     int
	people      int
	phoneOffset int
	duration    time.Duration
	iterations  int
	rate        float64 // per scenario, across workers; 0 is flat out
	codeBatch   int

	scenarios    []string // which measured scenarios run
	hashDuration time.Duration
	inFlight     int           // journeys left in flight for the Redis memory measurement; 0 skips
	peer         string        // "", "install" or the path of the zitadel example OP's binary
	hydraBin     string        // with peer: a built Hydra to run instead of building one
	peers        []string      // with peer: which peers run (peerNames)
	cpuProfile   io.Writer     // profile this process (the driver, and an in-process server) during the measured scenarios
	quiet        float64       // wait until the 1-minute load average is below this (0: do not wait)
	quietFor     time.Duration // how long to wait at most
}

var allScenarios = []string{"discovery", "jwks", "journey", "inbox", "code", "refresh", "userinfo"}

// report is everything one run measured.
type report struct {
	machine    string
	loadStart  string // /proc/loadavg before and after the run
	loadEnd    string
	markdown   bool // print the tables in Markdown too
	paced      bool // scenarios ran at a fixed rate: throughput is not capacity
	backend    string
	setup      result
	results    []result
	hashes     []hashMeasure // raw argon2id, before and after the journeys
	journeys   float64       // sign-in journeys per second
	journeyOps int
	inbox      result // dev inbox reads during the journeys
	steps      []result
	rssIdle    int64 // KiB; 0 when unknown
	rssPeak    int64
	rssHWM     int64
	memory     *memoryReport
	peers      []peerReport // the peers' runs of the same scenarios, same settings
	errs       []error      // what failed outside the scenarios' own error counts
}

// failed reports whether anything went wrong: any scenario error or any
// failure around them.
func (r *report) failed() bool {
	if len(r.errs) > 0 || r.setup.errors > 0 || r.inbox.errors > 0 {
		return true
	}
	hasErrors := func(res result) bool { return res.errors > 0 }
	if slices.ContainsFunc(r.results, hasErrors) {
		return true
	}
	for _, p := range r.peers {
		if slices.ContainsFunc(p.results, hasErrors) {
			return true
		}
	}
	return r.memory != nil && r.memory.failed > 0
}

// bench runs the whole benchmark and reports progress to out.
func bench(ctx context.Context, o options, out io.Writer) (*report, error) {
	rep := &report{machine: machineInfo(), paced: o.rate > 0}
	if o.quiet > 0 {
		waitQuiet(ctx, o.quiet, o.quietFor, out)
	}
	rep.loadStart = loadAvg()
	defer func() { rep.loadEnd = loadAvg() }()
	t := &target{issuer: strings.TrimSuffix(o.issuer, "/"), pid: o.serverPID, redisURL: o.server.redisURL, redisPrefix: o.redisPrefix, backend: "running server"}
	if o.issuer == "" {
		fmt.Fprintln(out, "starting the idp...")
		var err error
		t, err = startServer(ctx, o.server)
		if err != nil {
			return rep, err
		}
		defer func() {
			if err := t.stop(); err != nil {
				fmt.Fprintf(out, "stopping the idp: %v\n", err)
			}
		}()
	}
	rep.backend = t.backend
	fmt.Fprintf(out, "idp at %s (%s)\n", t.issuer, t.backend)

	transport := newTransport(o.workers+4, nil)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: time.Minute}
	d := &driver{
		t: t, transport: transport, client: client, redirectURI: o.redirectURI,
		inbox:   newInbox(t.issuer, client),
		workers: o.workers, duration: o.duration, iterations: o.iterations, rate: o.rate,
		run:   strings.ToLower(rand.Text()[:8]),
		steps: map[string]*recorder{}, out: out,
	}
	defer d.closePeople()

	rp, err := newRelyingParty(ctx, client, t.issuer, o.clientID, o.redirectURI)
	if err != nil {
		return rep, fmt.Errorf("relying party: %w", err)
	}
	d.rp = rp
	d.rss.start(t.pid)
	defer d.rss.stop()

	people := max(o.people, o.workers)
	if people > maxPeople {
		return rep, fmt.Errorf("at most %d people (the drama phone number range), got %d", maxPeople, people)
	}
	fmt.Fprintf(out, "signing up %d people...\n", people)
	rep.setup, err = d.setupPeople(ctx, people, o.phoneOffset)
	printProgress(out, rep.setup)
	if err != nil {
		return rep, err
	}

	want := func(s string) bool { return slices.Contains(o.scenarios, s) }
	if o.cpuProfile != nil {
		if err := pprof.StartCPUProfile(o.cpuProfile); err != nil {
			return rep, err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(out, "running scenarios with %d workers, %s each...\n", o.workers, runLength(o))
	if want("discovery") {
		rep.results = append(rep.results, d.scenario(ctx, "discovery", d.fetch(discoveryURL(t.issuer), checkDiscovery(t.issuer))))
	}
	if want("jwks") {
		rep.results = append(rep.results, d.scenario(ctx, "JWKS", d.fetch(rp.meta.JWKSURI, checkJWKS)))
	}
	// The limit, on the same cores while the server is idle: raw argon2id
	// hashes per second, just before and just after the journeys.
	measureHashes := func(when string) error {
		if o.hashDuration <= 0 {
			return nil
		}
		m, err := hashRate(ctx, o.hashDuration)
		if err != nil {
			return fmt.Errorf("argon2id: %w", err)
		}
		rep.hashes = append(rep.hashes, m)
		fmt.Fprintf(out, "  argon2id %-19s %8.1f hashes/s, %s CPU each (server parameters, %d at once, %s)\n", when, m.rate, ms(m.cpu), m.workers, o.hashDuration)
		return nil
	}
	if want("journey") {
		if err := measureHashes("before journeys"); err != nil {
			return rep, err
		}
		d.inbox.resetReads()
		d.busy.Store(0)
		restore := leanDriver(t)
		res := d.scenario(ctx, "sign-in journey", func(ctx context.Context, w int) error { return d.signInJourney(ctx) })
		restore()
		res.note = "fresh browser: /authorize, Sign in (password), Send Code, SMS code from the dev inbox, code exchange, userinfo"
		if perPerson := float64(res.ops+res.errors) / float64(people); res.errors > 0 && perPerson > 7 {
			res.note += fmt.Sprintf("; %.1f journeys per person: the idp sends one number at most IDP_SEND_HOURLY_PER_RECIPIENT texts an hour (%d unless set; the idp the driver starts has it raised), so run with more -people", perPerson, limits.DefaultSendsPerRecipientHour)
		}
		if n := d.busy.Load(); n > 0 {
			res.note += fmt.Sprintf("; 'Sorry, the service is busy' (the password hash queue full) %d times, each pressed again after %s", n, busyWait)
		}
		rep.results = append(rep.results, res)
		rep.journeys = res.rate()
		rep.inbox = d.inbox.resetReads().result("dev inbox reads", res.wall)
		rep.journeyOps = res.ops
		for _, label := range d.stepSeq {
			rep.steps = append(rep.steps, d.steps[label].result(label, res.wall))
		}
		if err := measureHashes("after journeys"); err != nil {
			return rep, err
		}
	} else if err := measureHashes("(no journeys run)"); err != nil {
		return rep, err
	}
	if want("inbox") {
		// What one read of the dev inbox costs, now that it holds the journeys'
		// messages: the bench's own share of each journey. Each worker asks
		// for one person's messages, as the journeys' poller does.
		var items atomic.Int64
		check := func(b []byte) error {
			var list []json.RawMessage
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("dev inbox: %w", err)
			}
			items.Store(int64(len(list)))
			return nil
		}
		reads := make([]func(context.Context, int) error, o.workers)
		for w := range reads {
			reads[w] = d.fetch(t.issuer+"/dev/inbox.json?to="+url.QueryEscape(d.people[w].e164), check)
		}
		inboxRes := d.scenario(ctx, "dev inbox read", func(ctx context.Context, w int) error { return reads[w](ctx, w) })
		inboxRes.note = fmt.Sprintf("bench overhead, not a real sign-in's: one person's messages per read (?to=; %d in the last read)", items.Load())
		rep.results = append(rep.results, inboxRes)
	}
	rep.results = append(rep.results, d.tokenScenarios(ctx, want, o.codeBatch)...)
	if want("refresh") {
		if err := d.reuseDetected(ctx, d.people[0]); err != nil {
			rep.errs = append(rep.errs, err)
		} else {
			fmt.Fprintln(out, "  refresh token reuse: detected, family revoked")
		}
	}
	d.rss.stop()
	if t.pid > 0 {
		rep.rssIdle, rep.rssPeak = d.rss.idleKiB, d.rss.peakKiB
		_, rep.rssHWM, _ = rssKiB(t.pid)
	}

	if o.inFlight > 0 && t.redisURL != "" && t.redisPrefix != "" {
		fmt.Fprintf(out, "leaving %d journeys in flight to measure Redis memory...\n", o.inFlight)
		m, err := d.inFlightMemory(ctx, o.inFlight)
		rep.memory = &m
		if err != nil {
			rep.errs = append(rep.errs, fmt.Errorf("in-flight journeys: %w", err))
		}
	}

	if o.peer != "" {
		for _, name := range o.peers {
			p, _ := peerByName(name)
			pr, err := runPeer(ctx, d, p, o, want)
			if err != nil {
				rep.errs = append(rep.errs, fmt.Errorf("peer %s: %w", p.name, err))
			}
			rep.peers = append(rep.peers, pr)
		}
	}
	return rep, nil
}

// leanDriver makes this process spend less CPU on its own runtime while the
// sign-in journeys run, when the server is another process: the driver
// shares the cores with the server, and every millisecond it spends is taken
// from the journeys it measures. One P (the driver needs a small fraction of
// a core) stops idle Ps spinning and waking each other for every response a
// transport goroutine hands over; a higher GC target (the driver's live heap
// is a few MiB) makes collections rarer. The argon2id measurements, which
// need every core, run outside it. It returns what restores the settings.
func leanDriver(t *target) (restore func()) {
	if t.inProcess {
		return func() {} // the server's runtime too: leave it as it is
	}
	procs := runtime.GOMAXPROCS(1)
	gc := debug.SetGCPercent(400)
	return func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
	}
}

func runLength(o options) string {
	s := o.duration.String()
	if o.iterations > 0 {
		s = fmt.Sprintf("%d iterations per worker", o.iterations)
	}
	if o.rate > 0 {
		s += fmt.Sprintf(", paced at %g/s", o.rate)
	}
	return s
}

// print writes the report: the table, the limit, memory and the breakdown of
// the sign-in journey.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nMachine: %s\nServer:  %s\nLoad average (1, 5, 15 min) at the start: %s; at the end: %s\n\n", r.machine, r.backend, r.loadStart, r.loadEnd)
	printResults(w, append([]result{r.setup}, r.results...))
	if r.markdown {
		fmt.Fprintln(w)
		printMarkdown(w, append([]result{r.setup}, r.results...))
	}
	if limit := r.hashRate(); limit > 0 {
		fmt.Fprintf(w, "\nargon2id limit: %.1f hashes/s, the higher of %s (m=19 MiB, t=2, p=1; %d at once on %d cores), %s CPU per hash\n",
			limit, rates(r.hashes), r.hashes[0].workers, runtime.NumCPU(), ms(r.hashCPU()))
		switch {
		case r.journeys > 0 && r.paced:
			fmt.Fprintf(w, "sign-in journeys/s ÷ hashes/s: not measured, the journeys ran at a fixed rate (%.1f/s)\n", r.journeys)
		case r.journeys > 0:
			fmt.Fprintf(w, "sign-in journeys/s ÷ hashes/s = %.1f / %.1f = %.2f\n", r.journeys, limit, r.journeys/limit)
		}
		if j := r.journeyResult(); j != nil && j.usage.server > 0 && j.ops > 0 {
			per := j.usage.server / time.Duration(j.ops)
			fmt.Fprintf(w, "CPU per journey, server only: %s = %.2f argon2id hashes of CPU; CPU-bound ratio (hash CPU ÷ journey CPU) %.2f\n",
				ms(per), float64(per)/float64(r.hashCPU()), float64(r.hashCPU())/float64(per))
		}
	}
	if r.inbox.ops > 0 {
		fmt.Fprintf(w, "dev inbox reads during the journeys: %d (%.2f per journey, one read serves everyone waiting), mean %s, p99 %s: bench overhead inside the journey, not part of a real sign-in\n",
			r.inbox.ops, float64(r.inbox.ops)/float64(max(1, r.journeyOps)), ms(r.inbox.mean), ms(r.inbox.p99))
	}
	if len(r.steps) > 0 {
		fmt.Fprintln(w, "\nsign-in journey, step by step (latency under the same load):")
		var total time.Duration
		for _, s := range r.steps {
			total += s.mean * time.Duration(s.ops)
		}
		for _, s := range r.steps {
			share := 0.0
			if total > 0 {
				share = 100 * float64(s.mean*time.Duration(s.ops)) / float64(total)
			}
			fmt.Fprintf(w, "  %-44s n=%-6d mean %-9s p95 %-9s %4.1f%% of journey time  errors %d\n", s.name, s.ops, ms(s.mean), ms(s.p95), share, s.errors)
		}
	}
	if r.rssIdle > 0 {
		fmt.Fprintf(w, "\nserver RSS: idle %.1f MiB, peak under load %.1f MiB (sampled), VmHWM %.1f MiB\n",
			float64(r.rssIdle)/1024, float64(r.rssPeak)/1024, float64(r.rssHWM)/1024)
	}
	if r.memory != nil {
		fmt.Fprintln(w)
		r.memory.print(w)
	}
	for _, p := range r.peers {
		r.printPeer(w, p)
	}
	for _, err := range r.errs {
		fmt.Fprintf(w, "error: %v\n", err)
	}
}

// hashRate is the argon2id limit: the higher measurement, so that the ratio
// of journeys to it is not flattered by a slow moment.
func (r *report) hashRate() float64 {
	best := 0.0
	for _, x := range r.hashes {
		best = max(best, x.rate)
	}
	return best
}

// hashCPU is the lower CPU time per hash measured.
func (r *report) hashCPU() time.Duration {
	var best time.Duration
	for _, x := range r.hashes {
		if best == 0 || x.cpu > 0 && x.cpu < best {
			best = x.cpu
		}
	}
	return best
}

func (r *report) journeyResult() *result {
	for i := range r.results {
		if r.results[i].name == "sign-in journey" {
			return &r.results[i]
		}
	}
	return nil
}

func rates(xs []hashMeasure) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.1f", x.rate)
	}
	return strings.Join(s, " and ")
}

// loadAvg is the 1, 5 and 15 minute load averages: how busy the machine was
// with other work, which the numbers share the cores with.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// waitQuiet waits, at most for, until the 1-minute load average is below
// limit, so that other work on a shared machine does not take the cores.
func waitQuiet(ctx context.Context, limit float64, most time.Duration, out io.Writer) {
	deadline := time.Now().Add(most)
	for {
		var l float64
		fmt.Sscan(loadAvg(), &l)
		if l < limit {
			return
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(out, "load average still %.2f after %s; running anyway\n", l, most)
			return
		}
		fmt.Fprintf(out, "load average %.2f, waiting for it to fall below %.2f...\n", l, limit)
		select {
		case <-ctx.Done():
			return
		case <-time.After(15 * time.Second):
		}
	}
}

// machineInfo describes this machine for the report.
func machineInfo() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		var kb int64
		fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), "%d", &kb)
		mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
	}
	return fmt.Sprintf("%d cores (%s)%s, %s %s/%s", runtime.NumCPU(), model, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
