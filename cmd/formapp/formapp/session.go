package formapp

import (
	"crypto/rand"
	"net/http"
	"sync"
	"time"
)

// Session is one browser's visit to the form: the answers typed so far, who
// is signed in, and the sign-in in progress. Sessions live in memory only
// (see doc.go): a restart forgets them.
type Session struct {
	ID      string
	Expires time.Time

	Answers Answers
	// Reference is the number of the referral just submitted.
	Reference string

	// Person is set once the provider has signed the person in.
	Person *Person
	// IDToken is the raw ID token, sent back as id_token_hint on sign out.
	IDToken string
	// ProviderSession is the ID token's sid: the provider's session this
	// sign-in belongs to, which a back-channel logout token names. Empty when
	// the provider sent none.
	ProviderSession string

	// Pending is the sign-in started by 'Login or Register', until /callback.
	Pending *PendingLogin
}

// Person is what the ID token says about the signed-in person.
type Person struct {
	Subject    string `json:"sub"`
	Name       string `json:"name"`
	GivenName  string `json:"given_name"`
	FamilyName string `json:"family_name"`
	Email      string `json:"email"`
	Phone      string `json:"phone_number"`
}

// DisplayName is the name shown as 'Signed in as <name>'.
func (p *Person) DisplayName() string {
	if p == nil {
		return ""
	}
	if p.Name != "" {
		return p.Name
	}
	switch {
	case p.GivenName != "" && p.FamilyName != "":
		return p.GivenName + " " + p.FamilyName
	case p.GivenName != "":
		return p.GivenName
	case p.FamilyName != "":
		return p.FamilyName
	case p.Email != "":
		return p.Email
	}
	return "you"
}

// PendingLogin binds an authorization response to the request that started
// it: the state and nonce sent, the PKCE verifier kept back, and the page to
// return to.
type PendingLogin struct {
	State    string
	Nonce    string
	Verifier string
	ReturnTo string
	Started  time.Time
}

// endedKeep is how long the id of a session ended by a back-channel logout
// is remembered, so that a request that read the session just before the
// logout cannot store it again when it finishes (requests last at most the
// server's 30-second timeouts).
const endedKeep = 5 * time.Minute

// sessions is an in-memory session table with idle expiry.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*Session
	// ended holds the ids of sessions ended by a back-channel logout, until
	// the time given; put drops them.
	ended map[string]time.Time
	ttl   time.Duration
	now   func() time.Time
	swept time.Time
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{byID: make(map[string]*Session), ended: make(map[string]time.Time), ttl: ttl, now: time.Now}
}

// get returns a copy of the live session with this id, or nil.
func (s *sessions) get(id string) *Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byID[id]
	if !ok {
		return nil
	}
	if !s.now().Before(sess.Expires) {
		delete(s.byID, id)
		return nil
	}
	c := *sess
	return &c
}

// put stores sess (a copy), extending its expiry. A session ended by a
// back-channel logout stays ended: put drops it.
func (s *sessions) put(sess *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if _, ok := s.ended[sess.ID]; ok {
		return
	}
	sess.Expires = now.Add(s.ttl)
	c := *sess
	s.byID[sess.ID] = &c
	s.sweep(now)
}

func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// endSignIns ends the signed-in sessions a logout token for provider
// session sid and person sub names (either may be empty, not both): when sid
// is given, the sessions of that sid (of that sub too when sub is given);
// otherwise every session of sub. A session whose ID token had no sid (one
// from before the provider sent sid) cannot be told apart, so a token with
// sub ends it whatever its sid. It returns how many it ended. The table is
// scanned: a demo holds few sessions.
func (s *sessions) endSignIns(sid, sub string) int {
	if sid == "" && sub == "" {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for id, sess := range s.byID {
		if sess.Person == nil || (sub != "" && sess.Person.Subject != sub) {
			continue
		}
		if sid != "" && sess.ProviderSession != sid && (sub == "" || sess.ProviderSession != "") {
			continue
		}
		delete(s.byID, id)
		s.ended[id] = now.Add(endedKeep)
		n++
	}
	return n
}

// sweep drops expired sessions (and ended ids past keeping), at most once a
// minute, so that abandoned visits do not pile up.
func (s *sessions) sweep(now time.Time) {
	if now.Sub(s.swept) < time.Minute {
		return
	}
	s.swept = now
	for id, sess := range s.byID {
		if !now.Before(sess.Expires) {
			delete(s.byID, id)
		}
	}
	for id, until := range s.ended {
		if !now.Before(until) {
			delete(s.ended, id)
		}
	}
}

// newSessionID is 256 random bits, URL-safe.
func newSessionID() string { return rand.Text() + rand.Text() }

// cookieName is __Host- prefixed over https, which pins the cookie to this
// host and path /, and plain over http (browsers refuse __Host- without Secure).
func (a *App) cookieName() string {
	if a.cfg.secureCookies() {
		return "__Host-formapp-session"
	}
	return "formapp-session"
}

// session returns the browser's session, or nil when it has none (or it expired).
func (a *App) session(r *http.Request) *Session {
	c, err := r.Cookie(a.cookieName())
	if err != nil || c.Value == "" {
		return nil
	}
	return a.sessions.get(c.Value)
}

// sessionOrNew returns the browser's session or a new, not yet saved one.
func (a *App) sessionOrNew(r *http.Request) *Session {
	if s := a.session(r); s != nil {
		return s
	}
	return &Session{ID: newSessionID()}
}

// save stores sess and (re)sets its cookie.
func (a *App) save(w http.ResponseWriter, sess *Session) {
	a.sessions.put(sess)
	http.SetCookie(w, &http.Cookie{
		Name:     a.cookieName(),
		Value:    sess.ID,
		Path:     "/",
		HttpOnly: true,
		Secure:   a.cfg.secureCookies(),
		SameSite: http.SameSiteLaxMode,
		// A session cookie (no Max-Age): it ends with the browser, and the
		// server side ends after SessionTTL idle.
	})
}

// end forgets sess and clears its cookie.
func (a *App) end(w http.ResponseWriter, sess *Session) {
	if sess != nil {
		a.sessions.delete(sess.ID)
	}
	http.SetCookie(w, &http.Cookie{
		Name:     a.cookieName(),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   a.cfg.secureCookies(),
		SameSite: http.SameSiteLaxMode,
	})
}
