package app_test

import (
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/councilforms/idp/store"
)

// idpBinary builds cmd/idp once for the tests that run its admin commands as
// an operator does, against the database the servers use.
var idpBinary = struct {
	once sync.Once
	path string
	err  error
	out  []byte
}{}

func buildIdP(t *testing.T) string {
	t.Helper()
	idpBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "idp-bin-")
		if err != nil {
			idpBinary.err = err
			return
		}
		idpBinary.path = filepath.Join(dir, "idp")
		cmd := exec.Command("go", "build", "-o", idpBinary.path, "github.com/councilforms/idp/cmd/idp")
		idpBinary.out, idpBinary.err = cmd.CombinedOutput()
	})
	if idpBinary.err != nil {
		t.Fatalf("go build ./cmd/idp: %v\n%s", idpBinary.err, idpBinary.out)
	}
	return idpBinary.path
}

// runIdP runs `idp args...` with the configuration vars and returns stdout.
func runIdP(t *testing.T, vars map[string]string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(buildIdP(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	if err != nil {
		t.Fatalf("idp %v: %v\n%s", args, err, stderr)
	}
	return out
}

// costReport is the part of `idp costs --json` the tests read.
type costReport struct {
	Priced   bool `json:"unit_costs_configured"`
	FormApps []struct {
		ClientID string `json:"client_id"`
		costLine
	} `json:"form_apps"`
	Total costLine `json:"total"`
}

type costLine struct {
	SMS struct {
		Sent, Failed, Refused int64
		Cost                  string
	} `json:"sms"`
	Voice struct {
		Sent, Failed, Refused int64
		Cost                  string
	} `json:"voice"`
	SignIns       int64  `json:"sign_ins"`
	Cost          string `json:"cost"`
	CostPerSignIn string `json:"cost_per_sign_in"`
}

// restarted stops the idp and its console and starts them again on the same
// database (and journey store), on new addresses, as a redeploy does.
func (c *console) restarted(t *testing.T) *console {
	t.Helper()
	if err := c.app.Close(); err != nil {
		t.Fatal(err)
	}
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	vars := maps.Clone(c.vars)
	vars["IDP_ISSUER"], vars["IDP_ADDR"] = "http://"+pub.Addr().String(), pub.Addr().String()
	vars["IDP_ADMIN_ADDR"], vars["IDP_ADMIN_URL"] = adm.Addr().String(), "http://"+adm.Addr().String()
	a, ck := serveIdP(t, pub, vars)
	srv := &httptest.Server{Listener: adm, Config: &http.Server{Handler: a.AdminHandler()}}
	srv.Start()
	t.Cleanup(srv.Close)
	prov, err := oidc.NewProvider(context.Background(), vars["IDP_ISSUER"])
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp := *c.rp
	rp.Endpoint = prov.Endpoint()
	d := &idp{
		redisURL: vars["IDP_REDIS_URL"], redisPrefix: vars["IDP_REDIS_PREFIX"], seen: map[string]int{},
		t: t, app: a, issuer: vars["IDP_ISSUER"], clock: ck, prov: prov, vars: vars,
		verify: prov.Verifier(&oidc.Config{ClientID: rp.ClientID}), rp: &rp,
	}
	return &console{idp: d, url: vars["IDP_ADMIN_URL"]}
}

// Issue 18: the texts and calls a form app's journeys sent, and its completed
// sign-ins, are counted durably: after a restart on the same database,
// `idp costs --json` and the console's texts and calls page show exactly them
// and their cost from the unit prices.
func TestCostsCountWhatWasSentAcrossARestart(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		c := startConsole(t, be, map[string]string{"IDP_SMS_UNIT_COST": "0.04", "IDP_CALL_UNIT_COST": "0.095"})
		p, u := c.signedUp(t) // two texts: the new number, then its confirmation
		b := c.browser()
		signIn(c.idp, b, p)
		proveByCall(c.idp, b, p) // a call
		b.exchange()
		day := c.clock.now()

		// The server stops; it starts again on the same database.
		c = c.restarted(t)
		b = c.browser()
		signIn(c.idp, b, p)
		proveBySMS(c.idp, b, p) // a third text
		b.exchange()
		// The person is an auditor too, and signs in to the console with a
		// text: the console's own form app.
		if _, err := c.app.Durable.GrantRole(context.Background(), &store.AdminRole{UserID: u.ID, Role: "auditor", GrantedBy: "cli:test", GrantedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		from, to := day.AddDate(0, 0, -1).Format(time.DateOnly), c.clock.now().AddDate(0, 0, 1).Format(time.DateOnly)
		ab := c.signInToConsole(t, p, "/costs?by=month&from="+from+"&to="+to)

		out := runIdP(t, c.vars, "costs", "--json", "--by", "day", "--from", from, "--to", to)
		var r costReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("idp costs --json: %v\n%s", err, out)
		}
		if !r.Priced || len(r.FormApps) != 2 || r.FormApps[0].ClientID != "idp-admin-console" || r.FormApps[1].ClientID != "referral-form" {
			t.Fatalf("idp costs --json: form apps %+v\n%s", r.FormApps, out)
		}
		// referral-form: 3 texts at £0.04 and a call at £0.095, £0.215 over 3
		// sign-ins; the console: a text over one sign-in.
		type want struct {
			texts, calls, signIns               int64
			textCost, cost, perSignIn, callCost string
		}
		for name, w := range map[string]struct {
			got costLine
			want
		}{
			"referral-form":     {r.FormApps[1].costLine, want{3, 1, 3, "0.12", "0.215", "0.07167", "0.095"}},
			"idp-admin-console": {r.FormApps[0].costLine, want{1, 0, 1, "0.04", "0.04", "0.04", "0.00"}},
			"total":             {r.Total, want{4, 1, 4, "0.16", "0.255", "0.06375", "0.095"}},
		} {
			l := w.got
			if l.SMS.Sent != w.texts || l.SMS.Failed != 0 || l.SMS.Refused != 0 || l.Voice.Sent != w.calls || l.Voice.Failed != 0 ||
				l.SignIns != w.signIns || l.SMS.Cost != w.textCost || l.Voice.Cost != w.callCost || l.Cost != w.cost || l.CostPerSignIn != w.perSignIn {
				t.Errorf("idp costs %s: %+v, want %+v\n%s", name, l, w.want, out)
			}
		}

		// The console's page says the same.
		ab.expectHeading("Texts and calls")
		ab.expectText("Estimated cost at £0.04 a text and £0.095 a call")
		month := day.Format("2006-01")
		for _, row := range []string{
			month + " idp-admin-console 1 0 0 0 0 0 1 £0.04 £0.04",
			month + " referral-form 3 0 0 1 0 0 3 £0.215 £0.07167",
			month + " All form apps 4 0 0 1 0 0 4 £0.255 £0.06375",
			"Whole range All form apps 4 0 0 1 0 0 4 £0.255 £0.06375",
		} {
			ab.expectText(row)
		}
	})
}

// A text a send budget stops never reaches the provider: it is counted as
// refused, at no cost, for the form app whose journey asked for it.
func TestCostsCountTextsRefusedByABudget(t *testing.T) {
	d := startIdP(t, embedded, map[string]string{"IDP_SEND_HOURLY_PER_RECIPIENT": "3", "IDP_SMS_UNIT_COST": "0.04"})
	p := newPerson(t, true)
	signUp(d, d.browser(), p) // texts 1 and 2
	b := d.browser()
	signIn(d, b, p)
	proveBySMS(d, b, p) // text 3: the number's hourly budget is spent
	b.exchange()
	b = d.browser()
	signIn(d, b, p)
	b.press("Send Code")
	b.expectText("We cannot send any more messages right now")
	if n := d.count("sms", p.e164); n != 3 {
		t.Fatalf("%d texts reached the inbox, want 3", n)
	}
	day := d.clock.now().Format(time.DateOnly)
	out := runIdP(t, d.vars, "costs", "--json", "--by", "day", "--from", day, "--to", day)
	var r costReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("idp costs --json: %v\n%s", err, out)
	}
	l := r.Total
	if len(r.FormApps) != 1 || r.FormApps[0].ClientID != "referral-form" || l.SMS.Sent != 3 || l.SMS.Refused != 1 ||
		l.SMS.Failed != 0 || l.SignIns != 2 || l.Cost != "0.12" || l.CostPerSignIn != "0.06" {
		t.Errorf("idp costs: %+v\n%s", r, out)
	}
}
