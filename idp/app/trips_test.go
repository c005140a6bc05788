package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/server"
	"github.com/councilforms/idp/store"
)

// What each step of a sign-in costs the idp, counted: the HTTP requests the
// browser makes (redirects followed) and the calls the requests make to the
// journey store (each one Redis round trip in production) and the database. A
// step that makes one more, or one fewer, fails here: a change of these numbers
// is a change of the journey's cost, to be made on purpose (BENCHMARKS.md).
func TestSignInTrips(t *testing.T) {
	c := &tripCounter{}
	d := startIdP(t, embedded, nil, app.WithStores(c.wrap))
	p := newPerson(t, true)
	signUp(d, d.browser(), p)

	b := d.browser()
	b.c.Transport = c.transport(b.c.Transport)
	type step struct {
		name string
		do   func()
		want []string // "n×what", sorted
		then func()   // after the counting: the test's own requests
	}
	var code string // the text message's, read from the dev inbox before its step
	for _, s := range []step{
		{"Login or Register", func() { b.startSignIn(); b.expectHeading("Sign In") }, []string{
			"1×HTTP GET /authorize",
			"1×HTTP GET /authorize/continue",
			"1×ephemeral Create journey:",
			"1×ephemeral Create oidc:authreq:",
			"2×database ClientByID",
			"2×ephemeral Get oidc:authreq:",
		}, nil},
		{"Sign in", func() {
			b.press("Sign in", "email", p.email, "password", p.password)
			b.expectHeading("Confirm it is you")
		}, []string{
			"1×HTTP GET /login",
			"1×HTTP POST /login/sign-in",
			"1×database Count",
			"1×database PendingPhoneChange",
			"1×database UserByEmail",
			"1×ephemeral CompareAndSet journey:",
			"2×ephemeral Get journey:",
		}, nil},
		{"Send Code", func() {
			b.press("Send Code")
			b.expectHeading("Check your phone")
		}, []string{
			"1×HTTP GET /login",
			"1×HTTP POST /login/method",
			"1×database AddDailyCount",
			"1×ephemeral CompareAndSet journey:",
			"1×ephemeral PushCapped dev-inbox:",
			"1×ephemeral Put dev-inbox:item:",
			"2×ephemeral Get journey:",
			"4×database Count",
			"4×database Hit",
		}, func() { code = d.smsCode(p.e164) }},
		{"Verify code", func() {
			b.press("Verify code", "code", code)
			if b.code == "" {
				t.Fatalf("not back at the form app: %s", b.page)
			}
		}, []string{
			"1×HTTP POST /login/sms-code",
			"1×database AddDailyCount",
			"1×database RecordSignIn",
			"1×ephemeral CompareAndSet journey:",
			"1×ephemeral CompareAndSet oidc:authreq:",
			"1×ephemeral Create oidc:code:",
			"1×ephemeral Create oidc:session:",
			"1×ephemeral Get journey:",
			"1×ephemeral Get oidc:authreq:",
			"1×ephemeral PushCapped oidc:sidclients:",
			"1×ephemeral PushCapped oidc:usersids:",
			"1×ephemeral Put oidc:sid:",
			"2×database AppendAudit",
			"2×database Failures",
			"2×database ResetFailures",
			"2×database UserByID",
		}, nil},
	} {
		c.reset()
		s.do()
		got := c.counts()
		if s.then != nil {
			s.then()
		}
		if got := got; !slices.Equal(got, s.want) {
			t.Errorf("%s: got\n\t%s\nwant\n\t%s", s.name, strings.Join(got, "\n\t"), strings.Join(s.want, "\n\t"))
		}
	}
}

// tripCounter counts HTTP requests and, of the calls to the stores, those made
// for a request the idp serves (server.RequestID in their context): background
// work (the outbox, retention) is not a step's.
type tripCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *tripCounter) wrap(d store.Durable, e store.Ephemeral) (store.Durable, store.Ephemeral) {
	return &countedDurable{d, c}, &countedEphemeral{e, c}
}

func (c *tripCounter) add(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[what]++
}

func (c *tripCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
}

// counts are "n×what", sorted. The calls of a request may end just after its
// response: wait until the counts have stood still briefly.
func (c *tripCounter) counts() []string {
	var last []string
	for {
		time.Sleep(20 * time.Millisecond)
		c.mu.Lock()
		var out []string
		for what, n := range c.n {
			out = append(out, fmt.Sprintf("%d×%s", n, what))
		}
		c.mu.Unlock()
		slices.Sort(out)
		if slices.Equal(out, last) {
			return out
		}
		last = out
	}
}

func (c *tripCounter) transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.add("HTTP " + r.Method + " " + r.URL.Path)
		return next.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type countedDurable struct {
	store.Durable
	c *tripCounter
}

func (c *countedDurable) note(ctx context.Context, method, _ string) {
	if server.RequestID(ctx) != "" {
		c.c.add("database " + method)
	}
}

type countedEphemeral struct {
	store.Ephemeral
	c *tripCounter
}

// note names an ephemeral call by its key's kind (the key up to its last ':').
func (c *countedEphemeral) note(ctx context.Context, method, key string) {
	if server.RequestID(ctx) != "" {
		c.c.add("ephemeral " + method + " " + key[:strings.LastIndex(key, ":")+1])
	}
}

func (w *countedDurable) CreateUser(ctx context.Context, u *store.User) error {
	w.note(ctx, "CreateUser", "")
	return w.Durable.CreateUser(ctx, u)
}

func (w *countedDurable) UserByID(ctx context.Context, id string) (*store.User, error) {
	w.note(ctx, "UserByID", "")
	return w.Durable.UserByID(ctx, id)
}

func (w *countedDurable) UserByEmail(ctx context.Context, email string) (*store.User, error) {
	w.note(ctx, "UserByEmail", "")
	return w.Durable.UserByEmail(ctx, email)
}

func (w *countedDurable) UpdateUser(ctx context.Context, u *store.User) error {
	w.note(ctx, "UpdateUser", "")
	return w.Durable.UpdateUser(ctx, u)
}

func (w *countedDurable) RecordLoginFailure(ctx context.Context, userID string) (int, error) {
	w.note(ctx, "RecordLoginFailure", "")
	return w.Durable.RecordLoginFailure(ctx, userID)
}

func (w *countedDurable) LockUser(ctx context.Context, userID string, until time.Time) error {
	w.note(ctx, "LockUser", "")
	return w.Durable.LockUser(ctx, userID, until)
}

func (w *countedDurable) ResetLoginFailures(ctx context.Context, userID string) error {
	w.note(ctx, "ResetLoginFailures", "")
	return w.Durable.ResetLoginFailures(ctx, userID)
}

func (w *countedDurable) RecordSignIn(ctx context.Context, userID string, at time.Time) error {
	w.note(ctx, "RecordSignIn", "")
	return w.Durable.RecordSignIn(ctx, userID, at)
}

func (w *countedDurable) EraseUser(ctx context.Context, userID, email, pseudonym string) (bool, error) {
	w.note(ctx, "EraseUser", "")
	return w.Durable.EraseUser(ctx, userID, email, pseudonym)
}

func (w *countedDurable) ImportUsers(ctx context.Context, batch []*store.User, now time.Time) ([]store.ImportOutcome, error) {
	w.note(ctx, "ImportUsers", "")
	return w.Durable.ImportUsers(ctx, batch, now)
}

func (w *countedDurable) ListUsers(ctx context.Context, search string, limit int) ([]*store.User, error) {
	w.note(ctx, "ListUsers", "")
	return w.Durable.ListUsers(ctx, search, limit)
}

func (w *countedDurable) RequestPhoneChange(ctx context.Context, p *store.PendingPhone, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	w.note(ctx, "RequestPhoneChange", "")
	return w.Durable.RequestPhoneChange(ctx, p, notice, audit)
}

func (w *countedDurable) PendingPhoneChange(ctx context.Context, userID string) (*store.PendingPhone, error) {
	w.note(ctx, "PendingPhoneChange", "")
	return w.Durable.PendingPhoneChange(ctx, userID)
}

func (w *countedDurable) ApplyPhoneChange(ctx context.Context, p *store.PendingPhone, now time.Time, notice *store.OutboxMessage, audit *store.AuditEvent) error {
	w.note(ctx, "ApplyPhoneChange", "")
	return w.Durable.ApplyPhoneChange(ctx, p, now, notice, audit)
}

func (w *countedDurable) CancelPhoneChange(ctx context.Context, userID string, audit *store.AuditEvent) (bool, error) {
	w.note(ctx, "CancelPhoneChange", "")
	return w.Durable.CancelPhoneChange(ctx, userID, audit)
}

func (w *countedDurable) CreateClient(ctx context.Context, c *store.Client) error {
	w.note(ctx, "CreateClient", "")
	return w.Durable.CreateClient(ctx, c)
}

func (w *countedDurable) ClientByID(ctx context.Context, id string) (*store.Client, error) {
	w.note(ctx, "ClientByID", "")
	return w.Durable.ClientByID(ctx, id)
}

func (w *countedDurable) UpdateClient(ctx context.Context, c *store.Client) error {
	w.note(ctx, "UpdateClient", "")
	return w.Durable.UpdateClient(ctx, c)
}

func (w *countedDurable) ListClients(ctx context.Context) ([]*store.Client, error) {
	w.note(ctx, "ListClients", "")
	return w.Durable.ListClients(ctx)
}

func (w *countedDurable) DeleteClient(ctx context.Context, id string) error {
	w.note(ctx, "DeleteClient", "")
	return w.Durable.DeleteClient(ctx, id)
}

func (w *countedDurable) SetClientSecret(ctx context.Context, id, secretHash string, keepPreviousUntil time.Time) error {
	w.note(ctx, "SetClientSecret", "")
	return w.Durable.SetClientSecret(ctx, id, secretHash, keepPreviousUntil)
}

func (w *countedDurable) ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error {
	w.note(ctx, "ReplaceClientSecretHash", "")
	return w.Durable.ReplaceClientSecretHash(ctx, id, oldHash, newHash)
}

func (w *countedDurable) CreateSigningKey(ctx context.Context, k *store.SigningKey) error {
	w.note(ctx, "CreateSigningKey", "")
	return w.Durable.CreateSigningKey(ctx, k)
}

func (w *countedDurable) ListSigningKeys(ctx context.Context) ([]*store.SigningKey, error) {
	w.note(ctx, "ListSigningKeys", "")
	return w.Durable.ListSigningKeys(ctx)
}

func (w *countedDurable) RetireSigningKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error {
	w.note(ctx, "RetireSigningKey", "")
	return w.Durable.RetireSigningKey(ctx, id, retiredAt, expiresAt)
}

func (w *countedDurable) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) error {
	w.note(ctx, "DeleteExpiredSigningKeys", "")
	return w.Durable.DeleteExpiredSigningKeys(ctx, now)
}

func (w *countedDurable) CreateRefreshToken(ctx context.Context, t *store.RefreshToken) error {
	w.note(ctx, "CreateRefreshToken", "")
	return w.Durable.CreateRefreshToken(ctx, t)
}

func (w *countedDurable) RefreshTokenByHash(ctx context.Context, hash string) (*store.RefreshToken, error) {
	w.note(ctx, "RefreshTokenByHash", "")
	return w.Durable.RefreshTokenByHash(ctx, hash)
}

func (w *countedDurable) RefreshTokenAndUser(ctx context.Context, hash string) (*store.RefreshToken, *store.User, error) {
	w.note(ctx, "RefreshTokenAndUser", "")
	return w.Durable.RefreshTokenAndUser(ctx, hash)
}

func (w *countedDurable) RotateRefreshToken(ctx context.Context, oldHash string, next *store.RefreshToken, now time.Time) error {
	w.note(ctx, "RotateRefreshToken", "")
	return w.Durable.RotateRefreshToken(ctx, oldHash, next, now)
}

func (w *countedDurable) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	w.note(ctx, "RevokeRefreshFamily", "")
	return w.Durable.RevokeRefreshFamily(ctx, familyID, now)
}

func (w *countedDurable) RevokeUserRefreshTokens(ctx context.Context, userID, clientID string, now time.Time) error {
	w.note(ctx, "RevokeUserRefreshTokens", "")
	return w.Durable.RevokeUserRefreshTokens(ctx, userID, clientID, now)
}

func (w *countedDurable) SessionClients(ctx context.Context, userID, sessionID string, now time.Time) ([]store.SessionClient, error) {
	w.note(ctx, "SessionClients", "")
	return w.Durable.SessionClients(ctx, userID, sessionID, now)
}

func (w *countedDurable) RevokeSessionRefreshTokens(ctx context.Context, userID, sessionID string, now time.Time) error {
	w.note(ctx, "RevokeSessionRefreshTokens", "")
	return w.Durable.RevokeSessionRefreshTokens(ctx, userID, sessionID, now)
}

func (w *countedDurable) PruneRefreshTokens(ctx context.Context, cut time.Time) (int64, error) {
	w.note(ctx, "PruneRefreshTokens", "")
	return w.Durable.PruneRefreshTokens(ctx, cut)
}

func (w *countedDurable) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	w.note(ctx, "AppendAudit", "")
	return w.Durable.AppendAudit(ctx, e)
}

func (w *countedDurable) ListAudit(ctx context.Context, userID string, limit int) ([]*store.AuditEvent, error) {
	w.note(ctx, "ListAudit", "")
	return w.Durable.ListAudit(ctx, userID, limit)
}

func (w *countedDurable) QueryAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error) {
	w.note(ctx, "QueryAudit", "")
	return w.Durable.QueryAudit(ctx, f)
}

func (w *countedDurable) PruneAudit(ctx context.Context, cut time.Time) (int64, error) {
	w.note(ctx, "PruneAudit", "")
	return w.Durable.PruneAudit(ctx, cut)
}

func (w *countedDurable) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	w.note(ctx, "Hit", "")
	return w.Durable.Hit(ctx, key, window, now)
}

func (w *countedDurable) Count(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	w.note(ctx, "Count", "")
	return w.Durable.Count(ctx, key, window, now)
}

func (w *countedDurable) Unhit(ctx context.Context, key string, window time.Duration, now time.Time) error {
	w.note(ctx, "Unhit", "")
	return w.Durable.Unhit(ctx, key, window, now)
}

func (w *countedDurable) AddMember(ctx context.Context, key, member string, window time.Duration, now time.Time) (int, error) {
	w.note(ctx, "AddMember", "")
	return w.Durable.AddMember(ctx, key, member, window, now)
}

func (w *countedDurable) AddDailyCount(ctx context.Context, at time.Time, clientID, kind string, n int64) error {
	w.note(ctx, "AddDailyCount", "")
	return w.Durable.AddDailyCount(ctx, at, clientID, kind, n)
}

func (w *countedDurable) DailyCounts(ctx context.Context, from, to time.Time) ([]store.DailyCount, error) {
	w.note(ctx, "DailyCounts", "")
	return w.Durable.DailyCounts(ctx, from, to)
}

func (w *countedDurable) RecordFailure(ctx context.Context, key string, at time.Time) (int, error) {
	w.note(ctx, "RecordFailure", "")
	return w.Durable.RecordFailure(ctx, key, at)
}

func (w *countedDurable) Failures(ctx context.Context, key string) (n int, last time.Time, err error) {
	w.note(ctx, "Failures", "")
	return w.Durable.Failures(ctx, key)
}

func (w *countedDurable) ResetFailures(ctx context.Context, key string) error {
	w.note(ctx, "ResetFailures", "")
	return w.Durable.ResetFailures(ctx, key)
}

func (w *countedDurable) EnqueueOutbox(ctx context.Context, m *store.OutboxMessage) error {
	w.note(ctx, "EnqueueOutbox", "")
	return w.Durable.EnqueueOutbox(ctx, m)
}

func (w *countedDurable) ClaimOutbox(ctx context.Context, channel string, now time.Time, limit int, lease time.Duration) ([]*store.OutboxMessage, error) {
	w.note(ctx, "ClaimOutbox", "")
	return w.Durable.ClaimOutbox(ctx, channel, now, limit, lease)
}

func (w *countedDurable) MarkOutboxSent(ctx context.Context, id int64, now time.Time) error {
	w.note(ctx, "MarkOutboxSent", "")
	return w.Durable.MarkOutboxSent(ctx, id, now)
}

func (w *countedDurable) MarkOutboxRetry(ctx context.Context, id int64, nextAttempt time.Time, lastError string) error {
	w.note(ctx, "MarkOutboxRetry", "")
	return w.Durable.MarkOutboxRetry(ctx, id, nextAttempt, lastError)
}

func (w *countedDurable) MarkOutboxFailed(ctx context.Context, id int64, lastError string) error {
	w.note(ctx, "MarkOutboxFailed", "")
	return w.Durable.MarkOutboxFailed(ctx, id, lastError)
}

func (w *countedDurable) ListOutbox(ctx context.Context, status store.OutboxStatus, limit int) ([]*store.OutboxMessage, error) {
	w.note(ctx, "ListOutbox", "")
	return w.Durable.ListOutbox(ctx, status, limit)
}

func (w *countedDurable) GrantRole(ctx context.Context, r *store.AdminRole) (granted bool, err error) {
	w.note(ctx, "GrantRole", "")
	return w.Durable.GrantRole(ctx, r)
}

func (w *countedDurable) RevokeRole(ctx context.Context, userID, role string) (revoked bool, err error) {
	w.note(ctx, "RevokeRole", "")
	return w.Durable.RevokeRole(ctx, userID, role)
}

func (w *countedDurable) RolesOf(ctx context.Context, userID string) ([]string, error) {
	w.note(ctx, "RolesOf", "")
	return w.Durable.RolesOf(ctx, userID)
}

func (w *countedDurable) ListRoles(ctx context.Context) ([]*store.AdminRole, error) {
	w.note(ctx, "ListRoles", "")
	return w.Durable.ListRoles(ctx)
}

func (w *countedEphemeral) Create(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	w.note(ctx, "Create", key)
	return w.Ephemeral.Create(ctx, key, value, ttl)
}

func (w *countedEphemeral) Get(ctx context.Context, key string) (value []byte, version int64, err error) {
	w.note(ctx, "Get", key)
	return w.Ephemeral.Get(ctx, key)
}

func (w *countedEphemeral) GetMany(ctx context.Context, keys ...string) ([][]byte, error) {
	w.note(ctx, "GetMany", keys[0])
	return w.Ephemeral.GetMany(ctx, keys...)
}

func (w *countedEphemeral) CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error) {
	w.note(ctx, "CompareAndSet", key)
	return w.Ephemeral.CompareAndSet(ctx, key, version, value, ttl)
}

func (w *countedEphemeral) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	w.note(ctx, "Put", key)
	return w.Ephemeral.Put(ctx, key, value, ttl)
}

func (w *countedEphemeral) Take(ctx context.Context, key string) ([]byte, error) {
	w.note(ctx, "Take", key)
	return w.Ephemeral.Take(ctx, key)
}

func (w *countedEphemeral) Delete(ctx context.Context, key string) error {
	w.note(ctx, "Delete", key)
	return w.Ephemeral.Delete(ctx, key)
}

func (w *countedEphemeral) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	w.note(ctx, "Incr", key)
	return w.Ephemeral.Incr(ctx, key, ttl)
}

func (w *countedEphemeral) PushCapped(ctx context.Context, key string, value []byte, max int, ttl time.Duration) (dropped [][]byte, err error) {
	w.note(ctx, "PushCapped", key)
	return w.Ephemeral.PushCapped(ctx, key, value, max, ttl)
}

func (w *countedEphemeral) List(ctx context.Context, key string) ([][]byte, error) {
	w.note(ctx, "List", key)
	return w.Ephemeral.List(ctx, key)
}
