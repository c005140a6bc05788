package provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
)

// Issue 18: a disabled form app is refused at /authorize and at the token
// endpoint (invalid_client), codes it got before included, until enabled.
func TestDisabledClientRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		ctx := context.Background()
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		r.conf.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
		f := newFlow()
		held := r.mustExchange(r.signIn(e.browser(), f), f).raw.RefreshToken
		pending := newFlow()
		code := r.signIn(e.browser(), pending) // a code issued before it is disabled

		changed, err := SetClientDisabled(ctx, e.st.db, "formapp", true, e.clock.now())
		if err != nil || !changed {
			t.Fatalf("disable: %v %v", changed, err)
		}
		if c, _ := e.st.db.ClientByID(ctx, "formapp"); c.DisabledAt.IsZero() {
			t.Fatal("the client is not stored as disabled")
		}
		if again, err := SetClientDisabled(ctx, e.st.db, "formapp", true, e.clock.now()); err != nil || again {
			t.Errorf("disabling twice: %v %v, want no change", again, err)
		}
		if _, err := r.exchange(code, pending); oauthErrorCode(err) != "invalid_client" {
			t.Errorf("token endpoint for a disabled client: %v, want invalid_client", err)
		}
		if _, err := r.refresh(held); oauthErrorCode(err) != "invalid_client" || strings.Contains(err.Error(), "provider:") {
			t.Errorf("refresh grant for a disabled client: %v, want invalid_client without internal text", err)
		}
		res := e.visit(e.browser(), r.authURL(newFlow()))
		if res.callback != nil && res.param("code") != "" {
			t.Fatal("a disabled client got an authorization code")
		}
		if res.status < 400 {
			t.Errorf("authorize for a disabled client: status %d, want an error", res.status)
		}
		// Another form app is not affected.
		o := e.rp("other")
		f = newFlow()
		o.mustExchange(o.signIn(e.browser(), f), f)

		if changed, err := SetClientDisabled(ctx, e.st.db, "formapp", false, e.clock.now()); err != nil || !changed {
			t.Fatalf("enable: %v %v", changed, err)
		}
		f = newFlow()
		r.mustExchange(r.signIn(e.browser(), f), f)
		// The refresh token it held while disabled was neither spent nor revoked.
		if _, err := r.refresh(held); err != nil {
			t.Errorf("refresh grant once enabled again: %v", err)
		}
		if _, err := SetClientDisabled(ctx, e.st.db, "missing", true, e.clock.now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("disable an unknown client: %v", err)
		}
	})
}
