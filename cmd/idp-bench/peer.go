package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"syscall"
	"time"
)

// A peer is another OpenID provider, installed from a package registry into a
// temporary directory (never committed) and started by the driver, that runs
// the same scenarios right after the idp: the baseline the idp's numbers are
// compared with.
type peer struct {
	name     string // as in -peers
	clientID string // its public client, PKCE, with the bench's redirect URI
	// authzName names its authorize row: how a code is made there.
	authzName string
	note      string // what differs from the idp, for the report
	start     func(ctx context.Context, o options, dir string, out io.Writer) (*target, error)
	// login signs a browser in on the peer's own pages, given the page that
	// /authorize led to.
	login func(ctx context.Context, t *target, b *browser) error
	title func() string // for the report, with the version
}

// knownPeers are the peers -peers may name, in the order they run.
var knownPeers = []peer{zitadelPeer, oidcProviderPeer, hydraPeer}

// peerNames are the names of knownPeers.
var peerNames = func() []string {
	names := make([]string, len(knownPeers))
	for i, p := range knownPeers {
		names[i] = p.name
	}
	return names
}()

func peerByName(name string) (peer, bool) {
	i := slices.IndexFunc(knownPeers, func(p peer) bool { return p.name == name })
	if i < 0 {
		return peer{}, false
	}
	return knownPeers[i], true
}

// zitadelModule is the zitadel/oidc example OpenID provider: the same
// protocol library the idp uses, with in-memory storage.
const zitadelModule = "github.com/zitadel/oidc/v3"

// zitadelVersion is the zitadel/oidc version this binary was built with.
func zitadelVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == zitadelModule {
				return dep.Version
			}
		}
	}
	return "v3.52.0"
}

var zitadelPeer = peer{
	name:      "zitadel",
	clientID:  "native", // storage.NativeClient: public, PKCE, authorization_code and refresh_token
	authzName: "authorize (login form)",
	note: "no IdP session, so each code is made through its login form (its authorize row is not comparable); " +
		"RS256 ID tokens, opaque access tokens; refresh tokens rotate (reuse is not checked)",
	title: func() string { return "the zitadel/oidc example OP " + zitadelVersion() },
	start: startZitadel,
	login: zitadelLogin,
}

// startZitadel installs (when -peer is "install") and starts the example OP
// on a free port. Its own log goes nowhere: it logs every request at debug
// level.
func startZitadel(ctx context.Context, o options, dir string, out io.Writer) (*target, error) {
	bin := o.peer
	if bin == "install" {
		v := zitadelVersion()
		fmt.Fprintf(out, "installing %s/example/server@%s (not kept)\n", zitadelModule, v)
		cmd := exec.CommandContext(ctx, "go", "install", zitadelModule+"/example/server@"+v)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		cmd.Dir = dir // outside this module, so its go.mod does not interfere
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go install the peer: %v\n%s", err, b)
		}
		bin = filepath.Join(dir, "server")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "REDIRECT_URI="+o.redirectURI)
	return startPeerProcess(ctx, cmd, fmt.Sprintf("http://localhost:%d/", port), "in memory (the example's storage)")
}

// zitadelLogin fills in the example OP's login form as its test user
// (storage.NewUserStore: test-user@<issuer host>, password verysecure, both
// published in the example's source).
func zitadelLogin(ctx context.Context, t *target, b *browser) error {
	if b.Page == nil || !b.Page.HasField("username") || !b.Page.HasField("password") {
		return fmt.Errorf("the peer's login form was not shown: page %s", b.Page.Describe())
	}
	u, err := url.Parse(t.issuer)
	if err != nil {
		return err
	}
	return b.Press(ctx, "Login", map[string]string{"username": "test-user@" + u.Hostname(), "password": "verysecure"})
}

// freePort is a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startPeerProcess starts cmd, a peer serving issuer, and waits until its
// discovery document answers. Its output goes nowhere.
func startPeerProcess(ctx context.Context, cmd *exec.Cmd, issuer, backend string) (*target, error) {
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the peer: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := &target{issuer: issuer, pid: cmd.Process.Pid, backend: backend}
	t.stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		return nil
	}
	tr := newTransport(2, nil)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := get(ctx, client, discoveryURL(issuer), "application/json")
		if err == nil {
			return t, nil
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("the peer exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.stop()
			return nil, errors.New("the peer did not answer discovery within 30s")
		}
	}
}
