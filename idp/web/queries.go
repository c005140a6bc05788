package web

// Answering the journey's queries: the password check (with its limits and
// the same cost for an unknown account), creating the account, and the send
// budgets; each answer is an event for the journey.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui/locale"
)

// answer performs the journey's queries against the durable store.
func (h *Handler) answer(r *http.Request, s *journey.State) journey.Answer {
	ctx := r.Context()
	return func(q journey.Query) (journey.Event, error) {
		switch q := q.(type) {
		case journey.LookUpAccount:
			u, err := h.Store.UserByEmail(ctx, q.Email)
			if errors.Is(err, store.ErrNotFound) {
				return journey.AccountLookedUp{}, nil
			}
			if err != nil {
				return nil, err
			}
			return journey.AccountLookedUp{Account: accountOf(u)}, nil
		case journey.CheckPassword:
			return h.checkPassword(ctx, r, q)
		case journey.CreateUser:
			return h.createUser(ctx, r, q, s.Lang)
		case journey.CheckSendBudget:
			return h.checkSendBudget(ctx, r, s, q)
		case journey.CheckCodeGuesses:
			return h.checkCodeGuesses(ctx, r, q)
		case journey.RecordWrongCode:
			return h.recordWrongCode(ctx, r, q)
		default:
			return nil, errors.New("web: unknown journey query")
		}
	}
}

// accountOf is the journey's view of a stored account; nil for nil.
func accountOf(u *store.User) *journey.Account {
	if u == nil {
		return nil
	}
	return &journey.Account{UserID: u.ID, Phone: u.Phone, PhoneType: phone.Type(u.PhoneType), PhoneVerified: u.PhoneVerified}
}

// checkPassword checks a password and owns the lockout and the throttles.
//
//   - One network (an IPv4 address, an IPv6 /64) that has typed many wrong
//     passwords, across any accounts, waits longer before each check and is then
//     refused for the rest of the window; so does a journey with many failures.
//   - Consecutive failures from browsers unknown to the account are counted in
//     the durable store and lock the account, for unknown browsers, for a growing
//     period. A browser holding the account's device cookie (it completed a
//     sign-in before) has its own budget instead and is not stopped by that lock.
//
// An unknown or disabled account costs the same hashing time as a real one.
func (h *Handler) checkPassword(ctx context.Context, r *http.Request, q journey.CheckPassword) (journey.Event, error) {
	now, rules := h.now(), h.cfg.Passwords
	network := store.KeyPasswordFailNetwork + h.clientNetwork(r)
	nf, err := h.Store.Count(ctx, network, rules.NetworkWindow, now)
	if err != nil {
		return nil, err
	}
	if rules.NetworkRefused(nf) {
		h.audit(ctx, r, "login.throttled", "", "too many wrong passwords from this network")
		h.metrics.password(journey.PasswordThrottled)
		return journey.PasswordChecked{Result: journey.PasswordThrottled, RetryAfter: limits.WindowLeft(rules.NetworkWindow, now)}, nil
	}
	if err := sleep(ctx, max(rules.NetworkDelay(nf), rules.JourneyDelay(q.Failures))); err != nil {
		return nil, err
	}
	// failed counts a wrong password against the network and answers it: wrong,
	// or locked until until when this failure locked the account (or address).
	failed := func(userID, detail string, until time.Time) (journey.Event, error) {
		if _, err := h.Store.Hit(ctx, network, rules.NetworkWindow, now); err != nil {
			return nil, err
		}
		h.audit(ctx, r, "login.failed", userID, detail)
		if until.IsZero() {
			h.metrics.password(journey.PasswordWrong)
			return journey.PasswordChecked{Result: journey.PasswordWrong}, nil
		}
		h.metrics.password(journey.PasswordLocked)
		return journey.PasswordChecked{Result: journey.PasswordLocked, LockedUntil: until.In(h.cfg.Location)}, nil
	}
	// whileLocked answers an attempt on a locked account (or address): nothing
	// is counted, and the right password is refused too.
	whileLocked := func(userID, detail string, until time.Time) (journey.Event, error) {
		h.audit(ctx, r, "login.locked", userID, detail)
		h.metrics.password(journey.PasswordLocked)
		return journey.PasswordChecked{Result: journey.PasswordLocked, LockedUntil: until.In(h.cfg.Location)}, nil
	}
	// No account, or a disabled one: the same hashing time, and the same lock
	// after the same number of failures as a real account, so neither the words
	// nor the wait tell whether the address has an account.
	noAccount := func(userID, detail string) (journey.Event, error) {
		key := store.KeyPasswordFailEmail + h.personal(q.Email)
		n, last, err := h.Store.Failures(ctx, key)
		if err != nil {
			return nil, err
		}
		if err := h.Passwords.DummyVerify(ctx, q.Password); err != nil {
			return nil, err
		}
		if until := h.Machine.Policy().LockedUntil(n, last); now.Before(until) {
			return whileLocked(userID, "attempt while locked ("+detail+")", until)
		}
		n, err = h.Store.RecordFailure(ctx, key, now)
		if err != nil {
			return nil, err
		}
		return failed(userID, detail, h.Machine.Policy().LockedUntil(n, now))
	}
	u, err := h.Store.UserByEmail(ctx, q.Email)
	if errors.Is(err, store.ErrNotFound) {
		return noAccount("", "no such account")
	}
	if err != nil {
		return nil, err
	}
	if u.Status != store.UserActive {
		return noAccount(u.ID, "account disabled")
	}
	device, known := h.knownBrowser(r, u.ID)
	deviceKey := store.KeyPasswordFailDevice + device
	if known {
		n, err := h.Store.Count(ctx, deviceKey, rules.KnownBrowserWindow, now)
		if err != nil {
			return nil, err
		}
		known = n < rules.KnownBrowserFailures // past its budget it is one more unknown browser
	}
	if !known && now.Before(u.LockedUntil) {
		if err := h.Passwords.DummyVerify(ctx, q.Password); err != nil {
			return nil, err
		}
		return whileLocked(u.ID, "attempt while locked", u.LockedUntil)
	}
	var ok, rehash bool
	if u.PasswordHash == "" && u.ImportedFrom != "" {
		// An imported account's first sign-in: throttled, locked and disabled
		// accounts have been answered above and never reach B2C.
		ev, accepted, err := h.firstPassword(ctx, r, q, u)
		if ev != nil || err != nil {
			return ev, err
		}
		ok = accepted
	} else if ok, rehash, err = h.Passwords.Verify(ctx, q.Password, u.PasswordHash); err != nil {
		return nil, wrapf(err, "verify password")
	}
	if !ok {
		if known {
			if _, err := h.Store.Hit(ctx, deviceKey, rules.KnownBrowserWindow, now); err != nil {
				return nil, err
			}
			return failed(u.ID, "wrong password (known browser)", time.Time{})
		}
		n, err := h.Store.RecordLoginFailure(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		until := h.Machine.Policy().LockedUntil(n, now)
		if !until.IsZero() {
			if err := h.Store.LockUser(ctx, u.ID, until); err != nil {
				return nil, err
			}
			h.audit(ctx, r, "account.locked", u.ID, "too many wrong passwords")
		}
		return failed(u.ID, "wrong password", until)
	}
	// A right password from an unknown browser ends the run of failures; one
	// from a known browser leaves the lock others earned for unknown browsers.
	if !known && (u.FailedLogins > 0 || !u.LockedUntil.IsZero()) {
		if err := h.Store.ResetLoginFailures(ctx, u.ID); err != nil {
			return nil, err
		}
	}
	if rehash {
		if hash, err := h.Passwords.Hash(ctx, q.Password); err == nil {
			u.PasswordHash, u.UpdatedAt = hash, now
			if err := h.Store.UpdateUser(ctx, u); err != nil {
				h.Log.WarnContext(ctx, "store rehashed password", "err", err)
			}
		}
	}
	acct := accountOf(u)
	if err := h.pendingPhone(ctx, r, u, acct); err != nil {
		return nil, err
	}
	h.metrics.password(journey.PasswordOK)
	return journey.PasswordChecked{Result: journey.PasswordOK, Account: acct}, nil
}

// personal is how an email address or a phone number appears in the name of a
// durable counter or run of failures (store/keys.go): a keyed hash (HMAC-SHA-256
// under CounterKey, 128 bits) of the value as the stores compare it (an address
// folded to lower case, a number in E.164), so the database holds no address or
// number in clear, and without the key-encryption key nobody can tell whose
// budget a key is, or test a guess.
func (h *Handler) personal(v string) string {
	key := h.cfg.CounterKey
	if len(key) == 0 {
		key = []byte("idp/web counter keys without a configured key")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(v))))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// clientNetwork is the client's network for per-network limits (limits.NetworkKey).
func (h *Handler) clientNetwork(r *http.Request) string {
	ip := h.clientIP(r)
	if a, err := netip.ParseAddr(ip); err == nil {
		return limits.NetworkKey(a)
	}
	return ip
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// createUser creates the account at 'Create': email verified, no phone yet.
func (h *Handler) createUser(ctx context.Context, r *http.Request, q journey.CreateUser, lang string) (journey.Event, error) {
	hash, err := h.Passwords.Hash(ctx, q.Password)
	if err != nil {
		return nil, wrapf(err, "hash password")
	}
	id, err := newUserID()
	if err != nil {
		return nil, err
	}
	now := h.now()
	u := &store.User{
		ID: id, Email: q.Email, EmailVerified: true, GivenName: q.GivenName, FamilyName: q.FamilyName,
		PasswordHash: hash, Status: store.UserActive, CreatedAt: now, UpdatedAt: now,
		Locale: locale.Or(lang),
	}
	if err := h.Store.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return nil, errAccountTaken
	} else if err != nil {
		return nil, err
	}
	h.audit(ctx, r, "user.created", id, "signed up")
	h.metrics.created.Inc()
	return journey.UserCreated{UserID: id}, nil
}

// checkSendBudget counts one more message against the durable budgets
// (limits.Sends) and refuses past any of them. An enrolment (a number that is not
// the account's verified one) first meets the account's budgets: different
// numbers a UTC day, then texts and calls a day; a refusal there counts nothing
// against the number or the network, so a stopped account cannot use up a
// number's budget. Then the recipient's budgets (an hour and a day, texts and
// calls together) and the client network's (an hour), each a sliding window; a
// message refused by one is still counted by the others, so hammering a refusal
// does not shorten it. A store that cannot count fails the step, and the page
// says to try again: nothing is sent uncounted. A text or call refused here is
// a refused one in the day's counts of the journey's form app (the cost report).
func (h *Handler) checkSendBudget(ctx context.Context, r *http.Request, s *journey.State, q journey.CheckSendBudget) (journey.Event, error) {
	b, now := h.cfg.Sends, h.now()
	refuse := func(budget string, reason journey.SendRefusal, wait time.Duration) (journey.Event, error) {
		h.audit(ctx, r, "send.refused", q.UserID, "send budget "+budget+" spent on "+string(q.Channel))
		h.metrics.refused.WithLabelValues(budget).Inc()
		h.countRefused(ctx, r, s, q.Channel)
		return journey.SendBudgetChecked{Allowed: false, RetryAfter: wait, Reason: reason}, nil
	}
	if q.Enrolment {
		if q.UserID == "" {
			return nil, errors.New("web: an enrolment without an account")
		}
		rank, err := h.Store.AddMember(ctx, store.KeyEnrolNumbers+q.UserID, h.personal(q.To), b.EnrolNumbers().Window, now)
		if err != nil {
			return nil, err
		}
		if ok, wait := b.EnrolNumbers().Allow(rank, now); !ok {
			return refuse("enrol_numbers", journey.RefusedNewNumbers, wait)
		}
		ok, wait, err := h.slidingHit(ctx, store.KeyEnrolSends+q.UserID, b.EnrolSends(), now)
		if err != nil {
			return nil, err
		}
		if !ok {
			return refuse("enrol_sends", journey.RefusedEnrolmentSends, wait)
		}
	}
	refusedBy, longest := "", time.Duration(0)
	for _, c := range h.sendCharges(r, q.Channel, q.To) {
		ok, wait, err := h.slidingHit(ctx, c.key, c.rule, now)
		if err != nil {
			return nil, err
		}
		if !ok && wait >= longest {
			refusedBy, longest = c.budget, wait
		}
	}
	if refusedBy != "" {
		return refuse(refusedBy, journey.RefusedBusy, longest)
	}
	return journey.SendBudgetChecked{Allowed: true}, nil
}

// sendCharge is one budget a message is counted against.
type sendCharge struct {
	budget, key string
	rule        limits.Sliding
}

// sendCharges are the budgets of every message on ch to to from r's network.
func (h *Handler) sendCharges(r *http.Request, ch factors.Channel, to string) []sendCharge {
	b := h.cfg.Sends
	dest := store.KeySend + string(ch) + ":" + h.personal(to)
	if ch != factors.ChannelEmail {
		dest = store.KeySendPhone + h.personal(to) // texts and calls share a number's budget
	}
	return []sendCharge{
		{"recipient_hour", dest, b.RecipientHour()},
		{"recipient_day", dest, b.RecipientDay()},
		{"client_hour", store.KeySendNetwork + h.clientNetwork(r), b.ClientHour()},
	}
}

// refundText gives back to the person's budgets a text that was counted and
// then not sent (the provider refused it, or the daily ceiling stopped it).
func (h *Handler) refundText(ctx context.Context, r *http.Request, s *journey.State, t *textNotSent) {
	now := h.now()
	charges := h.sendCharges(r, factors.ChannelSMS, t.to)
	if !t.verified && s.UserID != "" {
		charges = append(charges, sendCharge{"enrol_sends", store.KeyEnrolSends + s.UserID, h.cfg.Sends.EnrolSends()})
	}
	for _, c := range charges {
		if err := h.Store.Unhit(ctx, c.key, c.rule.Window, now); err != nil {
			h.Log.WarnContext(ctx, "give back an unsent text to its budget", "budget", c.budget, "err", err)
		}
	}
}

// slidingHit counts a hit on key in its fixed window and weighs it with the
// previous window's count (limits.Sliding).
func (h *Handler) slidingHit(ctx context.Context, key string, rule limits.Sliding, now time.Time) (bool, time.Duration, error) {
	cur, err := h.Store.Hit(ctx, key, rule.Window, now)
	if err != nil {
		return false, 0, err
	}
	prev, err := h.Store.Count(ctx, key, rule.Window, now.Add(-rule.Window))
	if err != nil {
		return false, 0, err
	}
	ok, wait := rule.Allow(prev, cur, now)
	return ok, wait, nil
}

// countRefused adds a text or call a send budget refused to the day's counts
// of the journey's form app, when the store keeps them (the durable stores
// do). It is a record, not a rule: a failure to write it is logged.
func (h *Handler) countRefused(ctx context.Context, r *http.Request, s *journey.State, ch factors.Channel) {
	daily, ok := h.Store.(store.DailyCounts)
	if !ok || (ch != factors.ChannelSMS && ch != factors.ChannelVoice) {
		return
	}
	if err := daily.AddDailyCount(ctx, h.now(), h.journeyClient(r, s), store.SendCountKind(string(ch), store.SendRefused), 1); err != nil {
		h.Log.WarnContext(ctx, "count a refused text or call for the cost report", "err", err)
	}
}
