package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a round-robin reverse proxy in front of the nodes, behaving as a load
// balancer does:
//   - connections to the nodes are kept alive and reused;
//   - a node is in rotation while its /readyz, checked every CheckInterval, answers 200
//     (a Kubernetes Service drops a pod whose readiness fails, or that is terminating);
//   - after a connection error a node is skipped for FailTimeout (nginx's fail_timeout);
//   - a request is retried on the next node only when the node cannot have received
//     it: the connection could not be made. A request that was sent and then failed
//     is answered 502 and counted, even a GET (Go's transport itself resends an
//     idempotent request whose reused connection turned out closed, as nginx does);
//   - when no node is in rotation it tries them all rather than answer nothing.
type Proxy struct {
	t        testing.TB
	URL      string
	backends []*backend
	next     atomic.Uint64
	tr       *http.Transport
	srv      *http.Server

	mu     sync.Mutex
	errors []string // every 502 the proxy answered, with its cause
}

const (
	CheckInterval = 200 * time.Millisecond
	FailTimeout   = 3 * time.Second
	// Latency is added to every read from a node, as the network between a load
	// balancer and its backends does (about a millisecond across a zone): the proxy
	// learns that a node closed a connection only that much later, and a request it
	// sends on the connection meanwhile is lost, as in production. On loopback alone
	// the window is microseconds wide.
	Latency = time.Millisecond
)

// slowConn delays every read by Latency.
type slowConn struct{ net.Conn }

func (c slowConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	time.Sleep(Latency)
	return n, err
}

type backend struct {
	addr     string
	ready    atomic.Bool
	downTill atomic.Int64 // unix nanos: skipped until then after a connection error
}

func (b *backend) eligible(now time.Time) bool {
	return b.ready.Load() && now.UnixNano() >= b.downTill.Load()
}

// StartProxy listens on 127.0.0.1:port and proxies to the backends (host:port).
func StartProxy(t testing.TB, port int, backends []string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	for _, a := range backends {
		p.backends = append(p.backends, &backend{addr: a})
	}
	p.tr = &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return slowConn{c}, nil
		},
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, b := range p.backends {
		wg.Go(func() { p.check(ctx, b) })
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		p.srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

// check keeps b.ready up to date from the node's /readyz.
func (p *Proxy) check(ctx context.Context, b *backend) {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		res, err := c.Get("http://" + b.addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		b.ready.Store(err == nil && res.StatusCode == http.StatusOK)
		select {
		case <-ctx.Done():
			return
		case <-time.After(CheckInterval):
		}
	}
}

// InRotation counts the nodes the proxy would send a request to now.
func (p *Proxy) InRotation() int {
	n, now := 0, time.Now()
	for _, b := range p.backends {
		if b.eligible(now) {
			n++
		}
	}
	return n
}

// Errors lists the 502s the proxy answered, with their causes.
func (p *Proxy) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

// order is the round-robin order of attempts for one request: the nodes in rotation
// from the next one on, or every node when none is.
func (p *Proxy) order() []*backend {
	start := int(p.next.Add(1))
	now := time.Now()
	var out []*backend
	for i := range p.backends {
		b := p.backends[(start+i)%len(p.backends)]
		if b.eligible(now) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		for i := range p.backends {
			out = append(out, p.backends[(start+i)%len(p.backends)])
		}
	}
	return out
}

// hopHeaders are not forwarded (RFC 9110 section 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Bodies are small forms: read them once, so a request never sent can be sent to
	// the next node.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "proxy: read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var last error
	for _, b := range p.order() {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = "http", b.addr
		out.Host = r.Host // the issuer's host: the nodes check Origin against it
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			out.Body, out.GetBody = http.NoBody, nil
		}
		for _, h := range hopHeaders {
			out.Header.Del(h)
		}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			out.Header.Set("X-Forwarded-For", host)
		}
		res, err := p.tr.RoundTrip(out)
		if err != nil {
			last = fmt.Errorf("%s: %w", b.addr, err)
			b.downTill.Store(time.Now().Add(FailTimeout).UnixNano())
			if notSent(err) {
				continue
			}
			break
		}
		defer res.Body.Close()
		for _, h := range hopHeaders {
			res.Header.Del(h)
		}
		for k, vs := range res.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("X-Proxy-Backend", b.addr)
		w.WriteHeader(res.StatusCode)
		if _, err := io.Copy(w, res.Body); err != nil {
			p.fail(r, fmt.Errorf("%s: response body: %w", b.addr, err))
			panic(http.ErrAbortHandler) // the client must see the response is cut
		}
		return
	}
	p.fail(r, last)
	http.Error(w, "proxy: bad gateway: "+last.Error(), http.StatusBadGateway)
}

func (p *Proxy) fail(r *http.Request, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errors = append(p.errors, time.Now().Format("15:04:05.000")+" "+r.Method+" "+r.URL.Path+": "+err.Error())
}

// notSent reports whether err means the request never reached the node: the
// connection was refused or could not be made.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
