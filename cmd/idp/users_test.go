package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os/user"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/postgres"
	"github.com/councilforms/idp/store/sqlite"
	"github.com/councilforms/idp/store/storetest"
)

const (
	helpdeskEmail = "Sam.ONeill@Norfolk.gov.uk"
	helpdeskPhone = "+447700900123"
	// fakeHash stands in for an argon2id hash: it must never be printed.
	fakeHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
)

// seedHelpdeskUser creates a person with a verified mobile who has locked
// themselves out with 3 wrong passwords, and one refresh token, as the login pages
// and the provider would have left them.
func seedHelpdeskUser(t *testing.T, s store.Durable, passwordHash string) *store.User {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	u := &store.User{ID: "user-helpdesk-1", Email: helpdeskEmail, EmailVerified: true, GivenName: "Sam", FamilyName: "O'Neill",
		PasswordHash: passwordHash, Phone: helpdeskPhone, PhoneType: "mobile", PhoneVerified: true,
		Status: store.UserActive, CreatedAt: now.Add(-48 * time.Hour), UpdatedAt: now.Add(-24 * time.Hour)}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.RecordLoginFailure(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LockUser(ctx, u.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, &store.AuditEvent{Time: now.Add(-time.Minute), Kind: "account.locked", UserID: u.ID, IP: "192.0.2.7", Detail: "too many wrong passwords"}); err != nil {
		t.Fatal(err)
	}
	rt := &store.RefreshToken{Hash: strings.Repeat("ab", 32), FamilyID: "family-1", ClientID: "referral", UserID: u.ID,
		SessionID: "session-1", Scopes: []string{"openid"}, AMR: []string{"pwd", "sms"}, AuthTime: now, CreatedAt: now,
		ExpiresAt: now.Add(720 * time.Hour), IdleExpiresAt: now.Add(72 * time.Hour)}
	if err := s.CreateRefreshToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	return u
}

// checkUsersCommands runs every subcommand against the database of vars; open
// gives a handle on the same database to check what is stored.
func checkUsersCommands(t *testing.T, vars map[string]string, open func() store.Durable) {
	t.Helper()
	ctx := context.Background()
	stored := func() (*store.User, []*store.AuditEvent) {
		t.Helper()
		s := open()
		defer s.Close()
		u, err := s.UserByEmail(ctx, helpdeskEmail)
		if err != nil {
			t.Fatal(err)
		}
		events, err := s.ListAudit(ctx, u.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return u, events
	}
	before, _ := stored()

	// show, with the email typed in another case.
	code, out, errs := runCmd(t, vars, "users", "show", strings.ToLower(helpdeskEmail))
	if code != 0 {
		t.Fatalf("show: %d %q", code, errs)
	}
	for _, want := range []string{"user-helpdesk-1", helpdeskEmail + " (verified)", "Sam O'Neill", "07*** ***123 (mobile, verified)",
		"status:", "active", "failed logins:  3", "(locked now)", "created:", "updated:", "account.locked", "192.0.2.7", "too many wrong passwords"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"argon2", "c2FsdHNhbHRz", "7700900123", "900123"} {
		if strings.Contains(out, secret) {
			t.Errorf("show prints %q:\n%s", secret, out)
		}
	}

	code, out, errs = runCmd(t, vars, "users", "unlock", helpdeskEmail)
	if code != 0 || !strings.Contains(out, "unlocked: 3 failed logins cleared") {
		t.Fatalf("unlock: %d %q %q", code, out, errs)
	}
	u, _ := stored()
	if u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("after unlock: %d failed logins, locked until %v", u.FailedLogins, u.LockedUntil)
	}
	if code, out, _ := runCmd(t, vars, "users", "unlock", helpdeskEmail); code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("unlock twice: %d %q", code, out)
	}

	code, out, errs = runCmd(t, vars, "users", "disable", helpdeskEmail)
	if code != 0 || !strings.Contains(out, "disabled") || !strings.Contains(out, "email address or password is incorrect") {
		t.Fatalf("disable: %d %q %q", code, out, errs)
	}
	if u, _ = stored(); u.Status != store.UserDisabled {
		t.Errorf("after disable: status %q", u.Status)
	}
	s := open()
	rt, err := s.RefreshTokenByHash(ctx, strings.Repeat("ab", 32))
	s.Close()
	if err != nil || rt.RevokedAt.IsZero() {
		t.Errorf("refresh token after disable: %+v, %v; want it revoked", rt, err)
	}
	// The running servers are asked to end their sessions everywhere and tell
	// the form apps (provider: TestEndSessionsRequestedByAnAdminCommand).
	s = open()
	notices, err := queuedOn(ctx, s, "end_sessions")
	s.Close()
	if err != nil || len(notices) != 1 || notices[0].Channel != "end_sessions" || notices[0].Recipient != u.ID {
		t.Errorf("outbox after disable: %+v, %v; want one request to end %s's sessions", notices, err, u.ID)
	}
	if code, out, _ := runCmd(t, vars, "users", "disable", helpdeskEmail); code != 0 || !strings.Contains(out, "already disabled") {
		t.Errorf("disable twice: %d %q", code, out)
	}
	if code, out, _ := runCmd(t, vars, "users", "show", helpdeskEmail); !strings.Contains(out, "disabled") || !strings.Contains(out, "admin.disable") {
		t.Errorf("show after disable: %d\n%s", code, out)
	}

	code, out, errs = runCmd(t, vars, "users", "enable", helpdeskEmail)
	if code != 0 || !strings.Contains(out, "enabled") {
		t.Fatalf("enable: %d %q %q", code, out, errs)
	}
	if u, _ = stored(); u.Status != store.UserActive {
		t.Errorf("after enable: status %q", u.Status)
	}
	if code, out, _ := runCmd(t, vars, "users", "enable", helpdeskEmail); code != 0 || !strings.Contains(out, "already active") {
		t.Errorf("enable twice: %d %q", code, out)
	}

	// A number the person gave themselves, still waiting: the reset cancels it.
	s = open()
	pu, err := s.UserByEmail(ctx, helpdeskEmail)
	if err == nil {
		err = s.RequestPhoneChange(ctx, &store.PendingPhone{UserID: pu.ID, Phone: "+447700900456", PhoneType: "mobile",
			RequestedAt: time.Now(), EffectiveAt: time.Now().Add(72 * time.Hour)}, nil, nil)
	}
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCmd(t, vars, "users", "reset-phone", helpdeskEmail)
	if !strings.Contains(out, "still waiting to take effect, is cancelled") {
		t.Errorf("reset-phone with a pending change: %q", out)
	}
	s = open()
	_, perr := s.PendingPhoneChange(ctx, pu.ID)
	s.Close()
	if !errors.Is(perr, store.ErrNotFound) {
		t.Errorf("after reset-phone the pending change is still there: %v", perr)
	}
	if code != 0 || !strings.Contains(out, "phone number ending 123 removed") ||
		!strings.Contains(out, "At their next sign-in, after their password, they will be asked to enrol a new phone number.") {
		t.Fatalf("reset-phone: %d %q %q", code, out, errs)
	}
	u, events := stored()
	if u.Phone != "" || u.PhoneType != "" || u.PhoneVerified {
		t.Errorf("after reset-phone: phone %q type %q verified %v", u.Phone, u.PhoneType, u.PhoneVerified)
	}
	// Only what was asked for changed.
	want := *before
	want.FailedLogins, want.LockedUntil, want.Phone, want.PhoneType, want.PhoneVerified = 0, time.Time{}, "", "", false
	got := *u
	got.UpdatedAt, want.UpdatedAt = time.Time{}, time.Time{}
	if !u.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("updated at %v, not after %v", u.UpdatedAt, before.UpdatedAt)
	}
	got.CreatedAt, want.CreatedAt = got.CreatedAt.UTC(), want.CreatedAt.UTC()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after the commands the user is\n%+v\nwant\n%+v", got, want)
	}
	if code, out, _ := runCmd(t, vars, "users", "reset-phone", helpdeskEmail); code != 0 || !strings.Contains(out, "has no phone number; nothing changed") {
		t.Errorf("reset-phone twice: %d %q", code, out)
	}
	if code, out, _ := runCmd(t, vars, "users", "show", helpdeskEmail); code != 0 || !strings.Contains(out, "none (a phone is enrolled at the next sign-in)") {
		t.Errorf("show after reset-phone: %d\n%s", code, out)
	}

	// One audit event per change (repeats changed nothing), newest first, no secrets.
	var kinds []string
	for _, e := range events {
		if e.UserID != u.ID {
			t.Errorf("audit event %s for user %q", e.Kind, e.UserID)
		}
		if strings.Contains(e.Detail, "7700900") || strings.Contains(e.Detail, "argon2") {
			t.Errorf("audit event %s detail %q", e.Kind, e.Detail)
		}
		kinds = append(kinds, e.Kind)
	}
	if w := []string{"admin.reset_phone", "phone.recovery_cancelled", "admin.enable", "admin.disable", "admin.unlock", "account.locked"}; !reflect.DeepEqual(kinds, w) {
		t.Errorf("audit kinds %v, want %v", kinds, w)
	}
	if d := events[0].Detail; !strings.Contains(d, "ending 123") {
		t.Errorf("reset-phone audit detail %q", d)
	}

	// The person is told of what the council changed (issue 18 item 3): by a
	// queued email when there is a relay, and the command says which.
	s = open()
	emails, err := queuedOn(ctx, s, "email")
	s.Close()
	if _, relay := vars["IDP_SMTP_URL"]; relay {
		var bodies []string
		for _, m := range emails {
			if m.Recipient == u.Email && m.Subject == "Your Norfolk County Council account has changed" {
				bodies = append(bodies, m.Text)
			}
		}
		if err != nil || len(bodies) != 2 || !strings.Contains(bodies[0], "removed the phone number") || !strings.Contains(bodies[1], "has disabled your") {
			t.Errorf("notices queued for %s: %v, %v; want the phone reset's and the disable's", u.Email, bodies, err)
		}
	} else if len(emails) != 0 {
		t.Errorf("without a relay %d emails were queued", len(emails))
	}

	// Signing someone out everywhere is a request the running servers carry out.
	code, out, errs = runCmd(t, vars, "users", "end-sessions", "--operator", "Sam Helpdesk", helpdeskEmail)
	if code != 0 || !strings.Contains(out, "end their sessions in every browser") {
		t.Fatalf("end-sessions: %d %q %q", code, out, errs)
	}
	s = open()
	queued, err := queuedOn(ctx, s, "end_sessions")
	latest, _ := s.ListAudit(ctx, u.ID, 1)
	s.Close()
	if err != nil || len(queued) != 2 || queued[0].Channel != "end_sessions" || queued[0].Recipient != u.ID {
		t.Errorf("outbox after end-sessions: %+v, %v; want a second request to end %s's sessions", queued, err, u.ID)
	}
	// Every admin change names who ran the command: --operator, else the OS user.
	if len(latest) != 1 || latest[0].Kind != "admin.end_sessions" || latest[0].Operator != "cli:Sam Helpdesk" {
		t.Errorf("audit after end-sessions --operator: %+v", latest)
	}
	if me, err := user.Current(); err == nil && events[0].Operator != "cli:"+me.Username {
		t.Errorf("audit of reset-phone without --operator names %q, want cli:%s", events[0].Operator, me.Username)
	}
	if code, out, _ := runCmd(t, vars, "users", "show", helpdeskEmail); code != 0 || !strings.Contains(out, "cli:Sam Helpdesk") {
		t.Errorf("show does not name the operator:\n%s", out)
	}
	if code, _, errs := runCmd(t, vars, "users", "unlock", helpdeskEmail, "--operator"); code != 2 || !strings.Contains(errs, "--operator needs a name") {
		t.Errorf("--operator without a name: %d %q", code, errs)
	}
}

// checkUsersErrors: bad usage exits 2, an unknown email 1, each with one line on
// stderr, and changes nothing.
// checkUsersList finds the seeded person by part of their address.
func checkUsersList(t *testing.T, vars map[string]string) {
	t.Helper()
	code, out, errOut := runCmd(t, vars, "users", "list", "--search", strings.ToUpper(helpdeskEmail[2:9]))
	if code != 0 || !strings.Contains(out, helpdeskEmail) || !strings.Contains(out, "Sam O'Neill") ||
		!strings.Contains(out, journey.MaskPhone(helpdeskPhone)) || strings.Contains(out, helpdeskPhone) || !strings.Contains(out, "active") {
		t.Errorf("users list --search = %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCmd(t, vars, "users", "list", "--search", "nobody-at-all"); code != 0 || strings.TrimSpace(out) != "no accounts" {
		t.Errorf("users list for nobody = %d %q", code, out)
	}
	for _, args := range [][]string{{"users", "list", "--limit", "0"}, {"users", "list", "extra"}, {"users", "list", "--bogus"}} {
		if code, _, errOut := runCmd(t, vars, args...); code != 2 || !strings.Contains(errOut, "idp users: ") {
			t.Errorf("%v = %d %q, want usage error 2", args, code, errOut)
		}
	}
}

func checkUsersErrors(t *testing.T, vars map[string]string, open func() store.Durable) {
	t.Helper()
	ctx := context.Background()
	snapshot := func() (*store.User, int) {
		s := open()
		defer s.Close()
		u, err := s.UserByEmail(ctx, helpdeskEmail)
		if err != nil {
			t.Fatal(err)
		}
		events, err := s.ListAudit(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return u, len(events)
	}
	u0, n0 := snapshot()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"users"}, 2, "idp users: usage: idp users list [--search TEXT] [--limit N] | idp users show|unlock|disable|enable|reset-phone|end-sessions|delete EMAIL"},
		{[]string{"users", "find"}, 2, `unknown subcommand "find"`},
		{[]string{"users", "erase", helpdeskEmail}, 2, `unknown subcommand "erase"`},
		{[]string{"users", "delete"}, 2, "usage: idp users delete EMAIL"},
		{[]string{"users", "disable"}, 2, "usage: idp users disable EMAIL"},
		{[]string{"users", "reset-phone", " "}, 2, "usage: idp users reset-phone EMAIL"},
		{[]string{"users", "disable", helpdeskEmail, "other@example.org"}, 2, "usage: idp users disable EMAIL"},
		{[]string{"users", "unlock", "--all"}, 2, "usage: idp users unlock EMAIL"},
		{[]string{"users", "disable", "nobody@example.org"}, 1, `idp users: no user with email "nobody@example.org"`},
		{[]string{"users", "show", "nobody@example.org"}, 1, `no user with email "nobody@example.org"`},
	} {
		code, out, errs := runCmd(t, vars, c.args...)
		if code != c.code || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, c.msg) {
			t.Errorf("%q: exit %d stdout %q stderr %q, want %d and one line with %q", c.args, code, out, errs, c.code, c.msg)
		}
	}
	u1, n1 := snapshot()
	if !reflect.DeepEqual(u0, u1) || n0 != n1 {
		t.Errorf("bad usage changed the account or the audit log:\n%+v (%d events)\n%+v (%d events)", u0, n0, u1, n1)
	}
	if code, _, errs := runCmd(t, map[string]string{"IDP_DATABASE_URL": "nonsense"}, "users", "show", helpdeskEmail); code != 2 || !strings.Contains(errs, "IDP_DATABASE_URL: ") {
		t.Errorf("bad configuration: %d %q", code, errs)
	}
}

func TestUsersCommandsSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idp.db")
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + path}
	open := func() store.Durable {
		s, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	seedHelpdeskUser(t, s, fakeHash)
	s.Close()
	checkUsersErrors(t, vars, open)
	checkUsersList(t, vars)
	checkUsersCommands(t, vars, open)
}

// With PostgreSQL and IDP_DEV off the command needs only the database settings.
func TestUsersCommandsPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	vars := map[string]string{"IDP_DATABASE_URL": url, "IDP_KEY_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		// With a relay the commands queue the person's notices in the outbox.
		"IDP_SMTP_URL": "smtp://127.0.0.1:1025?tls=none", "IDP_EMAIL_FROM": "Norfolk County Council <no-reply@norfolk.gov.uk>"}
	open := func() store.Durable {
		s, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	seedHelpdeskUser(t, s, fakeHash)
	s.Close()
	checkUsersErrors(t, vars, open)
	checkUsersList(t, vars)
	checkUsersCommands(t, vars, open)
}

// TestUsersCommandsAtTheLoginPages signs in on the running idp around each
// command: a lockout cleared by unlock, the answer a disabled account gets, and
// phone enrolment after reset-phone.
func TestUsersCommandsAtTheLoginPages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idp.db")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	vars := map[string]string{"IDP_DATABASE_URL": "sqlite:" + path, "IDP_ISSUER": issuer, "IDP_ADDR": ln.Addr().String(), "IDP_DEV": "true"}
	cfg, err := config.Load(nil, func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	bg, stop := context.WithCancel(ctx)
	defer stop()
	a.Start(bg)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.Handler()}}
	srv.Start()
	defer srv.Close()

	const redirect = "https://rp.test/callback"
	secrets, err := provider.NewClientSecrets(a.KeyEncryptionKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.AddClient(ctx, a.Durable, secrets, provider.NewClient{
		ID: "referral-form", Name: "Make a social care referral", RedirectURIs: []string{redirect}, Public: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	const pw = "correct horse battery staple"
	hash, err := password.NewHasher(password.DefaultParams, 0).Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	seedHelpdeskUser(t, a.Durable, hash)

	// signIn is a new browser from the form app's 'Login or Register' through the
	// 'Sign In' page; it returns the text of the page that follows.
	signIn := func() string {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		sum := sha256.Sum256([]byte("a-verifier-long-enough-for-pkce-0123456789abc"))
		q := url.Values{"client_id": {"referral-form"}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"state-1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		page := fetch(t, c, http.MethodGet, issuer+"/authorize?"+q.Encode(), nil)
		if !strings.Contains(page, "Sign In") {
			t.Fatalf("not the sign-in page:\n%s", pageText(page))
		}
		action := formWithButton(t, page, "Sign in")
		return pageText(fetch(t, c, http.MethodPost, issuer+action, url.Values{"email": {strings.ToUpper(helpdeskEmail)}, "password": {pw}}))
	}

	if got := signIn(); !strings.Contains(got, "Your account is locked") {
		t.Fatalf("locked account at the sign-in page:\n%s", got)
	}
	if code, _, errs := runCmd(t, vars, "users", "unlock", helpdeskEmail); code != 0 {
		t.Fatalf("unlock: %d %q", code, errs)
	}
	if got := signIn(); !strings.Contains(got, "Confirm it is you") || !strings.Contains(got, "07*** ***123") {
		t.Fatalf("after unlock the phone challenge should follow the password:\n%s", got)
	}
	if code, _, errs := runCmd(t, vars, "users", "disable", helpdeskEmail); code != 0 {
		t.Fatalf("disable: %d %q", code, errs)
	}
	if got := signIn(); !strings.Contains(got, "Your email address or password is incorrect") {
		t.Fatalf("disabled account at the sign-in page:\n%s", got)
	}
	if code, _, errs := runCmd(t, vars, "users", "enable", helpdeskEmail); code != 0 {
		t.Fatalf("enable: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, vars, "users", "reset-phone", helpdeskEmail); code != 0 {
		t.Fatalf("reset-phone: %d %q", code, errs)
	}
	if got := signIn(); !strings.Contains(got, "Enter your phone number") || strings.Contains(got, "***123") {
		t.Fatalf("after reset-phone the password should lead to phone enrolment:\n%s", got)
	}

	// Erasure (issue 18): once the running server has ended the sessions, no
	// table holds anything of the person, and they cannot sign in.
	if code, out, errs := runCmd(t, vars, "users", "delete", helpdeskEmail); code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %d %q %q", code, out, errs)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		pending, err := a.Durable.ListOutbox(ctx, store.OutboxQueued, 0)
		if err != nil {
			t.Fatal(err)
		}
		sending, _ := a.Durable.ListOutbox(ctx, store.OutboxSending, 0)
		if len(pending)+len(sending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not carry out the requests: %+v %+v", pending, sending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leaks := storetest.SQLitePersonalData(t, path, strings.ToLower(helpdeskEmail), "o'neill", helpdeskPhone, helpdeskPhone[3:], "user-helpdesk-1"); len(leaks) > 0 {
		t.Errorf("after erasure the database still holds:\n%s", strings.Join(leaks, "\n"))
	}
	if got := signIn(); !strings.Contains(got, "Your email address or password is incorrect") {
		t.Fatalf("an erased account at the sign-in page:\n%s", got)
	}
}

// fetch requests u as a browser on the idp's own pages would and returns the body.
func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) string {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		t.Fatalf("%s %s: %d\n%s", method, u, res.StatusCode, pageText(string(b)))
	}
	return string(b)
}

var (
	pageFormRe = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	pageTagRe  = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]+>`)
	pageSpace  = regexp.MustCompile(`\s+`)
)

// formWithButton is the action of the form holding the button labelled label.
func formWithButton(t *testing.T, page, label string) string {
	t.Helper()
	for _, f := range pageFormRe.FindAllStringSubmatch(page, -1) {
		if regexp.MustCompile(`(?s)<button[^>]*>\s*` + regexp.QuoteMeta(label) + `\s*</button>`).MatchString(f[2]) {
			return html.UnescapeString(f[1])
		}
	}
	t.Fatalf("no form with a %q button on\n%s", label, pageText(page))
	return ""
}

// pageText is what a person reads of a page.
func pageText(h string) string {
	return strings.TrimSpace(pageSpace.ReplaceAllString(html.UnescapeString(pageTagRe.ReplaceAllString(h, " ")), " "))
}

// queuedOn is the outbox's queued messages of one channel, newest first.
func queuedOn(ctx context.Context, s store.Outbox, channel string) ([]*store.OutboxMessage, error) {
	all, err := s.ListOutbox(ctx, store.OutboxQueued, 0)
	var out []*store.OutboxMessage
	for _, m := range all {
		if m.Channel == channel {
			out = append(out, m)
		}
	}
	return out, err
}
