package app_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestDevInboxAcrossProcessesOnRedis runs two idp processes on one PostgreSQL and one
// Redis, as replicas behind a load balancer are: whichever process sent a code or
// placed a call, every process's /dev/inbox.json shows it, and a call is answered
// through any process's call simulator and moves the journey on the process the
// person is using.
func TestDevInboxAcrossProcessesOnRedis(t *testing.T) {
	a := startIdP(t, pgAndRedis, nil)
	b := a.sibling()

	// A landline sign-up on A: the email code is read from B's inbox, and both calls
	// A places are answered with # through B's call simulator.
	p := newPerson(t, false)
	br := a.browser()
	signUpToPhone(b, br, p)
	proveByCall(b, br, p, "phone", p.phone)
	br.expectHeading("Confirm your phone number")
	proveByCall(b, br, p)
	checkClaims(t, br.exchange(), p, "pwd", "tel")

	// A call is ended once, whichever process is asked: A refuses to answer again
	// the call B answered.
	call := a.latest("voice", p.e164)
	if status, body := keypress(t, a, call.ID, "#"); status != http.StatusConflict || !strings.Contains(body, "already been answered") {
		t.Errorf("keypress on A after B answered the call: %d %s, want 409", status, body)
	}

	// The other way round: a mobile sign-up on B, its email and text codes read
	// from A's inbox.
	q := newPerson(t, true)
	bq := b.browser()
	signUpToPhone(a, bq, q)
	proveBySMS(a, bq, q, "phone", q.phone)
	bq.expectHeading("Confirm your phone number")
	proveBySMS(a, bq, q)
	checkClaims(t, bq.exchange(), q, "pwd", "sms")

	// Both processes show the same messages, newest first: the two sign-ups' emails,
	// calls and texts.
	ids := func(d *idp) []string {
		var out []string
		for _, it := range d.inbox() {
			out = append(out, it.Channel+" "+it.To+" "+it.ID)
		}
		return out
	}
	fromA, fromB := ids(a), ids(b)
	if !slices.Equal(fromA, fromB) {
		t.Errorf("A's inbox:\n%s\nB's inbox:\n%s", strings.Join(fromA, "\n"), strings.Join(fromB, "\n"))
	}
	var channels []string
	for _, it := range a.inbox() {
		if it.To == p.e164 || it.To == q.e164 || strings.EqualFold(it.To, p.email) || strings.EqualFold(it.To, q.email) {
			channels = append(channels, it.Channel)
		}
	}
	if want := []string{"sms", "sms", "email", "voice", "voice", "email"}; !slices.Equal(channels, want) {
		t.Errorf("inbox channels newest first = %v, want %v", channels, want)
	}
}

// keypress presses digits on the simulated call id at d and returns the answer.
func keypress(t *testing.T, d *idp, id, digits string) (int, string) {
	t.Helper()
	res, err := http.PostForm(d.issuer+"/dev/calls/"+url.PathEscape(id)+"/keypress", url.Values{"digits": {digits}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body strings.Builder
	if _, err := io.Copy(&body, res.Body); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, body.String()
}
