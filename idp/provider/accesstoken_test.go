package provider

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// countingEph counts the reads the provider makes of the ephemeral store.
type countingEph struct {
	store.Ephemeral
	reads atomic.Int32
}

func (c *countingEph) Get(ctx context.Context, key string) ([]byte, int64, error) {
	c.reads.Add(1)
	return c.Ephemeral.Get(ctx, key)
}

func (c *countingEph) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	c.reads.Add(1)
	return c.Ephemeral.GetMany(ctx, keys...)
}

// A presented access token is checked in one read of the ephemeral store:
// the token and every marker that could revoke it (its user's, its user's
// with its client, its refresh family's, its IdP session's), and each of
// them still revokes it. Before its id named the markers it took two.
func TestAccessTokenCheckedInOneRead(t *testing.T) {
	on := memorySQLite(t)
	eph := &countingEph{Ephemeral: on.eph}
	e := newEnv(t, stores{db: on.db, eph: eph}, nil)
	p, ctx := e.p, context.Background()
	issue := func(t *testing.T, familyID, sid string) *accessToken {
		t.Helper()
		at := p.newAccessToken("formapp", "user-1", []string{"openid"}, []string{"pwd"}, p.now(), familyID, sid)
		if err := p.storeAccessToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	check := func(t *testing.T, at *accessToken, wantReads int32) error {
		t.Helper()
		eph.reads.Store(0)
		_, err := p.accessTokenByID(ctx, at.ID, at.UserID)
		if got := eph.reads.Load(); got != wantReads {
			t.Errorf("%d reads of the ephemeral store, want %d", got, wantReads)
		}
		return err
	}

	t.Run("live", func(t *testing.T) {
		for _, c := range []struct{ family, sid string }{{"fam-live", "sid-live"}, {"", "sid-live"}, {"fam-live", ""}, {"", ""}} {
			if err := check(t, issue(t, c.family, c.sid), 1); err != nil {
				t.Errorf("family %q, session %q: %v", c.family, c.sid, err)
			}
		}
	})
	t.Run("family revoked", func(t *testing.T) {
		at := issue(t, "fam-1", "sid-1")
		if err := p.revokeFamily(ctx, "fam-1"); err != nil {
			t.Fatal(err)
		}
		if err := check(t, at, 1); err == nil {
			t.Error("a token of a revoked family was accepted")
		}
	})
	t.Run("session ended", func(t *testing.T) {
		at := issue(t, "fam-2", "sid-2")
		if err := eph.Put(ctx, keyRevokedSession+"sid-2", []byte("1"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := check(t, at, 1); err == nil {
			t.Error("a token of an ended session was accepted")
		}
	})
	t.Run("user's tokens revoked", func(t *testing.T) {
		at := issue(t, "fam-3", "sid-3")
		e.clock.advance(time.Second)
		if err := p.markRevoked(ctx, "user-1", "formapp"); err != nil {
			t.Fatal(err)
		}
		if err := check(t, at, 1); err == nil {
			t.Error("a token issued before its user's and client's revocation was accepted")
		}
		e.clock.advance(time.Second)
		if err := check(t, issue(t, "fam-3", "sid-3"), 1); err != nil {
			t.Errorf("a token issued after the revocation: %v", err)
		}
	})
	t.Run("id made before ids named the markers", func(t *testing.T) {
		at := p.newAccessToken("formapp", "user-1", []string{"openid"}, nil, p.now(), "fam-4", "sid-4")
		at.ID = randomID(16)
		if err := p.storeAccessToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		if err := check(t, at, 2); err != nil {
			t.Errorf("live token with an old id: %v", err)
		}
		if err := p.revokeFamily(ctx, "fam-4"); err != nil {
			t.Fatal(err)
		}
		if err := check(t, at, 2); err == nil {
			t.Error("a token with an old id of a revoked family was accepted")
		}
	})
	t.Run("id naming other markers than its record", func(t *testing.T) {
		// The record decides: a family the id does not name is read too.
		at := p.newAccessToken("formapp", "user-1", []string{"openid"}, nil, p.now(), "fam-5", "sid-5")
		at.ID = newAccessTokenID("formapp", "fam-other", "sid-5")
		if err := p.storeAccessToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		if err := p.revokeFamily(ctx, "fam-5"); err != nil {
			t.Fatal(err)
		}
		if err := check(t, at, 2); err == nil {
			t.Error("a token whose id names another family than its record's was accepted after its record's family was revoked")
		}
	})
	if id := newAccessTokenID("a.b", "f", "s"); strings.Count(id, ":") != 0 {
		t.Errorf("access token id %q contains ':'", id)
	}
}
