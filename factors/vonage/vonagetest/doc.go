// Package vonagetest is a fake Vonage for tests: an httptest server speaking the SMS
// API and the Voice API's create-call endpoint, which checks every request as the
// real API would (credentials, the RS256 application JWT and its claims, required
// fields and their shapes), can be told to answer a destination with any documented
// error, records what it was sent, and can play a call by posting signed webhooks
// (HS256 with the signature secret, payload_hash of the body) to the URLs the call
// request gave.
//
// Outcomes stands in for the login pages as the receiver of call results
// (factors.CallOutcomes).
//
// It imports the vonage package only for its Config type; nothing outside tests may
// import this package.
package vonagetest
