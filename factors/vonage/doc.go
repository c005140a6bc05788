// Package vonage delivers text messages and automated voice calls through Vonage's
// documented REST APIs, and receives the webhooks Vonage sends back. It is written by
// hand against the API reference (no SDK):
//
//   - SMS API: POST {RestURL}/sms/json, form-encoded, authenticated by api_key and
//     api_secret; every messages[].status is checked ("0" accepted; the rest become an
//     *SMSError that wraps factors.ErrUndeliverable for a destination that can never
//     be reached, or factors.ErrProviderUnavailable for an account-wide failure such
//     as no credit, so the page can offer a call instead).
//   - Voice API: POST {APIURL}/v1/calls with an RS256 JWT signed by the application's
//     private key, and an inline NCCO: a talk action (the script, said twice, which a
//     key press interrupts) then a DTMF input of one digit submitted on '#'.
//   - Webhooks (Handler): the DTMF input webhook and the call-status webhook, both
//     refused with 401 unless they carry Vonage's signed-webhook JWT (HS256 with the
//     signature secret, payload_hash of the raw body, fresh iat, unseen jti, and a
//     body whose uuid is the challenge's call); and SMS delivery receipts, which are
//     recorded only, and rate-limited per source address and overall (429).
//
// Every call carries its challenge's id (factors.Call.ID, random and unguessable) in
// its webhook URLs, and PlaceCall records the call's uuid for that id in a CallBook,
// so a signed event settles only its own challenge.
//
// Client implements factors.SMSSender and factors.Caller. It never logs message
// bodies, codes or secrets; numbers are masked. It must not import the store, the
// journeys or the page templates: replay protection, the calls' uuids and receipt
// recording are given to it as small interfaces (ReplayGuard, CallBook, a receipt
// callback).
//
// Package vonagetest holds a fake Vonage for tests.
package vonage
