package app_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
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

// Issue 18: the texts and calls a form app's journeys sent, and its completed
// sign-ins, are counted durably: after a restart on the same database,
// `idp costs --json` shows exactly them and their cost from the unit prices.
func TestCostsCountWhatWasSentAcrossARestart(t *testing.T) {
	backends(t, func(t *testing.T, be backend) {
		d := startIdP(t, be, map[string]string{"IDP_SMS_UNIT_COST": "0.04", "IDP_CALL_UNIT_COST": "0.095"})
		p := newPerson(t, true)
		signUp(d, d.browser(), p) // two texts: the new number, then its confirmation
		b := d.browser()
		signIn(d, b, p)
		proveByCall(d, b, p) // a call
		b.exchange()
		day := d.clock.now()

		// The server stops; another starts on the same database.
		if err := d.app.Close(); err != nil {
			t.Fatal(err)
		}
		d = d.sibling()
		b = d.browser()
		signIn(d, b, p)
		proveBySMS(d, b, p) // a third text
		b.exchange()

		from, to := day.AddDate(0, 0, -1).Format(time.DateOnly), d.clock.now().AddDate(0, 0, 1).Format(time.DateOnly)
		out := runIdP(t, d.vars, "costs", "--json", "--by", "day", "--from", from, "--to", to)
		var r costReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("idp costs --json: %v\n%s", err, out)
		}
		if !r.Priced || len(r.FormApps) != 1 || r.FormApps[0].ClientID != "referral-form" {
			t.Fatalf("idp costs --json: form apps %+v\n%s", r.FormApps, out)
		}
		// 3 texts at £0.04 and a call at £0.095: £0.215, over 3 sign-ins.
		for name, l := range map[string]costLine{"referral-form": r.FormApps[0].costLine, "total": r.Total} {
			if l.SMS.Sent != 3 || l.SMS.Failed != 0 || l.SMS.Refused != 0 || l.Voice.Sent != 1 || l.Voice.Failed != 0 ||
				l.SignIns != 3 || l.SMS.Cost != "0.12" || l.Voice.Cost != "0.095" || l.Cost != "0.215" || l.CostPerSignIn != "0.07167" {
				t.Errorf("%s: %+v\n%s", name, l, out)
			}
		}
	})
}
