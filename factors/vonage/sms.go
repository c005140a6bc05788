package vonage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
)

// SMSError is a message the SMS API did not accept: Status is the API's status code
// (a string, as the API sends it) and Text its error-text. It wraps
// factors.ErrUndeliverable or factors.ErrProviderUnavailable when the status says so.
type SMSError struct {
	Status string
	Text   string
	kind   error // the sentinel it wraps, or nil
}

func (e *SMSError) Error() string {
	return fmt.Sprintf("vonage: sms refused with status %s (%s): %s", e.Status, smsStatusMeaning(e.Status), e.Text)
}

func (e *SMSError) Unwrap() error { return e.kind }

// Throttled reports whether the API asked us to slow down (status 1).
func (e *SMSError) Throttled() bool { return e.Status == "1" }

// smsStatusMeaning is the documented meaning of an SMS API status code.
func smsStatusMeaning(status string) string {
	switch status {
	case "1":
		return "throttled"
	case "2":
		return "missing parameters"
	case "3":
		return "invalid parameters or number"
	case "4":
		return "invalid credentials"
	case "5":
		return "provider internal error"
	case "6":
		return "invalid message"
	case "7":
		return "number barred"
	case "8":
		return "account barred"
	case "9":
		return "no credit"
	case "12":
		return "message too long"
	case "15":
		return "invalid sender address"
	case "29":
		return "destination not allowed on a trial account"
	case "33":
		return "number de-activated"
	}
	return "unknown status"
}

// smsStatusKind maps a status to the sentinel the pages act on: the destination can
// never be reached (offer another number or a call), or the account cannot send at all
// (offer a call). Statuses that are our own mistakes (2, 12) wrap neither: they are bugs.
func smsStatusKind(status string) error {
	switch status {
	case "3", "6", "7", "29", "33":
		return factors.ErrUndeliverable
	case "1", "4", "5", "8", "9", "15":
		return factors.ErrProviderUnavailable
	}
	return nil
}

// smsResponse is the SMS API's answer; it is HTTP 200 whether or not it sent.
type smsResponse struct {
	MessageCount string `json:"message-count"`
	Messages     []struct {
		To        string `json:"to"`
		MessageID string `json:"message-id"`
		Status    string `json:"status"`
		ErrorText string `json:"error-text"`
	} `json:"messages"`
}

// throttleRetries is how often a throttled message is tried again, first after
// Options.ThrottleWait (DefaultThrottleWait), then twice that (the API limits an
// account to tens of messages a second).
const throttleRetries = 2

// DefaultThrottleWait is the wait before the first retry of a throttled text.
const DefaultThrottleWait = 500 * time.Millisecond

// SendSMS sends m through the SMS API. A nil error means Vonage accepted every part
// of the message (queued; delivery is reported later by a receipt).
func (c *Client) SendSMS(ctx context.Context, m factors.SMS) (err error) {
	start := time.Now()
	defer func() { c.observe(factors.ChannelSMS, start, err) }()
	to, ok := phoneDigits(m.To)
	if !ok || !strings.HasPrefix(m.To, "+") {
		return fmt.Errorf("vonage: send sms: %q is not an E.164 number: %w", phone.Mask(m.To), factors.ErrUndeliverable)
	}
	if strings.TrimSpace(m.Text) == "" {
		return fmt.Errorf("vonage: send sms: empty text")
	}
	ref, err := randomHex(16)
	if err != nil {
		return fmt.Errorf("vonage: send sms: client-ref: %w", err)
	}
	form := url.Values{
		"api_key":    {c.cfg.APIKey},
		"api_secret": {c.cfg.APISecret},
		"from":       {strings.TrimPrefix(c.cfg.From, "+")},
		"to":         {to},
		"text":       {m.Text},
		"client-ref": {ref},
	}
	if !isGSMSafe(m.Text) {
		form.Set("type", "unicode")
	}
	for attempt := 0; ; attempt++ {
		err = c.postSMS(ctx, form)
		if se, ok := err.(*SMSError); !ok || !se.Throttled() || attempt == throttleRetries {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("vonage: send sms: %w", ctx.Err())
		case <-time.After(c.throttleWait << attempt):
		}
	}
	if err != nil {
		c.log.WarnContext(ctx, "vonage: sms not accepted", slog.String("to", phone.Mask(m.To)),
			slog.String("client_ref", ref), slog.String("error", err.Error()))
		return err
	}
	c.log.InfoContext(ctx, "vonage: sms accepted", slog.String("to", phone.Mask(m.To)), slog.String("client_ref", ref))
	return nil
}

// postSMS makes one request. Its errors carry no secret: the form is never echoed.
func (c *Client) postSMS(ctx context.Context, form url.Values) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.RestURL+"/sms/json", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("vonage: send sms: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("vonage: send sms: %w: %w", factors.ErrProviderUnavailable, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("vonage: send sms: read response: %w: %w", factors.ErrProviderUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("vonage: send sms: HTTP %d: %w", resp.StatusCode, factors.ErrProviderUnavailable)
	}
	var r smsResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("vonage: send sms: decode response: %w: %w", factors.ErrProviderUnavailable, err)
	}
	if len(r.Messages) == 0 {
		return fmt.Errorf("vonage: send sms: response lists no messages: %w", factors.ErrProviderUnavailable)
	}
	// A long text goes as several parts; it only arrives whole if every part was accepted.
	for _, msg := range r.Messages {
		if msg.Status != "0" {
			return &SMSError{Status: msg.Status, Text: msg.ErrorText, kind: smsStatusKind(msg.Status)}
		}
	}
	return nil
}

// redactURLError drops the URL from a transport error: it is not secret, but an
// *url.Error is noisy and the host is in the configuration anyway.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// isGSMSafe reports whether text can go as a plain (GSM 03.38) message; otherwise it
// is sent as unicode so that nothing is garbled.
func isGSMSafe(text string) bool {
	for _, r := range text {
		if r > unicode.MaxASCII || (r < 0x20 && r != '\n' && r != '\r') {
			if !strings.ContainsRune("£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉÄÖÑÜ§¿äöñüà€", r) {
				return false
			}
		}
	}
	return true
}
