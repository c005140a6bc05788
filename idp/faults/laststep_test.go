package faults

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// toLastStep signs a person up up to the confirmation code: the texted code
// for 'Repeat this process' is on the page, its 'Verify code' ends the journey
// (the phone is stored, the sign-in completed). It returns the code.
func toLastStep(t *testing.T, p *Person) string {
	t.Helper()
	if err := p.SignUpToPhone(); err != nil {
		t.Fatal(err)
	}
	if err := p.step(func() error { return p.proveBySMS("phone", p.Phone) }, "Confirm your phone number"); err != nil {
		t.Fatal(err)
	}
	if err := p.step(func() error { return p.Press("Send Code") }, "Check your phone"); err != nil {
		t.Fatal(err)
	}
	code, err := p.LatestCode("sms", p.E164)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// lastStepDuringOutage presses the last 'Verify code' while a dependency is
// down: the person must see the service's 503 page saying to try again (not a
// 500, not 'session has timed out'), and after the dependency is back the same
// press must end at the form app with a code that redeems.
func lastStepDuringOutage(t *testing.T, c *Cluster, stop, start func()) {
	p := c.Person()
	code := toLastStep(t, p)
	page := p.Page

	stop()
	stopped := true
	defer func() {
		if stopped {
			start()
		}
	}()
	p.Timeout = 10 * time.Second
	err := p.Press("Verify code", "code", code)
	var es *ErrStatus
	switch {
	case errors.As(err, &es) && es.Status == http.StatusServiceUnavailable:
		if !strings.Contains(pageText(es.Body), "Try again in a few minutes") {
			t.Errorf("the outage page does not say to try again:\n%s", pageText(es.Body))
		}
	case err != nil:
		t.Fatalf("last 'Verify code' during the outage: %v, want the 503 page", err)
	default:
		t.Fatalf("last 'Verify code' during the outage answered %s, want the 503 page", p.Page)
	}

	start()
	stopped = false
	for _, n := range c.Nodes {
		if !waitFor(20*time.Second, func() bool { s, err := n.Ready(time.Second); return err == nil && s == 200 }) {
			t.Fatalf("%s not ready 20 s after the dependency came back", n.Name)
		}
	}
	p.Timeout = 0
	p.Page = page // the browser's back button: the same form again
	if err := p.Press("Verify code", "code", code); err != nil {
		t.Fatalf("the same 'Verify code' after the outage: %v", err)
	}
	if _, err := p.Exchange(); err != nil {
		t.Fatalf("after the outage the form app got no usable code: %v (on %s)", err, firstWords(p.Page.String(), 60))
	}
}

// Fault review cause 1: PostgreSQL down at a journey's last step lost the phone
// proof ('session has timed out' on every retry).
func TestPostgresDownAtTheLastStepLosesNothing(t *testing.T) {
	c := NewCluster(t, Options{})
	defer c.logOnFailure()
	lastStepDuringOutage(t, c, c.Postgres.Stop, c.Postgres.Start)
}

// The same with Redis stopped (every journey, sign-in request and code lives
// there): the press fails with the outage page, and once Redis is back the
// journey is where it was.
func TestRedisStalledAtTheLastStepLosesNothing(t *testing.T) {
	c := NewCluster(t, Options{})
	defer c.logOnFailure()
	lastStepDuringOutage(t, c, c.Redis.Pause, c.Redis.Resume)
}

// Fault review cause 5: a form's 'Login or Register' during an outage said
// "This sign-in link is not valid" (PostgreSQL down) or bounced the person back
// to the form app with error=server_error (Redis down). It is the service's
// 503 page saying to try again, and trying again works.
func TestOutageAtTheStartIsATryAgainPage(t *testing.T) {
	c := NewCluster(t, Options{})
	defer c.logOnFailure()
	for _, fault := range []struct {
		name        string
		stop, start func()
	}{
		{"postgres stopped", c.Postgres.Stop, c.Postgres.Start},
		{"redis stalled", c.Redis.Pause, c.Redis.Resume},
	} {
		p := c.Person()
		p.Timeout = 10 * time.Second
		fault.stop()
		err := p.StartSignIn()
		fault.start()
		var es *ErrStatus
		switch {
		case err == nil && p.Heading() == "Sign In":
			// Registered clients are cached: the Sign In page needs no database.
		case errors.As(err, &es) && es.Status == http.StatusServiceUnavailable &&
			strings.Contains(pageText(es.Body), "We could not start your sign-in just now"):
		default:
			t.Errorf("%s: 'Login or Register' gave %v, want the Sign In page or the 503 try-again page; on %s",
				fault.name, err, firstWords(p.Page.String(), 60))
		}
		for _, n := range c.Nodes {
			waitFor(20*time.Second, func() bool { s, err := n.Ready(time.Second); return err == nil && s == 200 })
		}
		if err := p.step(p.StartSignIn, "Sign In"); err != nil {
			t.Errorf("%s: trying again after the outage: %v", fault.name, err)
		}
	}
}

// kill -9 of a node under steady sign-ups: only requests in flight on the
// killed process fail (the load balancer answers them with an error), no
// sign-up ends on a page it should not, and the node comes back into rotation.
func TestKillNodeUnderLoad(t *testing.T) {
	c := NewCluster(t, Options{})
	defer c.logOnFailure()
	load := c.StartLoad(2, 3)
	if !waitFor(30*time.Second, func() bool { return load.Requests() >= 50 }) {
		t.Fatalf("the load made only %d requests in 30 s", load.Requests())
	}
	c.Nodes[1].Kill()
	if !waitFor(10*time.Second, func() bool { return c.Proxy.InRotation() == len(c.Nodes)-1 }) {
		t.Fatalf("the killed node is still in rotation")
	}
	before := load.Requests()
	if !waitFor(30*time.Second, func() bool { return load.Requests() >= before+50 }) {
		t.Fatalf("the load stalled after the kill")
	}
	c.Nodes[1].Start()
	if !waitFor(10*time.Second, func() bool { return c.Proxy.InRotation() == len(c.Nodes) }) {
		t.Fatalf("the restarted node did not come back into rotation")
	}
	rep := load.Stop()
	t.Log(rep)
	if len(rep.Broken) > 0 {
		t.Errorf("sign-ups ended on a page they should not have: %s", rep)
	}
	// Requests in flight on the killed process, and at most a request per
	// connection the proxy had open to it, may fail; nothing more.
	if len(rep.Failures) > 10 {
		t.Errorf("%d requests failed after one kill -9: %s", len(rep.Failures), rep)
	}
	if rep.Journeys == 0 {
		t.Errorf("no sign-up finished: the load did not run")
	}
}
