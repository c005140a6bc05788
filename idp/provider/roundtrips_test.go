package provider

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/councilforms/idp/store"
)

// trips records the calls the provider makes of its stores, each one round
// trip: a Redis command, script or pipeline for the ephemeral store, a
// statement or a transaction for the durable one.
type trips struct {
	mu    sync.Mutex
	calls []string
}

func (t *trips) add(call string) {
	t.mu.Lock()
	t.calls = append(t.calls, call)
	t.mu.Unlock()
}

// take returns the calls made since the last take.
func (t *trips) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.calls
	t.calls = nil
	return c
}

// tripsEph is an ephemeral store that records every call.
type tripsEph struct {
	store.Ephemeral
	t *trips
}

func (e tripsEph) rec(op, key string) { e.t.add("eph." + op + " " + keyKind(key)) }

func (e tripsEph) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	e.rec("Create", key)
	return e.Ephemeral.Create(ctx, key, value, ttl)
}

func (e tripsEph) Get(ctx context.Context, key string) ([]byte, int64, error) {
	e.rec("Get", key)
	return e.Ephemeral.Get(ctx, key)
}

func (e tripsEph) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	kinds := make([]string, len(keys))
	for i, k := range keys {
		kinds[i] = keyKind(k)
	}
	e.t.add("eph.GetMany " + strings.Join(kinds, ","))
	return e.Ephemeral.GetMany(ctx, keys...)
}

func (e tripsEph) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	e.rec("CompareAndSet", key)
	return e.Ephemeral.CompareAndSet(ctx, key, version, value, ttl)
}

func (e tripsEph) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	e.rec("Put", key)
	return e.Ephemeral.Put(ctx, key, value, ttl)
}

func (e tripsEph) Take(ctx context.Context, key string) ([]byte, error) {
	e.rec("Take", key)
	return e.Ephemeral.Take(ctx, key)
}

func (e tripsEph) Delete(ctx context.Context, key string) error {
	e.rec("Delete", key)
	return e.Ephemeral.Delete(ctx, key)
}

func (e tripsEph) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	e.rec("Incr", key)
	return e.Ephemeral.Incr(ctx, key, ttl)
}

func (e tripsEph) PushCapped(ctx context.Context, key string, value []byte, max int, ttl time.Duration) ([][]byte, error) {
	e.rec("PushCapped", key)
	return e.Ephemeral.PushCapped(ctx, key, value, max, ttl)
}

func (e tripsEph) List(ctx context.Context, key string) ([][]byte, error) {
	e.rec("List", key)
	return e.Ephemeral.List(ctx, key)
}

// keyKind is a key without its id: "oidc:at:" for an access token's.
func keyKind(key string) string {
	for _, k := range []string{keyRevokedUser, keyRevokedFamily, keyRevokedSession, keyAuthRequest, keyCode, keyGrant,
		keyAccessToken, keySessionByID, keySessionClients, keyUserSessions, keySession} {
		if strings.HasPrefix(key, k) {
			return k
		}
	}
	if i := strings.LastIndexByte(key, ':'); i >= 0 {
		return key[:i+1]
	}
	return key
}

// tripsDB is a durable store that records every call the provider makes of
// it on the way of a request (the methods idp/provider calls).
type tripsDB struct {
	store.Durable
	t *trips
}

func (d tripsDB) rec(op string) { d.t.add("db." + op) }

func (d tripsDB) UserByID(ctx context.Context, id string) (*store.User, error) {
	d.rec("UserByID")
	return d.Durable.UserByID(ctx, id)
}

func (d tripsDB) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	d.rec("ClientByID")
	return d.Durable.ClientByID(ctx, id)
}

func (d tripsDB) ListClients(ctx context.Context) ([]*store.Client, error) {
	d.rec("ListClients")
	return d.Durable.ListClients(ctx)
}

func (d tripsDB) ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error {
	d.rec("ReplaceClientSecretHash")
	return d.Durable.ReplaceClientSecretHash(ctx, id, oldHash, newHash)
}

func (d tripsDB) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	d.rec("ListSigningKeys")
	return d.Durable.ListSigningKeys(ctx)
}

func (d tripsDB) CreateRefreshToken(ctx context.Context, rt *store.RefreshToken) error {
	d.rec("CreateRefreshToken")
	return d.Durable.CreateRefreshToken(ctx, rt)
}

func (d tripsDB) CreateRefreshTokenAndUser(ctx context.Context, rt *store.RefreshToken) (*store.User, error) {
	d.rec("CreateRefreshTokenAndUser")
	return d.Durable.CreateRefreshTokenAndUser(ctx, rt)
}

func (d tripsDB) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	d.rec("RefreshTokenByHash")
	return d.Durable.RefreshTokenByHash(ctx, hash)
}

func (d tripsDB) RefreshTokenAndUser(ctx context.Context, hash string) (*store.RefreshToken, *store.User, error) {
	d.rec("RefreshTokenAndUser")
	return d.Durable.RefreshTokenAndUser(ctx, hash)
}

func (d tripsDB) ClientAndUser(ctx context.Context, clientID, userID string) (*store.Client, *store.User, error) {
	d.rec("ClientAndUser")
	return d.Durable.ClientAndUser(ctx, clientID, userID)
}

func (d tripsDB) ClientAndRefreshToken(ctx context.Context, clientID, hash string) (*store.Client, *store.RefreshToken, *store.User, error) {
	d.rec("ClientAndRefreshToken")
	return d.Durable.ClientAndRefreshToken(ctx, clientID, hash)
}

func (d tripsDB) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	d.rec("RotateRefreshToken")
	return d.Durable.RotateRefreshToken(ctx, oldHash, next, now)
}

func (d tripsDB) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	d.rec("RevokeRefreshFamily")
	return d.Durable.RevokeRefreshFamily(ctx, familyID, now)
}

func (d tripsDB) RevokeUserRefreshTokens(ctx context.Context, userID, clientID string, now time.Time) error {
	d.rec("RevokeUserRefreshTokens")
	return d.Durable.RevokeUserRefreshTokens(ctx, userID, clientID, now)
}

func (d tripsDB) Count(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	d.rec("Count " + keyKind(key))
	return d.Durable.Count(ctx, key, window, now)
}

func (d tripsDB) Counts(ctx context.Context, keys []string, window time.Duration, now time.Time) ([]int, error) {
	kinds := make([]string, len(keys))
	for i, k := range keys {
		kinds[i] = keyKind(k)
	}
	d.rec("Counts " + strings.Join(kinds, ","))
	return d.Durable.Counts(ctx, keys, window, now)
}

func (d tripsDB) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	d.rec("Hit " + keyKind(key))
	return d.Durable.Hit(ctx, key, window, now)
}

func (d tripsDB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	d.rec("AppendAudit " + e.Kind)
	return d.Durable.AppendAudit(ctx, e)
}

func (d tripsDB) AddDailyCount(ctx context.Context, at time.Time, clientID, kind string, n int64) error {
	d.rec("AddDailyCount")
	return d.Durable.AddDailyCount(ctx, at, clientID, kind, n)
}

// tripsEnv is an env whose stores record the provider's calls.
func tripsEnv(t *testing.T, open func(t *testing.T) stores) (*env, *trips) {
	t.Helper()
	st := open(t)
	tr := &trips{}
	e := newEnv(t, stores{db: tripsDB{Durable: st.db, t: tr}, eph: tripsEph{Ephemeral: st.eph, t: tr}}, func(c *Config) {
		c.StaticClients = []*store.Client{{ID: "static", Name: "Static form", Public: true,
			RedirectURIs: []string{"https://" + rpHost + "/static/callback"}}}
	})
	return e, tr
}

// tripCounts is how many calls of each store a list of calls made.
func tripCounts(calls []string) (eph, db int) {
	for _, c := range calls {
		if strings.HasPrefix(c, "eph.") {
			eph++
		} else {
			db++
		}
	}
	return eph, db
}

// The round trips of the token endpoint and userinfo, counted per request
// once a client has authenticated from its network in this window (the first
// success records the network as known: one write per window): a code
// exchange, a refresh grant and a userinfo request each make no more calls
// of Redis and of PostgreSQL than their durability and revocation need, for
// a public client (PKCE) and a confidential one.
//
// Before, a code exchange read the client and then the account for the
// claims, and deleted the auth request its code had redeemed; a refresh
// grant read the client and then the token with its account; a confidential
// client's record was read twice per request (to present it, to check its
// secret), and the failure counters of its network and of its id one by one.
func TestTokenEndpointRoundTrips(t *testing.T) {
	for _, c := range []struct {
		client string
		// The round trips each request makes: Redis, PostgreSQL.
		exchange, refresh, userinfo [2]int
	}{
		// Code exchange: take the code, record the grant, store the access
		// token, check the grant again (Redis); the client with the account,
		// the refresh token (PostgreSQL). Refresh: the access token (Redis);
		// the client with the token and its account, the rotation.
		// Userinfo: the token with its revocation markers (Redis), the account.
		{client: "spa", exchange: [2]int{4, 2}, refresh: [2]int{1, 2}, userinfo: [2]int{1, 1}},
		// A confidential client adds the failure counters of its network and
		// of its id (limits.ClientSecrets), read together before its secret
		// is checked.
		{client: "formapp", exchange: [2]int{4, 3}, refresh: [2]int{1, 3}, userinfo: [2]int{1, 1}},
		// A client of the clients file is not read at all; a code exchange
		// then reads the account with the refresh token's insert, a refresh
		// grant the token with its account on its own.
		{client: "static", exchange: [2]int{4, 1}, refresh: [2]int{1, 2}, userinfo: [2]int{1, 1}},
	} {
		t.Run(c.client, func(t *testing.T) {
			e, tr := tripsEnv(t, memorySQLite)
			u := e.newUser()
			e.signInAs(u, time.Now())
			r := e.rp(c.client)
			for round := range 2 {
				f := newFlow()
				code := r.signIn(e.browser(), f)
				check := func(what string, want [2]int) {
					t.Helper()
					calls := tr.take()
					if round == 0 {
						return
					}
					eph, db := tripCounts(calls)
					if eph != want[0] || db != want[1] {
						t.Errorf("%s: %d round trips to the ephemeral store and %d to the durable one, want %d and %d:\n%s",
							what, eph, db, want[0], want[1], strings.Join(calls, "\n"))
					}
				}

				tr.take()
				tok, err := r.conf.Exchange(r.ctx, code, oauth2.VerifierOption(f.verifier))
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				check("code exchange", c.exchange)
				if _, err := r.verify(tok, f.nonce); err != nil {
					t.Fatal(err)
				}

				tr.take()
				next, err := r.refresh(tok.RefreshToken)
				if err != nil {
					t.Fatalf("refresh: %v", err)
				}
				check("refresh grant", c.refresh)
				if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
					t.Fatal("refresh did not rotate")
				}
				if _, err := r.verify(next, ""); err != nil {
					t.Fatal(err)
				}

				tr.take()
				claims, err := r.userinfo(next.AccessToken)
				if err != nil {
					t.Fatalf("userinfo: %v", err)
				}
				check("userinfo", c.userinfo)
				if claims["sub"] != u.ID || claims["given_name"] != "Ann" {
					t.Errorf("userinfo claims %v", claims)
				}
			}
		})
	}
}
