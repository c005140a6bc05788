package formapp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// BackchannelLogoutEvent is the member of a logout token's events claim that
// declares it a logout token (Back-Channel Logout 1.0 section 2.4).
const BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenLeeway is the clock difference allowed between the provider
// and this app when checking a logout token's iat and exp.
const LogoutTokenLeeway = time.Minute

// MaxLogoutTokenAge is how long after its iat a logout token is accepted.
// The provider signs a fresh token for each delivery attempt, so a token
// this old is a replay; the replay guard remembers jti values for this long,
// which closes the window between the two.
const MaxLogoutTokenAge = 10 * time.Minute

// The ways a logout token is refused, one per rule of Back-Channel Logout 1.0
// section 2.6 (and RFC 8725 explicit typing). VerifyLogoutToken wraps one of
// them with the detail; match with errors.Is. The text is meant for the
// provider's operator: it never contains the token.
var (
	ErrLogoutTokenMalformed = errors.New("logout token is not a compact JWS (header.payload.signature)")
	ErrLogoutTokenEncrypted = errors.New("logout token is encrypted, which this app does not support")
	ErrLogoutTokenAlgNone   = errors.New("logout token is not signed (alg none)")
	ErrLogoutTokenAlg       = errors.New("logout token alg is not one the provider advertises")
	ErrLogoutTokenType      = errors.New(`logout token typ is not "logout+jwt"`)
	ErrLogoutTokenCrit      = errors.New("logout token header has crit extensions, which this app does not understand")
	ErrLogoutTokenSignature = errors.New("logout token signature does not verify against the provider's keys")
	ErrLogoutTokenClaims    = errors.New("logout token payload is not a JSON object of claims")
	ErrLogoutTokenIssuer    = errors.New("logout token iss is not the issuer")
	ErrLogoutTokenAudience  = errors.New("logout token aud does not contain this client")
	ErrLogoutTokenAZP       = errors.New("logout token azp is not this client")
	ErrLogoutTokenIssuedAt  = errors.New("logout token iat is missing or not acceptable")
	ErrLogoutTokenExpiry    = errors.New("logout token exp is missing or passed")
	ErrLogoutTokenID        = errors.New("logout token has no jti")
	ErrLogoutTokenEvent     = errors.New("logout token events claim has no " + BackchannelLogoutEvent + " member with a JSON object value")
	ErrLogoutTokenNonce     = errors.New("logout token has a nonce claim, which logout tokens must not have")
	ErrLogoutTokenSubject   = errors.New("logout token has neither sub nor sid")
	ErrLogoutTokenReplayed  = errors.New("logout token was already received (same jti)")
)

// LogoutClaims are the claims of a verified logout token.
type LogoutClaims struct {
	Issuer   string
	Audience []string
	// Subject (sub) and SessionID (sid): at least one is set.
	Subject   string
	SessionID string
	// TokenID is the jti.
	TokenID  string
	IssuedAt time.Time
	Expiry   time.Time
}

// VerifyLogoutToken verifies raw, a logout token the provider issuer sent to
// client clientID, as Back-Channel Logout 1.0 section 2.6 says, at time now:
//   - a compact JWS (an encrypted token is refused), with an alg among algs
//     (the provider's advertised ID token algorithms this app accepts; RS256
//     when empty), never none, and no crit extensions;
//   - header typ "logout+jwt" (or "application/logout+jwt"; RFC 8725 explicit
//     typing, so that no other JWT of the provider passes as a logout token);
//   - a signature that keys (the provider's JWKS) verifies;
//   - iss equal to issuer; aud (a string or an array) containing clientID, and
//     azp, when present, equal to it;
//   - iat present, not later than now plus LogoutTokenLeeway and not older
//     than MaxLogoutTokenAge; exp present and not passed (with the leeway);
//   - jti present; events holding the BackchannelLogoutEvent member with a
//     JSON object value; no nonce; sub or sid (or both).
//
// Each refusal wraps one of the ErrLogoutToken errors. Refusing a jti seen
// before is the caller's part (the App keeps a replay guard).
func VerifyLogoutToken(ctx context.Context, raw, issuer, clientID string, keys oidc.KeySet, algs []string, now time.Time) (*LogoutClaims, error) {
	if keys == nil {
		return nil, errors.New("formapp: VerifyLogoutToken needs the provider's key set")
	}
	parts := strings.Split(raw, ".")
	switch {
	case len(parts) == 5:
		return nil, ErrLogoutTokenEncrypted
	case len(parts) != 3 || parts[0] == "" || parts[1] == "":
		return nil, ErrLogoutTokenMalformed
	}
	var header struct {
		Alg  *string         `json:"alg"`
		Typ  *string         `json:"typ"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrLogoutTokenMalformed, err)
	}
	if len(algs) == 0 {
		algs = []string{oidc.RS256}
	}
	switch {
	case header.Alg == nil:
		return nil, fmt.Errorf("%w: the header has no alg", ErrLogoutTokenMalformed)
	case strings.EqualFold(*header.Alg, "none"):
		return nil, ErrLogoutTokenAlgNone
	case !slices.Contains(algs, *header.Alg):
		return nil, fmt.Errorf("%w: got %q, want one of %s", ErrLogoutTokenAlg, *header.Alg, strings.Join(algs, ", "))
	}
	if header.Typ == nil {
		return nil, fmt.Errorf("%w: the header has no typ", ErrLogoutTokenType)
	}
	// Media types compare case-insensitively, and the "application/" prefix
	// may be left out (RFC 7515 section 4.1.9).
	if typ := *header.Typ; !strings.EqualFold(typ, "logout+jwt") && !strings.EqualFold(typ, "application/logout+jwt") {
		return nil, fmt.Errorf("%w: got %q", ErrLogoutTokenType, typ)
	}
	if len(header.Crit) > 0 {
		return nil, ErrLogoutTokenCrit
	}

	payload, err := keys.VerifySignature(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenSignature, err)
	}

	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, ErrLogoutTokenClaims
	}
	str := func(name string) (string, bool, error) {
		v, ok := claims[name]
		if !ok {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", true, fmt.Errorf("%s is not a string", name)
		}
		return s, true, nil
	}
	lc := &LogoutClaims{}

	iss, _, err := str("iss")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenIssuer, err)
	}
	if iss != issuer {
		return nil, fmt.Errorf("%w: got %q, want %q", ErrLogoutTokenIssuer, iss, issuer)
	}
	lc.Issuer = iss

	aud, err := audience(claims["aud"])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenAudience, err)
	}
	if !slices.Contains(aud, clientID) {
		return nil, fmt.Errorf("%w: got %q, want it to contain %q", ErrLogoutTokenAudience, aud, clientID)
	}
	lc.Audience = aud
	if azp, ok, err := str("azp"); err != nil || (ok && azp != clientID) {
		return nil, fmt.Errorf("%w: got %s, want %q", ErrLogoutTokenAZP, claims["azp"], clientID)
	}

	iat, err := numericDate(claims, "iat")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenIssuedAt, err)
	}
	switch {
	case iat.After(now.Add(LogoutTokenLeeway)):
		return nil, fmt.Errorf("%w: issued at %s, in the future", ErrLogoutTokenIssuedAt, iat.UTC().Format(time.RFC3339))
	case now.Sub(iat) > MaxLogoutTokenAge+LogoutTokenLeeway:
		return nil, fmt.Errorf("%w: issued at %s, more than %s ago", ErrLogoutTokenIssuedAt, iat.UTC().Format(time.RFC3339), MaxLogoutTokenAge)
	}
	lc.IssuedAt = iat
	exp, err := numericDate(claims, "exp")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenExpiry, err)
	}
	if !now.Before(exp.Add(LogoutTokenLeeway)) {
		return nil, fmt.Errorf("%w: expired at %s", ErrLogoutTokenExpiry, exp.UTC().Format(time.RFC3339))
	}
	lc.Expiry = exp

	jti, _, err := str("jti")
	if err != nil || jti == "" {
		return nil, ErrLogoutTokenID
	}
	lc.TokenID = jti

	var events map[string]json.RawMessage
	if err := json.Unmarshal(claims["events"], &events); err != nil || events == nil {
		return nil, ErrLogoutTokenEvent
	}
	var event map[string]json.RawMessage
	if err := json.Unmarshal(events[BackchannelLogoutEvent], &event); err != nil || event == nil {
		return nil, ErrLogoutTokenEvent
	}

	// A logout token must never pass for an ID token, nor the other way
	// round: an ID token carries the nonce of its request.
	if _, ok := claims["nonce"]; ok {
		return nil, ErrLogoutTokenNonce
	}

	sub, _, err := str("sub")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenSubject, err)
	}
	sid, _, err := str("sid")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLogoutTokenSubject, err)
	}
	if sub == "" && sid == "" {
		return nil, ErrLogoutTokenSubject
	}
	lc.Subject, lc.SessionID = sub, sid
	return lc, nil
}

// decodeSegment decodes a base64url (unpadded) JSON object into v.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("not a JSON object with string alg and typ")
	}
	return nil
}

// audience reads aud: a string or an array of strings.
func audience(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, errors.New("aud is missing")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("aud is neither a string nor an array of strings")
	}
	return many, nil
}

// numericDate reads a NumericDate claim (seconds since the epoch, possibly
// with a fraction).
func numericDate(claims map[string]json.RawMessage, name string) (time.Time, error) {
	raw, ok := claims[name]
	if !ok {
		return time.Time{}, fmt.Errorf("%s is missing", name)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, fmt.Errorf("%s is not a number", name)
	}
	if f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("%s is not a date", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// seenLogoutTokens is the replay guard of the back-channel logout endpoint:
// the jti of every logout token accepted in the last MaxLogoutTokenAge
// (plus the leeway). An older token is refused by its iat, so the two
// together refuse every replay.
type seenLogoutTokens struct {
	mu    sync.Mutex
	until map[string]time.Time
	swept time.Time
}

func newSeenLogoutTokens() *seenLogoutTokens {
	return &seenLogoutTokens{until: make(map[string]time.Time)}
}

// first records jti at now and reports whether it is new.
func (s *seenLogoutTokens) first(jti string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.swept) > time.Minute {
		s.swept = now
		for id, until := range s.until {
			if !now.Before(until) {
				delete(s.until, id)
			}
		}
	}
	if until, ok := s.until[jti]; ok && now.Before(until) {
		return false
	}
	s.until[jti] = now.Add(MaxLogoutTokenAge + 3*LogoutTokenLeeway)
	return true
}

// BackchannelLogoutPath is where the form app receives logout tokens: its
// backchannel_logout_uri is its base URL with this path (see
// Config.BackchannelLogoutURI).
const BackchannelLogoutPath = "/backchannel-logout"

// maxLogoutRequest bounds the body of a back-channel logout request; a
// logout token is well under 4 KiB.
const maxLogoutRequest = 64 << 10

// backchannelLogout is the back-channel logout endpoint (Back-Channel Logout
// 1.0 sections 2.5 and 2.8): the provider posts logout_token, and a valid
// token ends every signed-in session of its sid (or, without a sid, of its
// sub). The person's next visit finds no session and signs in again. It
// answers 200 with Cache-Control: no-store, or 400 with a JSON error, and 503
// when the provider's discovery cannot be read, so the provider tries again.
// It is a server-to-server call, exempt from the cross-origin check.
func (a *App) backchannelLogout(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	refuse := func(status int, code string, err error) {
		a.log.Warn("back-channel logout refused", "err", err, "remote", r.RemoteAddr)
		h.Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": err.Error()})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutRequest)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(http.StatusBadRequest, "invalid_request", fmt.Errorf("the request body is larger than %d bytes", maxLogoutRequest))
			return
		}
		refuse(http.StatusBadRequest, "invalid_request", errors.New("the request body is not a form (application/x-www-form-urlencoded)"))
		return
	}
	tokens := r.PostForm["logout_token"]
	switch {
	case len(tokens) == 0 || tokens[0] == "":
		refuse(http.StatusBadRequest, "invalid_request", errors.New("the form has no logout_token"))
		return
	case len(tokens) > 1:
		refuse(http.StatusBadRequest, "invalid_request", errors.New("the form has more than one logout_token"))
		return
	}
	d, err := a.issuer.get(r.Context())
	if err != nil {
		h.Set("Retry-After", "5")
		refuse(http.StatusServiceUnavailable, "temporarily_unavailable", errors.New("the identity provider's discovery document could not be read"))
		a.log.Error("back-channel logout: identity provider unavailable", "err", err)
		return
	}
	now := a.now()
	lc, err := VerifyLogoutToken(a.issuer.clientContext(r.Context()), tokens[0], a.cfg.Issuer, a.cfg.ClientID, d.keys, d.algs, now)
	if err != nil {
		refuse(http.StatusBadRequest, "invalid_request", err)
		return
	}
	if !a.seen.first(lc.TokenID, now) {
		refuse(http.StatusBadRequest, "invalid_request", fmt.Errorf("%w: jti %q", ErrLogoutTokenReplayed, lc.TokenID))
		return
	}
	n := a.sessions.endSignIns(lc.SessionID, lc.Subject)
	a.log.Info("back-channel logout", "sid", lc.SessionID, "sub", lc.Subject, "jti", lc.TokenID, "sessions_ended", n)
	w.WriteHeader(http.StatusOK)
}
