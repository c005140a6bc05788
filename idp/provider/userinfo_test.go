package provider

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// Userinfo answers from the account as it is now, on every process: a name
// changed (as the account page and `idp users` write it, through the
// store) shows at once with an access token issued before, on the process
// that issued it and on another; a disabled account is refused at once on
// both, and served again once enabled.
func TestUserinfoSeesAccountChangesAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		ps := []*Provider{e.p, e.newInstance()}
		var serving atomic.Int32
		e.pick = func(*http.Request) *Provider { return ps[serving.Load()] }
		u := e.newUser()
		e.signInAs(u, time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		tok := r.mustExchange(r.signIn(e.browser(), f), f)
		set := func(change func(*store.User)) { t.Helper(); e.changeUser(u.ID, change) }
		// on calls userinfo on each process in turn.
		on := func(check func(process int, claims map[string]any, err error)) {
			t.Helper()
			for i := range ps {
				serving.Store(int32(i))
				claims, err := r.userinfo(tok.raw.AccessToken)
				check(i, claims, err)
			}
			serving.Store(0)
		}

		on(func(i int, claims map[string]any, err error) {
			if err != nil || claims["given_name"] != "Ann" {
				t.Fatalf("process %d, before any change: %v %v", i, claims, err)
			}
		})
		set(func(x *store.User) { x.GivenName, x.FamilyName = "Annie", "Smyth" })
		on(func(i int, claims map[string]any, err error) {
			if err != nil || claims["given_name"] != "Annie" || claims["name"] != "Annie Smyth" {
				t.Errorf("process %d, after the name changed: %v %v, want Annie Smyth", i, claims, err)
			}
		})
		set(func(x *store.User) { x.Status = store.UserDisabled })
		on(func(i int, claims map[string]any, err error) {
			if err == nil {
				t.Errorf("process %d: userinfo for a disabled account answered %v", i, claims)
			}
		})
		set(func(x *store.User) { x.Status = store.UserActive })
		on(func(i int, claims map[string]any, err error) {
			if err != nil || claims["family_name"] != "Smyth" {
				t.Errorf("process %d, enabled again: %v %v", i, claims, err)
			}
		})
	})
}
