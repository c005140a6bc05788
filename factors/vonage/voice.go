package vonage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
)

// Webhook paths on this server. Handler serves them; the wiring mounts Handler at
// WebhookPrefix.
const (
	WebhookPrefix     = "/webhooks/vonage/"
	inputPath         = "/webhooks/vonage/input/"
	eventPath         = "/webhooks/vonage/event/"
	SMSReceiptPath    = "/webhooks/vonage/sms-receipt"
	AnswerPath        = "/webhooks/vonage/answer"
	tokenLifetime     = 15 * time.Minute // as Vonage's SDKs sign API tokens
	callRingingTimer  = 45               // seconds the phone rings before Vonage gives up
	inputTimeoutSecs  = 10               // the API's maximum wait for a key
	talkLanguage      = "en-GB"
	talkLoop          = 2 // the script is said twice: 'repeated once'
	maxScriptRunes    = 1500
	maxCallIDLength   = 128
	callResponseLimit = 1 << 20
)

// InputURL is the DTMF input webhook URL for the call challenge callID.
func (c *Client) InputURL(callID string) string {
	return c.cfg.EventBaseURL + inputPath + url.PathEscape(callID)
}

// EventURL is the call-status webhook URL for the call challenge callID.
func (c *Client) EventURL(callID string) string {
	return c.cfg.EventBaseURL + eventPath + url.PathEscape(callID)
}

// Wire shapes of the Voice API's create-call request.
type (
	callEndpoint struct {
		Type   string `json:"type"`
		Number string `json:"number"`
	}
	callRequest struct {
		To               []callEndpoint `json:"to"`
		From             *callEndpoint  `json:"from,omitempty"`
		RandomFromNumber bool           `json:"random_from_number,omitempty"`
		NCCO             []any          `json:"ncco"`
		EventURL         []string       `json:"event_url"`
		EventMethod      string         `json:"event_method"`
		RingingTimer     int            `json:"ringing_timer"`
	}
	talkAction struct {
		Action   string `json:"action"`
		Text     string `json:"text"`
		Language string `json:"language,omitempty"`
		Loop     int    `json:"loop,omitempty"`
		BargeIn  bool   `json:"bargeIn,omitempty"`
	}
	dtmfSettings struct {
		MaxDigits    int  `json:"maxDigits"`
		SubmitOnHash bool `json:"submitOnHash"`
		TimeOut      int  `json:"timeOut"`
	}
	inputAction struct {
		Action      string       `json:"action"`
		Type        []string     `json:"type"`
		DTMF        dtmfSettings `json:"dtmf"`
		EventURL    []string     `json:"eventUrl"`
		EventMethod string       `json:"eventMethod"`
	}
)

// PlaceCall asks the Voice API to ring c.To, say c.Script (twice; pressing a key cuts
// it short) and wait for the hash key. It returns once Vonage has taken the call; the
// outcome arrives on the webhooks under c.ID.
func (c *Client) PlaceCall(ctx context.Context, call factors.Call) (err error) {
	start := time.Now()
	defer func() { c.observe(factors.ChannelVoice, start, err) }()
	if call.ID == "" || len(call.ID) > maxCallIDLength || strings.ContainsAny(call.ID, "/?#") {
		return fmt.Errorf("vonage: place call: bad call id")
	}
	to, ok := phoneDigits(call.To)
	if !ok || !strings.HasPrefix(call.To, "+") {
		return fmt.Errorf("vonage: place call: %q is not an E.164 number: %w", phone.Mask(call.To), factors.ErrUndeliverable)
	}
	script := strings.TrimSpace(call.Script)
	if script == "" || len([]rune(script)) > maxScriptRunes {
		return fmt.Errorf("vonage: place call: script must have 1 to %d characters", maxScriptRunes)
	}
	body := callRequest{
		To: []callEndpoint{{Type: "phone", Number: to}},
		NCCO: []any{
			talkAction{Action: "talk", Text: script, Language: talkLanguage, Loop: talkLoop, BargeIn: true},
			inputAction{
				Action:      "input",
				Type:        []string{"dtmf"},
				DTMF:        dtmfSettings{MaxDigits: 1, SubmitOnHash: true, TimeOut: inputTimeoutSecs},
				EventURL:    []string{c.InputURL(call.ID)},
				EventMethod: http.MethodPost,
			},
		},
		EventURL:     []string{c.EventURL(call.ID)},
		EventMethod:  http.MethodPost,
		RingingTimer: callRingingTimer,
	}
	if from, ok := phoneDigits(c.cfg.From); ok {
		body.From = &callEndpoint{Type: "phone", Number: from}
	} else {
		// An alphanumeric sender cannot place calls: let Vonage use a number linked to
		// the application.
		body.RandomFromNumber = true
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("vonage: place call: %w", err)
	}
	token, err := c.apiToken()
	if err != nil {
		return fmt.Errorf("vonage: place call: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+"/v1/calls", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("vonage: place call: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("vonage: place call: %w: %w", factors.ErrProviderUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, callResponseLimit))
	if resp.StatusCode != http.StatusCreated {
		err := callHTTPError(resp.StatusCode, respBody)
		c.log.WarnContext(ctx, "vonage: call not placed", slog.String("to", phone.Mask(call.To)), slog.String("error", err.Error()))
		return err
	}
	var created struct {
		UUID   string `json:"uuid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(respBody, &created); err != nil || created.UUID == "" {
		return fmt.Errorf("vonage: place call: 201 without a call uuid: %w", factors.ErrProviderUnavailable)
	}
	c.log.InfoContext(ctx, "vonage: call placed", slog.String("to", phone.Mask(call.To)), slog.String("uuid", created.UUID))
	// Only webhooks naming this uuid may settle the challenge. The call rings
	// already: a failure here is logged, and the first webhook binds the call.
	switch bound, err := c.calls.Bind(ctx, call.ID, created.UUID, callBindingTTL); {
	case err != nil:
		c.log.WarnContext(ctx, "vonage: record the call of a challenge", slog.String("error", err.Error()))
	case bound != created.UUID:
		// A signed webhook for another call reached this challenge's URL first.
		c.log.ErrorContext(ctx, "vonage: the challenge's webhooks were claimed by another call; its webhooks will be refused",
			slog.String("uuid", created.UUID), slog.String("claimed_by", clip(bound)))
	}
	return nil
}

// callHTTPError explains a refused create-call request. The API answers errors as
// RFC 7807 problem details ({type, title, detail, invalid_parameters}).
func callHTTPError(status int, body []byte) error {
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(body, &problem)
	what := strings.TrimSpace(problem.Title + ": " + problem.Detail)
	what = strings.Trim(what, ": ")
	if what == "" {
		what = http.StatusText(status)
	}
	if len(what) > 300 {
		what = what[:300]
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		// A request Vonage finds malformed: most often a number it will not call.
		return fmt.Errorf("vonage: place call: HTTP %d (%s): %w", status, what, factors.ErrUndeliverable)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("vonage: place call: HTTP %d: application id or private key refused (%s): %w", status, what, factors.ErrProviderUnavailable)
	case status == http.StatusPaymentRequired:
		return fmt.Errorf("vonage: place call: HTTP %d: no credit (%s): %w", status, what, factors.ErrProviderUnavailable)
	default:
		return fmt.Errorf("vonage: place call: HTTP %d (%s): %w", status, what, factors.ErrProviderUnavailable)
	}
}

// apiToken signs a short-lived application JWT for the Voice API.
func (c *Client) apiToken() (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: c.key},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("jwt signer: %w", err)
	}
	jti, err := randomHex(16)
	if err != nil {
		return "", fmt.Errorf("jwt id: %w", err)
	}
	now := c.now()
	claims := map[string]any{
		"application_id": c.cfg.ApplicationID,
		"iat":            now.Unix(),
		"exp":            now.Add(tokenLifetime).Unix(),
		"jti":            jti,
	}
	token, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign jwt: %w", err)
	}
	return token, nil
}
