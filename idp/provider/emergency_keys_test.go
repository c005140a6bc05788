package provider

import (
	"context"
	"slices"
	"testing"
	"time"
)

// Issue 18: a key presumed compromised is replaced at once: the new key signs
// the next token, the old one leaves JWKS and its tokens stop validating,
// while an ordinary rotation still publishes its key an hour ahead.
func TestEmergencyKeyRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(*testing.T) stores) {
		e := newEnv(t, open(t), nil)
		ctx := context.Background()
		e.signInAs(e.newUser(), time.Time{})
		r := e.rp("formapp")
		f := newFlow()
		before := r.mustExchange(r.signIn(e.browser(), f), f)
		oldKid := kidOf(t, before.rawID)
		esKids := jwksKids(t, e, "ES256")

		// An ordinary rotation: published now, signing an hour later.
		start := time.Now()
		scheduled, err := RotateSigningKeys(ctx, e.st.db, e.cfg, "RS256")
		if err != nil || len(scheduled) != 1 || scheduled[0].State != KeyPending ||
			scheduled[0].ActiveFrom.Before(start.Add(time.Hour)) {
			t.Fatalf("scheduled rotation = %+v, %v; want a key pending for an hour", scheduled, err)
		}

		rot, err := EmergencyRotateSigningKeys(ctx, e.st.db, e.cfg, "RS256")
		if err != nil || len(rot) != 1 {
			t.Fatalf("emergency rotation = %+v, %v", rot, err)
		}
		newKid := rot[0].New.ID
		if rot[0].New.State != KeyActive || rot[0].New.Algorithm != "RS256" || newKid == oldKid {
			t.Fatalf("emergency key = %+v, want a new active RS256 key", rot[0].New)
		}
		var withdrawn []string
		for _, w := range rot[0].Withdrawn {
			withdrawn = append(withdrawn, w.ID)
			if w.State != KeyExpired {
				t.Errorf("withdrawn key %s is %s, want expired", w.ID, w.State)
			}
		}
		slices.Sort(withdrawn)
		want := []string{oldKid, scheduled[0].ID}
		slices.Sort(want)
		if !slices.Equal(withdrawn, want) {
			t.Fatalf("withdrawn %v, want the signing key and the pending one %v", withdrawn, want)
		}

		e.clock.advance(keyCacheTTL + time.Second) // the server's periodic re-read
		if kids := jwksKids(t, e, "RS256"); len(kids) != 1 || kids[0] != newKid {
			t.Fatalf("JWKS after the emergency rotation = %v, want only %s", kids, newKid)
		}
		f = newFlow()
		if kid := kidOf(t, r.mustExchange(r.signIn(e.browser(), f), f).rawID); kid != newKid {
			t.Fatalf("next ID token signed by %s, want the emergency key %s", kid, newKid)
		}
		// A form app fetching JWKS again no longer accepts the old key's tokens.
		if _, err := e.rp("formapp").verifier.Verify(r.ctx, before.rawID); err == nil {
			t.Fatal("an ID token of the withdrawn key still validates")
		}
		if kids := jwksKids(t, e, "ES256"); !slices.Equal(kids, esKids) {
			t.Fatalf("ES256 keys after an RS256 emergency rotation = %v, want %v", kids, esKids)
		}

		// The ordinary rotation afterwards still publishes an hour ahead.
		start = time.Now()
		again, err := RotateSigningKeys(ctx, e.st.db, e.cfg, "RS256")
		if err != nil || len(again) != 1 || again[0].State != KeyPending || again[0].ActiveFrom.Before(start.Add(time.Hour)) {
			t.Fatalf("rotation after the emergency = %+v, %v", again, err)
		}
	})
}
