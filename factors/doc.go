// Package factors is the shared vocabulary of how a person proves who they are and
// how codes and calls reach them: the message types (Email, SMS, Call) and channels,
// the small sender interfaces the journeys' caller uses (EmailSender, SMSSender,
// Caller), how a call challenge ended (CallResult) and the CallOutcomes sink results
// are reported to, and the errors every sender returns (ErrUndeliverable,
// ErrProviderUnavailable, ErrSendCeiling, ErrUnknownCall).
//
// Its sub-packages:
//
//   - otp: one-time codes, kept only as keyed hashes.
//   - phone: the phone rules (which numbers are accepted, in which countries, and the
//     message for each that is not) and masking.
//   - messages: the words of every email, text and call script, one folder each.
//   - email: email through a durable outbox and the council's SMTP relay.
//   - vonage: text messages and calls through Vonage, and its signed webhooks.
//   - dev: development mode's inbox and simulated calls, standing in for both.
//
// factors itself imports no other package of this module; the sub-packages may use
// the store's interfaces (never a backend) and know nothing of the journeys, the
// pages or the OIDC provider (imports_test.go at the module root keeps this).
package factors
