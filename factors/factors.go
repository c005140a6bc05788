package factors

import (
	"context"
	"errors"
)

// Channel is how a message reaches a person.
type Channel string

const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
)

// Email is one email message, already rendered.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string // optional
}

// EmailSender delivers email. An error means the message was not accepted for delivery.
type EmailSender interface {
	SendEmail(ctx context.Context, m Email) error
}

// SMS is one text message to an E.164 number.
type SMS struct {
	To   string // E.164, e.g. +447700900123
	Text string
	// Verified: To is a number already verified on an account (a sign-in
	// challenge), not one being enrolled. The daily ceiling keeps a share for such
	// messages; when unsure, leave it false.
	Verified bool
	// ClientID is the form app whose sign-in journey sent it, for the daily
	// counts that recharge the cost; empty when none (the account pages).
	ClientID string
}

// SMSSender delivers text messages. An error means the provider refused the message;
// errors wrap ErrUndeliverable when trying again will not help (barred, invalid number).
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}

// Call is an automated voice call that asks the person to press the hash key.
type Call struct {
	// ID identifies this call challenge; the outcome is reported under it. It is a
	// random, unguessable value so an event can only complete its own challenge.
	ID     string
	To     string // E.164
	Script string // what the call says, in the organisation's name
	// Verified and ClientID as for SMS.
	Verified bool
	ClientID string
}

// Caller places calls. PlaceCall returns once the call is placed; the outcome arrives
// later through CallOutcomes.
type Caller interface {
	PlaceCall(ctx context.Context, c Call) error
}

// CallResult is how a call challenge ended.
type CallResult string

const (
	CallConfirmed  CallResult = "confirmed" // the person pressed #
	CallTimedOut   CallResult = "timed_out" // answered, but # was not pressed in time
	CallBusy       CallResult = "busy"
	CallUnanswered CallResult = "unanswered"
	CallRejected   CallResult = "rejected"
	CallFailed     CallResult = "failed"
	// CallCeilingReached: the call was not placed, because the service's daily
	// ceiling of texts and calls (or its share for this number) is spent.
	CallCeilingReached CallResult = "ceiling_reached"
)

// CallOutcomes receives the result of a call challenge (from the dev call simulator or
// the voice provider's webhook). Recording an outcome for an unknown or finished call
// gives ErrUnknownCall.
type CallOutcomes interface {
	RecordCallOutcome(ctx context.Context, callID string, r CallResult) error
}

var (
	// ErrUndeliverable: the provider will not deliver to this destination (retrying will not help).
	ErrUndeliverable = errors.New("factors: undeliverable")
	// ErrUnknownCall: no call challenge is waiting under that id.
	ErrUnknownCall = errors.New("factors: unknown call")
	// ErrProviderUnavailable: the provider cannot send anything just now (out of credit,
	// credentials refused, outage). It is not about this destination: the person should be
	// offered another way (a call instead of a text message, or the other way round).
	ErrProviderUnavailable = errors.New("factors: provider unavailable")
	// ErrSendCeiling: the service's own daily ceiling of texts and calls, or the
	// share of it for this kind of message (new numbers, verified numbers), is
	// spent: neither a text nor a call will go today. Errors wrapping it also wrap
	// ErrProviderUnavailable.
	ErrSendCeiling = errors.New("factors: daily ceiling of texts and calls reached")
)
