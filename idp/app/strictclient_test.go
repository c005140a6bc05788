package app_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// strictClientDir holds the Node.js script of TestStrictClient and the npm
// package it runs (oauth4webapi, pinned in package-lock.json).
const strictClientDir = "testdata/strictclient"

var strictClientInstall struct {
	once sync.Once
	err  error
	out  []byte
}

// needTool finds a program a test runs, or skips the test without it, unless
// IDP_TEST_REQUIRE_SERVICES=1 (the test script sets it, so CI never skips).
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s not found: install it (%s)", name, install)
	}
	t.Skipf("%s not found; this test needs it (%s)", name, install)
	return ""
}

// strictClient returns the path of node with oauth4webapi installed under
// strictClientDir: .ci/run installs it; otherwise `npm ci` does, once, as
// ui/build/build.sh does for its packages.
func strictClient(t *testing.T) string {
	t.Helper()
	node := needTool(t, "node", "apt-get install -y nodejs npm")
	if _, err := os.Stat(filepath.Join(strictClientDir, "node_modules", "oauth4webapi", "package.json")); err == nil {
		return node
	}
	npm := needTool(t, "npm", "apt-get install -y nodejs npm")
	strictClientInstall.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = strictClientDir
		strictClientInstall.out, strictClientInstall.err = cmd.CombinedOutput()
	})
	if err := strictClientInstall.err; err != nil {
		if os.Getenv("IDP_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("npm ci in %s: %v\n%s", strictClientDir, err, strictClientInstall.out)
		}
		t.Skipf("npm ci in %s: %v (no npm registry?)", strictClientDir, err)
	}
	return node
}

// Issue 16, done when: a strict client library, oauth4webapi, accepts every
// answer of the idp, its error answers included (conformance findings 4 to 9):
// discovery; userinfo refusing an invalid or revoked token with 401 and a
// Bearer error="invalid_token" challenge (the library's
// WWWAuthenticateChallengeError); a wrong client secret at the token,
// introspection and revocation endpoints (401, a Basic challenge when Basic
// was used, JSON invalid_client); introspection with client_secret_post, a
// refresh token active; unsupported_response_type and invalid_request for a
// repeated parameter at the redirect URI, which validateAuthResponse reads.
func TestStrictClient(t *testing.T) {
	node := strictClient(t)
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, nil)
		b := d.browser()
		signUp(d, b, newPerson(t, true))
		// A fresh authorization for the script to finish: single sign-on
		// sends the browser straight back with a code.
		back := b.startSignIn()
		if b.code == "" {
			t.Fatalf("no code from single sign-on:\n%s", b.page)
		}
		input, err := json.Marshal(map[string]string{
			"issuer": d.issuer, "client_id": d.rp.ClientID, "client_secret": d.rp.ClientSecret,
			"redirect_uri": d.rp.RedirectURL, "callback": back.url,
			"state": b.state, "nonce": b.nonce, "code_verifier": b.verifier,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "strictclient.mjs")
		cmd.Dir = strictClientDir
		cmd.Env = append(os.Environ(), "STRICT_CLIENT_INPUT="+string(input))
		out, err := cmd.CombinedOutput()
		// The script prints check names and error codes, never a token.
		var oks int
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			switch {
			case strings.HasPrefix(line, "ok "):
				oks++
			case strings.HasPrefix(line, "FAIL "):
				t.Error(strings.TrimPrefix(line, "FAIL "))
			}
		}
		if err != nil && !t.Failed() {
			t.Fatalf("node %s: %v\n%s", "strictclient.mjs", err, out)
		}
		if want := 21; oks != want {
			t.Errorf("%d checks passed, want %d:\n%s", oks, want, out)
		}
	})
}
