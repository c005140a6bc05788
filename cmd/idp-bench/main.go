package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/councilforms/idp/idp/limits"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses flags, runs the benchmark and prints the report: exit status 0
// when nothing failed, 1 on any error, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idp-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var scenarios, peers, cpuProfile, serverLog string
	var markdown bool
	fs.StringVar(&o.issuer, "issuer", "", "issuer URL of a running idp in dev mode (default: build and start one)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "with -issuer: the server's process id on this machine, for its CPU and RSS")
	fs.StringVar(&o.redisPrefix, "redis-prefix", "", "with -issuer and -redis: the server's IDP_REDIS_PREFIX, for the Redis memory measurement")
	fs.BoolVar(&o.server.inProcess, "inprocess", false, "serve the idp inside this process (for -cpuprofile; server CPU and RSS are then not measured apart)")
	fs.StringVar(&o.server.idpBin, "idp-bin", "", "idp binary to start (default: go build ./cmd/idp)")
	fs.StringVar(&o.server.postgresAdmin, "postgres", "", "PostgreSQL admin URL: the started idp gets a fresh database there, dropped afterwards (default: SQLite)")
	fs.StringVar(&o.server.redisURL, "redis", "", "Redis URL for the started idp's journeys (default: in-process), and for the Redis memory measurement")
	fs.StringVar(&o.server.signingAlg, "signing-alg", "", "token signing algorithm of the started idp: RS256 or ES256 (default: the idp's)")
	fs.StringVar(&o.clientID, "client-id", benchClientID, "public client with redirect URI -redirect-uri that may ask for offline_access")
	fs.StringVar(&o.redirectURI, "redirect-uri", defaultRedirectURI, "the client's redirect URI (nothing needs to listen there)")
	fs.IntVar(&o.workers, "c", 16, "concurrent simulated people per scenario")
	fs.IntVar(&o.people, "people", 200, fmt.Sprintf("accounts signed up before the scenarios (at least -c; at most 1000); an idp given with -issuer lets one number receive IDP_SEND_HOURLY_PER_RECIPIENT texts an hour (%d unless set), so long runs against it need more people", limits.DefaultSendsPerRecipientHour))
	fs.IntVar(&o.phoneOffset, "phone-offset", 0, "first drama phone number used (07700 900000 + offset)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "duration of each scenario")
	fs.IntVar(&o.iterations, "n", 0, "operations per worker and scenario instead of -d")
	fs.Float64Var(&o.rate, "rate", 0, "operations a second per scenario across all workers, e.g. half the measured capacity for a soak (0: as fast as the workers go)")
	fs.IntVar(&o.codeBatch, "code-batch", 50, "authorization codes each worker makes before exchanging them")
	fs.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "scenarios to run")
	fs.DurationVar(&o.hashDuration, "hash-duration", 5*time.Second, "how long to measure raw argon2id hashes/s (0 skips)")
	fs.IntVar(&o.inFlight, "inflight", 200, "journeys left in flight to measure Redis memory (needs Redis; 0 skips)")
	fs.StringVar(&o.peer, "peer", "", `"install" to install the peers (-peers) into a temporary directory and run the same scenarios against them, or the path of the zitadel/oidc example OP's binary (the other peers are installed)`)
	fs.StringVar(&o.hydraBin, "hydra-bin", "", "with -peer: a Hydra "+hydraVersion+" binary to run instead of building one from the module proxy (minutes)")
	fs.StringVar(&peers, "peers", strings.Join(peerNames, ","), "with -peer: the peers to compare with")
	fs.Float64Var(&o.quiet, "quiet", 0, "first wait until the 1-minute load average is below this (0: start at once)")
	fs.DurationVar(&o.quietFor, "quiet-for", 30*time.Minute, "how long -quiet waits at most")
	fs.BoolVar(&markdown, "markdown", false, "print the result tables in Markdown as well")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process during the measured scenarios (after sign-up): of the driver alone when the server is another process; with -inprocess, of both, driver goroutines labelled side=driver (net/http's client transport goroutines are not)")
	fs.StringVar(&serverLog, "server-log", "", "file for the started idp's warnings and errors (default: stderr)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "idp-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	o.scenarios = strings.Split(scenarios, ",")
	for _, s := range o.scenarios {
		if !contains(allScenarios, s) {
			fmt.Fprintf(stderr, "idp-bench: unknown scenario %q (known: %s)\n", s, strings.Join(allScenarios, ", "))
			return 2
		}
	}
	if o.peer != "" {
		o.peers = strings.Split(peers, ",")
		for _, s := range o.peers {
			if _, ok := peerByName(s); !ok {
				fmt.Fprintf(stderr, "idp-bench: unknown peer %q (known: %s)\n", s, strings.Join(peerNames, ", "))
				return 2
			}
		}
	}
	switch {
	case o.workers < 1 || o.codeBatch < 1:
		fmt.Fprintln(stderr, "idp-bench: -c and -code-batch must be at least 1")
		return 2
	case o.issuer != "" && (o.server.inProcess || o.server.postgresAdmin != "" || o.server.idpBin != "" || o.server.signingAlg != ""):
		fmt.Fprintln(stderr, "idp-bench: -issuer targets a running idp; -inprocess, -postgres, -idp-bin and -signing-alg start one")
		return 2
	}
	o.server.log = stderr
	if serverLog != "" {
		f, err := os.Create(serverLog)
		if err != nil {
			fmt.Fprintf(stderr, "idp-bench: %v\n", err)
			return 2
		}
		defer f.Close()
		o.server.log = f
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "idp-bench: %v\n", err)
			return 2
		}
		defer f.Close()
		o.cpuProfile = f
	}

	rep, err := bench(ctx, o, stdout)
	if rep.setup.name != "" {
		rep.markdown = markdown
		rep.print(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "idp-bench: %v\n", err)
		return 1
	}
	if rep.failed() {
		fmt.Fprintln(stderr, "idp-bench: there were errors (see above)")
		return 1
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
