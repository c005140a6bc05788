package journey

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/amr"
)

// StateSchema is the layout version of State; Unmarshal refuses any other, so a
// journey written by an incompatible release restarts rather than misbehaves.
const StateSchema = 1

// State is one journey, stored as compact JSON in the ephemeral store under
// "journey:<ID>" with a TTL and a compare-and-set version. It holds no plain code and
// no password; names typed at sign-up go straight to CreateUser and are not kept.
type State struct {
	Schema        int    `json:"v"`
	ID            string `json:"id"`
	AuthRequestID string `json:"ar,omitempty"`
	// ReturnOrigin is the scheme://host of the sign-in request's redirect URI, set
	// with AuthRequestID by the pages: their Content-Security-Policy lets forms
	// lead there without reading the request back on every page.
	ReturnOrigin string    `json:"ro,omitempty"`
	Kind         Kind      `json:"kind"`
	Step         Step      `json:"step"`
	CreatedAt    time.Time `json:"created"`
	// Awaiting is the answer event a Query is waiting for; empty when none.
	Awaiting EventKind `json:"await,omitempty"`
	// SendFrom is the step to return to if the send budget refuses the message being
	// asked for (set while Awaiting is EventSendBudgetChecked).
	SendFrom Step `json:"send_from,omitempty"`

	// Email is the address being verified (sign-up, reset) or signed in with.
	Email string `json:"email,omitempty"`
	// EmailHasAccount: an account already has Email. At sign-up no code was sent to
	// it (SendAccountExistsEmail instead), so no code is accepted.
	EmailHasAccount bool `json:"email_acct,omitempty"`
	// UserID is the account, once known (password checked, created, or found by email).
	UserID string `json:"user,omitempty"`
	// Account phone as stored, for the challenge; empty when the account has none.
	AccountPhone     string     `json:"acct_phone,omitempty"`
	AccountPhoneType phone.Type `json:"acct_phone_type,omitempty"`
	// PhoneChangePending: the account has a pending self-service change of
	// number, which proving AccountPhone cancels.
	PhoneChangePending bool `json:"phone_pending,omitempty"`

	EmailCode *Code `json:"email_code,omitempty"`

	// Phone and PhoneType: the number being proven (challenge: the account's; enrolment:
	// the new one).
	Phone     string     `json:"phone,omitempty"`
	PhoneType phone.Type `json:"phone_type,omitempty"`
	PhoneCode *Code      `json:"sms_code,omitempty"`
	Call      *Call      `json:"call,omitempty"`
	// StageSent: a message already went out for the current phone proof, so the next
	// one is a resend and counts against the resend budget.
	StageSent bool `json:"stage_sent,omitempty"`

	// Resends are the times (Unix seconds) of recent resends per channel, pruned to
	// Policy.ResendWindow.
	EmailResends []int64 `json:"email_resends,omitempty"`
	PhoneResends []int64 `json:"phone_resends,omitempty"`

	// RecoveryAt is when a phone number changed in this journey (KindRecoverPhone)
	// takes effect, for the page that says so; zero until then.
	RecoveryAt time.Time `json:"recovery_at,omitzero"`

	// PasswordFailures counts wrong passwords typed in this journey: each check
	// after the fifth waits longer (limits.Passwords.JourneyDelay).
	PasswordFailures int `json:"pw_fails,omitempty"`

	// AMR lists what was proven in this journey: "pwd", "sms", "tel".
	AMR []string `json:"amr,omitempty"`

	// ClientName is the display name of the form app the journey signs in
	// to (its registration's name), for the pages to say so.
	ClientName string `json:"client_name,omitempty"`
	// ClientID is that form app's client id, for the daily counts of the texts
	// and calls the journey sends (read from the sign-in request when empty: a
	// journey saved before it was kept).
	ClientID string `json:"client_id,omitempty"`

	// Lang is the language the person reads the pages and their messages in
	// ("en", "cy"): from the request's ui_locales, the language toggle or
	// the browser's Accept-Language; empty is English.
	Lang string `json:"lang,omitempty"`

	// SeenAt is when the journey was last saved: a new sign-in request finding
	// a journey idle longer than a short limit starts again (a shared computer).
	SeenAt time.Time `json:"seen,omitzero"`

	// guess is the code just typed, normalised, while CheckCodeGuesses awaits
	// its answer within one Drive; it is never stored (unexported, so not in
	// the JSON) and any other event clears it.
	guess string
}

// Code is one code in flight: its keyed hash, expiry and wrong entries.
type Code struct {
	// Hash is the otp.Hasher hash of the code; empty when no code was sent (an
	// address that already has an account), so every entry is wrong.
	Hash      string    `json:"h,omitempty"`
	ExpiresAt time.Time `json:"exp"`
	Attempts  int       `json:"n,omitempty"` // wrong entries so far
}

// Call is a call in flight.
type Call struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"exp"` // after this the call counts as unanswered
}

// Marshal encodes s as compact JSON.
func (s *State) Marshal() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("journey: marshal state %s: %w", s.ID, err)
	}
	return b, nil
}

// Unmarshal decodes a state written by Marshal; it refuses another schema.
func Unmarshal(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("journey: unmarshal state: %w", err)
	}
	if s.Schema != StateSchema {
		return nil, fmt.Errorf("journey: state %s has schema %d, want %d", s.ID, s.Schema, StateSchema)
	}
	return &s, nil
}

// clone returns a deep copy, so Apply never changes the state it was given.
func (s *State) clone() *State {
	c := *s
	if s.EmailCode != nil {
		ec := *s.EmailCode
		c.EmailCode = &ec
	}
	if s.PhoneCode != nil {
		pc := *s.PhoneCode
		c.PhoneCode = &pc
	}
	if s.Call != nil {
		call := *s.Call
		c.Call = &call
	}
	c.EmailResends = slices.Clone(s.EmailResends)
	c.PhoneResends = slices.Clone(s.PhoneResends)
	c.AMR = slices.Clone(s.AMR)
	return &c
}

// HoldsProof reports whether the journey carries something a person proved:
// a password, a phone, an email address verified by its code, or an account
// found for a reset. Such a journey is not handed silently to a new sign-in
// request: the next person at a shared computer must not inherit it.
func (s *State) HoldsProof() bool {
	if len(s.AMR) > 0 || s.UserID != "" {
		return true
	}
	switch s.Step {
	case StepSignUpEmailVerified, StepSignUpDetails, StepForgotNewPassword:
		return true
	}
	return false
}

// Proved reports whether the factor was proven in this journey.
func (s *State) Proved(amr string) bool { return slices.Contains(s.AMR, amr) }

func (s *State) prove(amr string) {
	if !s.Proved(amr) {
		s.AMR = append(s.AMR, amr)
	}
}

// phoneProven reports whether a phone was verified in this journey: no journey
// completes without it.
func (s *State) phoneProven() bool { return s.Proved(AMRSMS) || s.Proved(AMRTel) }

// amr returns the proven factors in canonical order.
func (s *State) amr() []string {
	var out []string
	for _, a := range amr.Canonical {
		if s.Proved(a) {
			out = append(out, a)
		}
	}
	return out
}

// AMR values (RFC 8176): idp/amr's.
const (
	AMRPassword = amr.Password
	AMRSMS      = amr.SMS
	AMRTel      = amr.Tel
)
