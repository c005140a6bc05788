package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/store/storetest"
)

// The smoke run CI makes of the driver: every scenario a few times against an
// idp served in-process, with zero errors. It asserts that the driver works
// and the idp answers it correctly, never how fast.
func TestSmokeEmbedded(t *testing.T) {
	smoke(t, serverOptions{})
}

// The same on PostgreSQL and Redis, which also measures Redis memory of a few
// in-flight journeys.
func TestSmokePostgresRedis(t *testing.T) {
	redisURL, prefix := storetest.Redis(t)
	smoke(t, serverOptions{databaseURL: storetest.PostgresURL(t), redisURL: redisURL, redisPrefix: prefix})
}

func smoke(t *testing.T, so serverOptions) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var serverLog bytes.Buffer
	so.inProcess, so.log = true, &serverLog
	o := options{
		server:       so,
		clientID:     benchClientID,
		redirectURI:  defaultRedirectURI,
		workers:      2,
		people:       3, // more people than workers: journeys take whoever is free
		iterations:   3,
		codeBatch:    2,
		scenarios:    allScenarios,
		hashDuration: 100 * time.Millisecond,
		inFlight:     2,
	}
	rep, out := runBench(t, ctx, o, &serverLog)
	if rep.setup.ops != 3 {
		t.Errorf("%d people signed up, want 3", rep.setup.ops)
	}
	names := opsByName(rep.results)
	for _, want := range []string{"discovery", "JWKS", "sign-in journey", "dev inbox read", "authorize (SSO session)", "code exchange", "refresh grant (rotation)", "userinfo"} {
		if names[want] != o.workers*o.iterations {
			t.Errorf("%s: %d successful operations, want %d", want, names[want], o.workers*o.iterations)
		}
	}
	if rep.hashRate() <= 0 || len(rep.hashes) != 2 {
		t.Errorf("argon2id hash rates %v, want two", rep.hashes)
	}
	if rep.inbox.ops == 0 {
		t.Error("no dev inbox reads were counted during the journeys")
	}
	if so.redisURL != "" {
		if rep.memory == nil || rep.memory.families["journey"].keys != o.inFlight {
			t.Errorf("Redis memory report %+v, want %d new journey keys", rep.memory, o.inFlight)
		} else if rep.memory.families["journey"].bytes <= 0 {
			t.Errorf("journey keys hold %d bytes", rep.memory.families["journey"].bytes)
		}
	}
	if !strings.Contains(out, "refresh token reuse: detected") {
		t.Error("the refresh token reuse check did not run")
	}
}

// The peers' paths: the scenarios they share with the idp, three times per
// worker against each peer the driver installs (the zitadel/oidc example OP
// with go install, oidc-provider with npm), with zero errors. A peer that
// cannot be installed here (no network, no node) is skipped, unless
// IDP_TEST_REQUIRE_SERVICES=1 (CI), where the registries are reachable.
// Hydra is left out: it is built from source (go build of about 150
// modules, minutes), too long for every CI run; `.ci/bench` runs it.
func TestSmokePeers(t *testing.T) {
	if testing.Short() {
		t.Skip("installs the peers from the registries")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var serverLog bytes.Buffer
	o := options{
		server:      serverOptions{inProcess: true, log: &serverLog},
		clientID:    benchClientID,
		redirectURI: defaultRedirectURI,
		workers:     2,
		people:      2,
		iterations:  3,
		codeBatch:   2,
		scenarios:   peerScenarios,
		peer:        "install",
		peers:       smokePeers,
	}
	rep, out := runBench(t, ctx, o, &serverLog)
	if len(rep.peers) != len(smokePeers) {
		t.Fatalf("%d peers reported, want %d", len(rep.peers), len(smokePeers))
	}
	measured := 0
	for _, p := range rep.peers {
		if p.skipped != "" {
			if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
				t.Errorf("peer %s not measured: %s", p.name, p.skipped)
			}
			continue
		}
		measured++
		pe, _ := peerByName(p.name)
		names := opsByName(p.results)
		if names["sign-in (setup)"] != o.workers {
			t.Errorf("%s: %d workers signed in, want %d", p.name, names["sign-in (setup)"], o.workers)
		}
		for _, want := range []string{"discovery", "JWKS", pe.authzName, "code exchange", "refresh grant (rotation)", "userinfo"} {
			if names[want] != o.workers*o.iterations {
				t.Errorf("%s: %s: %d successful operations, want %d", p.name, want, names[want], o.workers*o.iterations)
			}
		}
	}
	if !strings.Contains(out, "ratio = idp ops/s ÷ peer ops/s") && measured > 0 {
		t.Error("no side-by-side table was printed")
	}
	if measured == 0 {
		t.Skip("no peer could be installed here")
	}
}

// smokePeers are the peers CI installs: every one but Hydra.
var smokePeers = []string{zitadelPeer.name, oidcProviderPeer.name}

// runBench runs the bench with o, logs its progress and report, and fails
// the test on any error; it returns the report and the printed output.
func runBench(t *testing.T, ctx context.Context, o options, serverLog *bytes.Buffer) (*report, string) {
	t.Helper()
	var out bytes.Buffer
	rep, err := bench(ctx, o, &out)
	rep.print(&out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatalf("bench: %v\nserver log:\n%s", err, serverLog.String())
	}
	if rep.failed() {
		t.Fatalf("the run had errors (see the log above)\nserver log:\n%s", serverLog.String())
	}
	return rep, out.String()
}

// opsByName maps each result's name to its successful operations.
func opsByName(results []result) map[string]int {
	names := map[string]int{}
	for _, r := range results {
		names[r.name] = r.ops
	}
	return names
}
