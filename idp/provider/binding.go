package provider

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
)

// BrowserCookie binds sign-in requests to the browser that started them. It is
// a random value, set by /authorize when the browser has none and kept for the
// browser session; each stored request holds its hash. A request is continued,
// attached to a login journey or completed only by a browser presenting the
// same value, so a request started by someone else (an attacker who calls
// /authorize and lures a victim to its continue link) gives its starter
// nothing.
const BrowserCookie = "__Host-idp_browser"

// ErrOtherBrowser: the sign-in request was started in another browser (or in
// one whose session has since ended).
var ErrOtherBrowser = errors.New("provider: sign-in request was started in another browser")

// The page a person sees for ErrOtherBrowser. It names the guide's button so
// the way forward is the one they know.
const (
	OtherBrowserTitle   = "This sign-in was started somewhere else"
	OtherBrowserMessage = "This sign-in was started in another browser or tab that has closed. Go back to the form and select 'Login or Register' again."
)

// bindBrowser returns the hash to store with a new request, giving the browser
// its binding cookie when it has none.
func bindBrowser(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(BrowserCookie); err == nil && validBinding(ck.Value) {
		return hashToken(ck.Value)
	}
	value := randomToken(32)
	// No Max-Age: the binding ends with the browser session, like the journey.
	http.SetCookie(w, &http.Cookie{
		Name: BrowserCookie, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	// A second request later in this same response (none today) would see it.
	r.AddCookie(&http.Cookie{Name: BrowserCookie, Value: value})
	return hashToken(value)
}

// validBinding: what randomToken(32) makes, so an odd cookie is replaced.
func validBinding(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// boundTo reports whether r comes from the browser that started ar.
func boundTo(r *http.Request, ar *authRequest) bool {
	if r == nil || ar.Binding == "" {
		return false
	}
	ck, err := r.Cookie(BrowserCookie)
	if err != nil || !validBinding(ck.Value) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashToken(ck.Value)), []byte(ar.Binding)) == 1
}

// responseSealer keeps a finished request's authorization response (the
// client's redirect URL, which carries the code) encrypted in the request's
// record for the code's lifetime, so that a repeated last step from the same
// browser (a double click, a retry after a lost response) ends at the same
// redirect instead of a second code or an error.
type responseSealer struct{ aead cipher.AEAD }

func newResponseSealer(kek []byte) (*responseSealer, error) {
	block, err := aes.NewCipher(deriveKey(kek, "authorization-response"))
	if err != nil {
		return nil, fmt.Errorf("provider: response sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("provider: response sealer: %w", err)
	}
	return &responseSealer{aead: aead}, nil
}

// seal encrypts url for the request id (the id is the additional data, so a
// sealed response cannot be moved to another request).
func (s *responseSealer) seal(id, url string) string {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("provider: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(url), []byte(id)))
}

func (s *responseSealer) open(id, sealed string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("provider: sealed response is malformed")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(id))
	if err != nil {
		return "", fmt.Errorf("provider: open sealed response: %w", err)
	}
	return string(plain), nil
}
