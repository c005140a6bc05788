package formapp

import (
	"testing"

	"github.com/councilforms/idp/cmd/formapp/formapp/formapptest"
	"github.com/councilforms/idp/idp/webtest"
)

// The form app's side of the council guide in a real browser, with the test
// issuer standing in for the provider's login pages (it signs the person in
// at once). The end-to-end test against the real provider drives the same
// formapptest steps with the provider's journey in between.
func TestBrowserReferralWithTestIssuer(t *testing.T) {
	for _, js := range []bool{true, false} {
		name := "javascript"
		if !js {
			name = "no-javascript"
		}
		t.Run(name, func(t *testing.T) {
			b := webtest.NewBrowser(t, js)
			ti := newTestIssuer(t, "")
			ti.approveAs = adaClaims
			f := newFormApp(t, ti, nil)

			r := formapptest.NewReferral(t, b, f.base)
			r.FillPageOne()
			r.LoginOrRegister()
			r.BackOnPageTwo("Ada Lovelace")
			r.FinishAndSubmit()
			r.SignOut()
			if ti.endSessions != 1 {
				t.Errorf("the provider's end_session_endpoint was visited %d times, want 1", ti.endSessions)
			}
			// Signed out: the form asks to log in again before page two.
			r.FillPageOne()
		})
	}
}
