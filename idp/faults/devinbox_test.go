package faults

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/webtest/sim"
)

// The dev inbox is one for the whole cluster (issue 14 item 8): whichever node sent a
// code or placed a call, every node's /dev/inbox.json shows it, and a call placed by
// one node is answered at any node and moves the journey on, wherever it is served.
func TestDevInboxIsOneForEveryNode(t *testing.T) {
	c := NewCluster(t, Options{})
	defer c.logOnFailure()
	p := c.Person()
	for _, s := range []struct {
		do      func() error
		heading string
	}{
		{p.StartSignIn, "Sign In"},
		{func() error { return p.Follow("Sign up now") }, "Sign up"},
		{func() error { return p.Press("Send verification code", "email", p.Email) }, "Check your email"},
	} {
		if err := p.step(s.do, s.heading); err != nil {
			t.Fatal(err)
		}
	}
	// Every node shows the email, the same message, at once: the page said it was sent.
	email := sameOnEveryNode(t, c, "email", p.Email)
	if email.Code == "" {
		t.Fatalf("email without a code: %+v", email)
	}
	for _, s := range []struct {
		do      func() error
		heading string
	}{
		{func() error { return p.Press("Verify code", "code", email.Code) }, "Your email address has now been verified"},
		{func() error { return p.Press("Continue") }, "Create your account"},
		{func() error {
			pw := "correct horse battery staple"
			return p.Press("Create", "given-name", "Sam", "surname", "O'Neill", "password", pw, "confirm-password", pw)
		}, "Enter your phone number"},
		{func() error { return p.Press("Call Me", "phone", p.Phone) }, "We are calling you"},
	} {
		if err := p.step(s.do, s.heading); err != nil {
			t.Fatal(err)
		}
	}

	// The call is listed by every node; each node in turn is asked to answer it:
	// the first one asked ends it, the others find it ended.
	call := sameOnEveryNode(t, c, "voice", p.E164)
	for i, n := range c.Nodes {
		status, body := nodeKeypress(t, n, call.ID, "#")
		want := http.StatusConflict
		if i == 0 {
			want = http.StatusOK
		}
		if status != want {
			t.Errorf("# on the call at %s (asked %d of %d): %d %s, want %d", n.Name, i+1, len(c.Nodes), status, body, want)
		}
	}
	// Whichever node serves the waiting page next sees the answer.
	if err := p.step(func() error { return p.Get("/login") }, "Confirm your phone number"); err != nil {
		t.Fatal(err)
	}
	if err := p.step(func() error { return p.Press("Send Code") }, "Check your phone"); err != nil {
		t.Fatal(err)
	}
	sms := sameOnEveryNode(t, c, "sms", p.E164)
	if err := p.Press("Verify code", "code", sms.Code); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exchange(); err != nil {
		t.Fatal(err)
	}
}

// sameOnEveryNode reads each node's /dev/inbox.json directly (not through the proxy)
// and returns the newest message on channel to to, which every node must show alike.
func sameOnEveryNode(t *testing.T, c *Cluster, channel, to string) inboxItem {
	t.Helper()
	var first inboxItem
	for i, n := range c.Nodes {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		items, err := (&sim.Inbox{URL: n.URL}).Read(ctx, to)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		var got inboxItem
		for _, it := range items {
			if it.Channel == channel && it.To == to {
				got = it
				break
			}
		}
		if got.ID == "" {
			t.Fatalf("%s's dev inbox has no %s to %s (it shows %d messages to that address)", n.Name, channel, to, len(items))
		}
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("%s shows %+v, %s shows %+v", c.Nodes[0].Name, first, n.Name, got)
		}
	}
	return first
}

// nodeKeypress presses digits on the simulated call id at node n directly.
func nodeKeypress(t *testing.T, n *Node, id, digits string) (int, string) {
	t.Helper()
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := cl.Post(n.URL+"/dev/calls/"+url.PathEscape(id)+"/keypress", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"digits": {digits}}.Encode()))
	if err != nil {
		t.Fatalf("%s: keypress: %v", n.Name, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(fmt.Errorf("%s: keypress: %w", n.Name, err))
	}
	return res.StatusCode, string(b)
}
