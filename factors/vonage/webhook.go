package vonage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/councilforms/idp/factors"
)

// Freshness bounds for a signed webhook's iat: Vonage signs as it sends and retries
// once within seconds, so five minutes is generous; a little clock skew ahead is allowed.
const (
	webhookMaxAge  = 5 * time.Minute
	webhookMaxSkew = time.Minute
	// replayTTL covers every iat that can still pass the freshness check.
	replayTTL       = webhookMaxAge + webhookMaxSkew + time.Minute
	webhookBodyMax  = 64 << 10
	maxJTILength    = 200
	receiptFormMax  = 16 << 10
	webhookLogLimit = 100
)

// ReplayGuard remembers the ids (jti) of webhooks already accepted. The wiring
// implements it on the ephemeral store (a Create that fails with ErrConflict means
// seen), so that a replay is caught whichever server process receives it.
type ReplayGuard interface {
	// Seen records jti for ttl and reports whether it was already recorded.
	Seen(ctx context.Context, jti string, ttl time.Duration) (bool, error)
}

// ReplayGuardFunc adapts a function to ReplayGuard, e.g. over the ephemeral store:
//
//	vonage.ReplayGuardFunc(func(ctx context.Context, jti string, ttl time.Duration) (bool, error) {
//		err := eph.Create(ctx, "vonage-jti:"+jti, []byte("1"), ttl)
//		if errors.Is(err, store.ErrConflict) {
//			return true, nil
//		}
//		return false, err
//	})
type ReplayGuardFunc func(ctx context.Context, jti string, ttl time.Duration) (bool, error)

func (f ReplayGuardFunc) Seen(ctx context.Context, jti string, ttl time.Duration) (bool, error) {
	return f(ctx, jti, ttl)
}

// MemoryReplayGuard is a ReplayGuard for one process (tests, a single server).
type MemoryReplayGuard struct {
	mu   sync.Mutex
	now  func() time.Time
	seen map[string]time.Time // jti -> forget after
}

// NewMemoryReplayGuard returns an empty guard.
func NewMemoryReplayGuard() *MemoryReplayGuard {
	return &MemoryReplayGuard{now: time.Now, seen: map[string]time.Time{}}
}

func (g *MemoryReplayGuard) Seen(_ context.Context, jti string, ttl time.Duration) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	for k, until := range g.seen {
		if now.After(until) {
			delete(g.seen, k)
		}
	}
	if _, ok := g.seen[jti]; ok {
		return true, nil
	}
	g.seen[jti] = now.Add(ttl)
	return false, nil
}

// CallBook remembers which Vonage call (its uuid) each call challenge is, so that a
// signed webhook settles only the challenge whose call it reports. The wiring
// implements it on the ephemeral store, so that every server process agrees.
type CallBook interface {
	// Bind records uuid as the call of challenge callID for ttl unless a call is
	// recorded already, and returns the uuid recorded (the given one, or the
	// earlier). The first Bind wins in every process.
	Bind(ctx context.Context, callID, uuid string, ttl time.Duration) (string, error)
}

// CallBookFunc adapts a function to CallBook.
type CallBookFunc func(ctx context.Context, callID, uuid string, ttl time.Duration) (string, error)

func (f CallBookFunc) Bind(ctx context.Context, callID, uuid string, ttl time.Duration) (string, error) {
	return f(ctx, callID, uuid, ttl)
}

// MemoryCallBook is a CallBook for one process (tests, a single server).
type MemoryCallBook struct {
	mu    sync.Mutex
	now   func() time.Time
	calls map[string]boundCall
}

type boundCall struct {
	uuid  string
	until time.Time
}

// NewMemoryCallBook returns an empty book.
func NewMemoryCallBook() *MemoryCallBook {
	return &MemoryCallBook{now: time.Now, calls: map[string]boundCall{}}
}

func (b *MemoryCallBook) Bind(_ context.Context, callID, uuid string, ttl time.Duration) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	for id, c := range b.calls {
		if now.After(c.until) {
			delete(b.calls, id)
		}
	}
	if c, ok := b.calls[callID]; ok {
		return c.uuid, nil
	}
	b.calls[callID] = boundCall{uuid: uuid, until: now.Add(ttl)}
	return uuid, nil
}

// callBindingTTL is how long a challenge's call is remembered: longer than any
// call rings, talks and waits for a key, and than the journey that asked for it.
const callBindingTTL = 2 * time.Hour

// checkCall refuses a verified webhook whose body does not name the call of the
// challenge its path settles. PlaceCall records each call's uuid as Vonage answers;
// a webhook that arrives before that is recorded first, and the later answer then
// has to agree.
func (h *webhooks) checkCall(ctx context.Context, callID string, body []byte) error {
	var ev struct {
		UUID string `json:"uuid"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.UUID == "" {
		return fmt.Errorf("%w: the body names no call uuid", errUnauthorized)
	}
	if len(ev.UUID) > maxCallIDLength {
		return fmt.Errorf("%w: call uuid too long", errUnauthorized)
	}
	bound, err := h.c.calls.Bind(ctx, callID, ev.UUID, callBindingTTL)
	if err != nil {
		return fmt.Errorf("vonage: webhook call check: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(bound), []byte(ev.UUID)) != 1 {
		return fmt.Errorf("%w: the body names call %s, not the call %s of this challenge", errUnauthorized, clip(ev.UUID), clip(bound))
	}
	return nil
}

// Receipt is an SMS delivery receipt. It carries no message text.
type Receipt struct {
	MessageID string    // Vonage's message-id
	To        string    // the recipient (msisdn), digits only
	Status    string    // delivered, expired, failed, rejected, accepted, buffered, unknown
	ErrCode   string    // err-code; "0" when delivered
	ClientRef string    // the client-ref SendSMS set
	Time      time.Time // message-timestamp, zero when absent or unreadable
}

// ReceiptFunc records a delivery receipt; an error makes the webhook answer 500 so
// that Vonage sends it again.
type ReceiptFunc func(ctx context.Context, r Receipt) error

// Handler serves Vonage's webhooks under WebhookPrefix:
//
//	POST {prefix}input/{callID}     DTMF input; answers an NCCO that ends the call
//	POST {prefix}event/{callID}     call status events
//	GET|POST {prefix}sms-receipt    SMS delivery receipts
//	GET|POST {prefix}answer         inbound calls (the application's answer URL)
//
// The input and event webhooks must carry a valid signed-webhook JWT, and their
// body's uuid must be the call placed for the challenge in the path, else 401.
// Delivery receipts are not signed this way: they are only recorded, never acted
// on, and rate-limited per source address and overall (429 beyond), so a flood of
// forged ones cannot fill the audit log; Vonage retries what it is refused.
// outcomes receives call results; receipts may be nil (receipts are then logged only).
func (c *Client) Handler(outcomes factors.CallOutcomes, replay ReplayGuard, receipts ReceiptFunc) http.Handler {
	if replay == nil {
		panic("vonage: Handler needs a ReplayGuard")
	}
	h := &webhooks{c: c, outcomes: outcomes, replay: replay, receipts: receipts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+inputPath+"{id}", h.input)
	mux.HandleFunc("POST "+eventPath+"{id}", h.event)
	// Someone calling the number back reaches the application's answer URL: it is told
	// the number takes no calls. The answer is the same for everyone, so it needs no
	// signature check.
	mux.HandleFunc("GET "+AnswerPath, func(w http.ResponseWriter, r *http.Request) { writeNCCO(w, sayNoCalls) })
	mux.HandleFunc("POST "+AnswerPath, func(w http.ResponseWriter, r *http.Request) { writeNCCO(w, sayNoCalls) })
	mux.HandleFunc("GET "+SMSReceiptPath, h.receipt)
	mux.HandleFunc("POST "+SMSReceiptPath, h.receipt)
	return mux
}

type webhooks struct {
	c        *Client
	outcomes factors.CallOutcomes
	replay   ReplayGuard
	receipts ReceiptFunc
}

// errUnauthorized is any failure of the signed-webhook check; the reason is logged,
// the caller only sees 401.
var errUnauthorized = errors.New("vonage: webhook not authentic")

// webhookClaims are the claims of Vonage's signed-webhook JWT.
type webhookClaims struct {
	IssuedAt      *numericDate `json:"iat"`
	Expiry        *numericDate `json:"exp"`
	ID            string       `json:"jti"`
	Issuer        string       `json:"iss"`
	PayloadHash   string       `json:"payload_hash"`
	APIKey        string       `json:"api_key"`
	ApplicationID string       `json:"application_id"`
}

// verify reads the raw body and checks the request's signed-webhook JWT against it.
func (h *webhooks) verify(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, webhookBodyMax))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %v", errUnauthorized, err)
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%w: no bearer token", errUnauthorized)
	}
	cl, err := verifyHS256(strings.TrimSpace(raw), []byte(h.c.cfg.SignatureSecret))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUnauthorized, err)
	}
	now := h.c.now()
	switch {
	case cl.IssuedAt == nil:
		return nil, fmt.Errorf("%w: no iat", errUnauthorized)
	case cl.IssuedAt.time().Before(now.Add(-webhookMaxAge)):
		return nil, fmt.Errorf("%w: iat too old", errUnauthorized)
	case cl.IssuedAt.time().After(now.Add(webhookMaxSkew)):
		return nil, fmt.Errorf("%w: iat in the future", errUnauthorized)
	case cl.Expiry != nil && now.After(cl.Expiry.time()):
		return nil, fmt.Errorf("%w: expired", errUnauthorized)
	case cl.ID == "" || len(cl.ID) > maxJTILength:
		return nil, fmt.Errorf("%w: no usable jti", errUnauthorized)
	case cl.APIKey != "" && cl.APIKey != h.c.cfg.APIKey:
		return nil, fmt.Errorf("%w: another account's api_key", errUnauthorized)
	case cl.ApplicationID != "" && cl.ApplicationID != h.c.cfg.ApplicationID:
		return nil, fmt.Errorf("%w: another application's id", errUnauthorized)
	}
	sum := sha256.Sum256(body)
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(cl.PayloadHash)), []byte(want)) != 1 {
		return nil, fmt.Errorf("%w: payload_hash does not match the body", errUnauthorized)
	}
	// Only a token that passed every other check is remembered, so a forged one cannot
	// use up a genuine jti.
	seen, err := h.replay.Seen(r.Context(), cl.ID, replayTTL)
	if err != nil {
		return nil, fmt.Errorf("vonage: webhook replay check: %w", err)
	}
	if seen {
		return nil, fmt.Errorf("%w: jti already used", errUnauthorized)
	}
	return body, nil
}

// refuse answers a failed verification.
func (h *webhooks) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errUnauthorized) {
		h.c.log.WarnContext(r.Context(), "vonage: webhook refused", slog.String("path", r.URL.Path), slog.String("reason", err.Error()))
		w.Header().Set("WWW-Authenticate", `Bearer realm="vonage-webhooks"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	h.c.log.ErrorContext(r.Context(), "vonage: webhook check failed", slog.String("error", err.Error()))
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// What the person hears after the input, in place of the rest of the call.
const (
	sayConfirmed = "Thank you. You can now return to the page."
	sayNoHash    = "We did not hear the hash key. Return to the page to try again. Goodbye."
	sayFinished  = "This call is no longer needed. Goodbye."
	sayProblem   = "Sorry, there is a problem. Return to the page to try again. Goodbye."
	sayNoCalls   = "This number does not take calls. Goodbye."
)

// inputEvent is the DTMF input webhook body. dtmf is an object in the current API
// and was a plain string in old documentation; both are read.
type inputEvent struct {
	UUID     string          `json:"uuid"`
	DTMF     json.RawMessage `json:"dtmf"`
	TimedOut *bool           `json:"timed_out"` // beside a string dtmf
}

// inputResult decides how the call challenge ended from the keys pressed. '#' among
// the digits confirms; so does a submission with no digits that did not time out
// (Vonage may leave out the '#' that submitted). Another key does not: the call asked
// for the hash key, as the development simulator also insists.
func inputResult(body []byte) (factors.CallResult, error) {
	var ev inputEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", fmt.Errorf("decode input event: %w", err)
	}
	var digits string
	timedOut := ev.TimedOut != nil && *ev.TimedOut
	raw := strings.TrimSpace(string(ev.DTMF))
	switch {
	case raw == "" || raw == "null":
		// No DTMF at all (for example a speech result): nothing was pressed.
		return factors.CallTimedOut, nil
	case strings.HasPrefix(raw, "{"):
		var d struct {
			Digits   string `json:"digits"`
			TimedOut bool   `json:"timed_out"`
		}
		if err := json.Unmarshal(ev.DTMF, &d); err != nil {
			return "", fmt.Errorf("decode dtmf: %w", err)
		}
		digits, timedOut = d.Digits, d.TimedOut || timedOut
	default:
		if err := json.Unmarshal(ev.DTMF, &digits); err != nil {
			return "", fmt.Errorf("decode dtmf: %w", err)
		}
	}
	switch {
	case strings.Contains(digits, "#"):
		return factors.CallConfirmed, nil
	case digits == "" && !timedOut:
		return factors.CallConfirmed, nil
	default:
		return factors.CallTimedOut, nil
	}
}

func (h *webhooks) input(w http.ResponseWriter, r *http.Request) {
	body, err := h.verify(r)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	ctx, callID := r.Context(), r.PathValue("id")
	if err := h.checkCall(ctx, callID, body); err != nil {
		h.refuse(w, r, err)
		return
	}
	result, err := inputResult(body)
	if err != nil {
		h.c.log.WarnContext(ctx, "vonage: unreadable input webhook", slog.String("error", err.Error()))
		writeNCCO(w, sayProblem)
		return
	}
	say := sayNoHash
	if result == factors.CallConfirmed {
		say = sayConfirmed
	}
	switch err := h.outcomes.RecordCallOutcome(ctx, callID, result); {
	case errors.Is(err, factors.ErrUnknownCall):
		say = sayFinished
	case err != nil:
		h.c.log.ErrorContext(ctx, "vonage: record call outcome", slog.String("result", string(result)), slog.String("error", err.Error()))
		say = sayProblem
	default:
		h.c.log.InfoContext(ctx, "vonage: call input", slog.String("result", string(result)))
	}
	// The NCCO answered here replaces the rest of the call.
	writeNCCO(w, say)
}

func writeNCCO(w http.ResponseWriter, say string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode([]talkAction{{Action: "talk", Text: say, Language: talkLanguage}})
}

// statusResult maps a call status event to how the challenge ended; ok is false for
// statuses that end nothing (started, ringing, answered, and events of other kinds).
// "completed" after an answered call with no input means the person hung up without
// pressing the key; when the input webhook has already settled the challenge, the
// later outcome is refused with ErrUnknownCall and ignored.
func statusResult(status string) (factors.CallResult, bool) {
	switch status {
	case "busy":
		return factors.CallBusy, true
	case "unanswered", "timeout":
		return factors.CallUnanswered, true
	case "rejected":
		return factors.CallRejected, true
	case "failed", "cancelled":
		return factors.CallFailed, true
	case "completed":
		return factors.CallTimedOut, true
	}
	return "", false
}

func (h *webhooks) event(w http.ResponseWriter, r *http.Request) {
	body, err := h.verify(r)
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	ctx, callID := r.Context(), r.PathValue("id")
	var ev struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
		UUID   string `json:"uuid"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		h.c.log.WarnContext(ctx, "vonage: unreadable call event", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusNoContent) // a retry would be just as unreadable
		return
	}
	if err := h.checkCall(ctx, callID, body); err != nil {
		h.refuse(w, r, err)
		return
	}
	result, ok := statusResult(ev.Status)
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch err := h.outcomes.RecordCallOutcome(ctx, callID, result); {
	case err == nil:
		h.c.log.InfoContext(ctx, "vonage: call ended", slog.String("status", clip(ev.Status)),
			slog.String("detail", clip(ev.Detail)), slog.String("uuid", clip(ev.UUID)))
	case errors.Is(err, factors.ErrUnknownCall):
		// Already settled (or long gone): nothing to do.
	default:
		h.c.log.ErrorContext(ctx, "vonage: record call outcome", slog.String("status", clip(ev.Status)), slog.String("error", err.Error()))
		http.Error(w, "internal error", http.StatusInternalServerError) // Vonage retries
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *webhooks) receipt(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !h.c.receipts.allow(h.c.clientIP(r)) {
		h.c.receiptsRefused.Inc()
		if h.c.receipts.warnNow() {
			h.c.log.WarnContext(ctx, "vonage: sms delivery receipts refused past the rate limit (429); Vonage retries genuine ones")
		}
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many receipts", http.StatusTooManyRequests)
		return
	}
	var get func(string) string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, receiptFormMax)).Decode(&m); err != nil {
			http.Error(w, "bad receipt", http.StatusBadRequest)
			return
		}
		get = func(k string) string {
			switch v := m[k].(type) {
			case string:
				return v
			case float64:
				return fmt.Sprint(v)
			}
			return ""
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, receiptFormMax)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad receipt", http.StatusBadRequest)
			return
		}
		get = r.Form.Get
	}
	rc := Receipt{
		MessageID: clip(get("messageId")),
		To:        clip(get("msisdn")),
		Status:    clip(get("status")),
		ErrCode:   clip(get("err-code")),
		ClientRef: clip(get("client-ref")),
	}
	if ts := get("message-timestamp"); ts != "" {
		if t, err := time.ParseInLocation("2006-01-02 15:04:05", ts, time.UTC); err == nil {
			rc.Time = t
		}
	}
	if rc.MessageID == "" || rc.Status == "" {
		// Vonage checks the URL with an empty request when it is saved; say yes.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.c.log.InfoContext(ctx, "vonage: sms receipt", slog.String("status", rc.Status), slog.String("err_code", rc.ErrCode),
		slog.String("client_ref", rc.ClientRef), slog.String("message_id", rc.MessageID))
	if h.receipts != nil {
		if err := h.receipts(ctx, rc); err != nil {
			h.c.log.ErrorContext(ctx, "vonage: record sms receipt", slog.String("error", err.Error()))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// clip bounds a value taken from a webhook before it is logged or stored.
func clip(s string) string {
	if len(s) > webhookLogLimit {
		return s[:webhookLogLimit]
	}
	return s
}
