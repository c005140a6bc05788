package faults

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The idp binary, built once per test run by idpBinary.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// idpBinary builds cmd/idp (without the race detector: the nodes are the system under
// test, not the test) and returns its path.
func idpBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "idp-faults-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "idp")
		cmd := exec.Command("go", "build", "-o", binary.path, "github.com/councilforms/idp/cmd/idp")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build ./cmd/idp: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// RPRedirect is the form app's redirect URI: never fetched, the person's browser stops
// there and hands the code to the form app.
const RPRedirect = "https://rp.test/callback"

// ClientID is the form app's client, public (PKCE) and registered by the clients file.
const ClientID = "fault-form"

// Options shape a Cluster.
type Options struct {
	Nodes int               // idp processes; 3 when zero
	Env   map[string]string // extra or overriding IDP_* settings of every node
}

// Cluster is a deployment of the test's own: PostgreSQL, Redis, n idp processes and a
// proxy in front of them. Issuer (the proxy's URL) is what people and the form app use.
type Cluster struct {
	t        *testing.T
	Postgres *Postgres
	Redis    *Redis
	Nodes    []*Node
	Proxy    *Proxy
	Issuer   string
	env      []string
}

// NewCluster starts everything and returns when every node is ready and in the
// proxy's rotation. Everything is stopped when the test ends.
func NewCluster(t *testing.T, o Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("fault suite: runs real processes for a minute or so; `make test` runs it (without -short)")
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	bin := idpBinary(t)
	c := &Cluster{t: t, Postgres: StartPostgres(t), Redis: StartRedis(t)}
	proxyPort := freePort(t)
	c.Issuer = fmt.Sprintf("http://127.0.0.1:%d", proxyPort)

	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(clients, []byte(`clients:
  - id: `+ClientID+`
    name: Fault test form
    public: true
    redirect_uris: [`+RPRedirect+`]
    scopes: [openid, profile, email, phone, offline_access]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	vars := map[string]string{
		"IDP_ISSUER":             c.Issuer,
		"IDP_DATABASE_URL":       c.Postgres.URL,
		"IDP_REDIS_URL":          c.Redis.URL,
		"IDP_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(key),
		// Development mode is allowed here only because the issuer is loopback: codes
		// go to the dev inbox, in Redis, which every node shows.
		"IDP_DEV":          "true",
		"IDP_CLIENTS_FILE": clients,
		// Every person comes through the proxy from 127.0.0.1.
		"IDP_TRUSTED_PROXIES":        "127.0.0.1",
		"IDP_SEND_HOURLY_PER_CLIENT": "1000000",
		"IDP_SHUTDOWN_DRAIN":         "2s",
		"IDP_LOG_LEVEL":              "info",
	}
	for k, v := range o.Env {
		vars[k] = v
	}
	for k, v := range vars {
		c.env = append(c.env, k+"="+v)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IDP_") {
			c.env = append(c.env, kv)
		}
	}

	backends := make([]string, o.Nodes)
	for i := range o.Nodes {
		n := &Node{t: t, bin: bin, Name: fmt.Sprintf("node%d", i+1), Port: freePort(t), log: filepath.Join(dir, fmt.Sprintf("node%d.log", i+1))}
		// Each node its own metrics port: the default (localhost:9090) would be taken by the first.
		n.env = append(append([]string{}, c.env...), "IDP_ADDR="+n.Addr(), fmt.Sprintf("IDP_METRICS_ADDR=127.0.0.1:%d", freePort(t)), "IDP_ADMIN_ADDR=off")
		n.URL = "http://" + n.Addr()
		backends[i] = n.Addr()
		c.Nodes = append(c.Nodes, n)
		t.Cleanup(n.cleanup)
	}
	// The first node migrates and publishes the signing key; the others join it.
	c.Nodes[0].Start()
	var wg sync.WaitGroup
	for _, n := range c.Nodes[1:] {
		wg.Go(func() { n.Start() })
	}
	wg.Wait()
	c.Proxy = StartProxy(t, proxyPort, backends)
	if !waitFor(10*time.Second, func() bool { return c.Proxy.InRotation() == len(c.Nodes) }) {
		t.Fatalf("only %d of %d nodes in the proxy's rotation", c.Proxy.InRotation(), len(c.Nodes))
	}
	return c
}

// Node is one `idp serve` process. Its address stays the same across restarts.
type Node struct {
	t    *testing.T
	bin  string
	env  []string
	log  string // stdout and stderr of every run, appended
	Name string
	Port int
	URL  string // http://127.0.0.1:PORT, straight to this node

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	exit error
}

func (n *Node) Addr() string { return fmt.Sprintf("127.0.0.1:%d", n.Port) }

// Start runs the node and waits until its /readyz answers 200.
func (n *Node) Start() {
	n.t.Helper()
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		n.t.Fatal(err)
	}
	fmt.Fprintf(logf, "=== %s start %s\n", n.Name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(n.bin, "serve")
	cmd.Env = n.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		n.t.Fatalf("%s: start: %v", n.Name, err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.done, n.exit = cmd, done, nil
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		n.mu.Lock()
		n.exit = err
		n.mu.Unlock()
		close(done)
	}()
	ready := waitFor(30*time.Second, func() bool {
		select {
		case <-done:
			return true
		default:
		}
		status, _, err := n.Get("/readyz", time.Second)
		return err == nil && status == 200
	})
	select {
	case <-done:
		n.t.Fatalf("%s exited at start: %v\n%s", n.Name, n.exitErr(), n.Log(30))
	default:
	}
	if !ready {
		n.t.Fatalf("%s not ready after 30 s\n%s", n.Name, n.Log(30))
	}
}

func (n *Node) exitErr() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exit
}

func (n *Node) running() (*exec.Cmd, chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd, n.done
}

// Terminate sends SIGTERM, as an orchestrator does to stop a node, and returns at once.
func (n *Node) Terminate() {
	n.t.Helper()
	cmd, _ := n.running()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatalf("%s: SIGTERM: %v", n.Name, err)
	}
}

// Kill is kill -9: the node dies with its requests in flight. It returns once the
// process is gone.
func (n *Node) Kill() {
	n.t.Helper()
	cmd, done := n.running()
	cmd.Process.Kill()
	<-done
}

// Wait waits up to d for the node to exit and returns its exit status; a node still
// running after d fails the test.
func (n *Node) Wait(d time.Duration) int {
	n.t.Helper()
	cmd, done := n.running()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		n.t.Fatalf("%s still running %s after SIGTERM\n%s", n.Name, d, n.Log(20))
	}
	var ee *exec.ExitError
	if err := n.exitErr(); errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	} else if err != nil {
		n.t.Fatalf("%s: wait: %v", n.Name, err)
	}
	return 0
}

// Restart is a graceful restart: SIGTERM, wait for a clean exit (status 0), start
// again and wait until ready.
func (n *Node) Restart() {
	n.t.Helper()
	n.Terminate()
	if code := n.Wait(60 * time.Second); code != 0 {
		n.t.Errorf("%s exited with status %d after SIGTERM, want 0\n%s", n.Name, code, n.Log(20))
	}
	n.Start()
}

// Ready is the status of the node's own /readyz (0 with an error when it does not
// answer within d).
func (n *Node) Ready(d time.Duration) (int, error) {
	status, _, err := n.Get("/readyz", d)
	return status, err
}

// Get fetches path from this node directly (not through the proxy), on a fresh
// connection, within d.
func (n *Node) Get(path string, d time.Duration) (int, string, error) {
	c := &http.Client{Timeout: d, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get(n.URL + path)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// Log is the last lines the node wrote (across its restarts).
func (n *Node) Log(lines int) string { return n.Name + " log:\n" + tail(n.log, lines) }

func (n *Node) cleanup() {
	cmd, done := n.running()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Kill()
	<-done
}

// logOnFailure prints every node's recent log when the test has failed.
func (c *Cluster) logOnFailure() {
	if !c.t.Failed() {
		return
	}
	for _, n := range c.Nodes {
		c.t.Log(n.Log(40))
	}
	c.t.Log("proxy errors:\n" + strings.Join(c.Proxy.Errors(), "\n"))
}
