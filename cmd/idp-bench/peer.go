package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"
)

// peerModule is the zitadel/oidc example OpenID provider: the same protocol
// library the idp uses, with in-memory storage. Its discovery and JWKS
// endpoints are the baseline for ours. It is installed into a temporary
// directory, never committed.
const peerModule = "github.com/zitadel/oidc/v3"

// peerVersion is the zitadel/oidc version this binary was built with.
func peerVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == peerModule {
				return dep.Version
			}
		}
	}
	return "v3.52.0"
}

// startPeer installs (when bin is "install") and starts the example OP on a
// free port. Its own log goes nowhere: it logs every request at debug level.
func startPeer(ctx context.Context, bin string, out io.Writer) (*target, error) {
	dir, err := os.MkdirTemp("", "idp-bench-peer-")
	if err != nil {
		return nil, err
	}
	if bin == "install" {
		v := peerVersion()
		fmt.Fprintf(out, "installing %s/example/server@%s (not kept)\n", peerModule, v)
		cmd := exec.CommandContext(ctx, "go", "install", peerModule+"/example/server@"+v)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		cmd.Dir = dir // outside this module, so its go.mod does not interfere
		if b, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("go install the peer: %v\n%s", err, b)
		}
		bin = filepath.Join(dir, "server")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "REDIRECT_URI="+defaultRedirectURI)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the peer: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t := &target{issuer: fmt.Sprintf("http://localhost:%d/", port), pid: cmd.Process.Pid, backend: "in-memory (example storage)"}
	t.stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		return os.RemoveAll(dir)
	}
	tr := newTransport(2, nil)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := get(ctx, client, t.issuer+".well-known/openid-configuration", "application/json")
		if err == nil {
			return t, nil
		}
		select {
		case err := <-exited:
			t.stop()
			return nil, fmt.Errorf("the peer exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.stop()
			return nil, errors.New("the peer did not answer discovery within 30s")
		}
	}
}
