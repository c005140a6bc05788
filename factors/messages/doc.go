// Package messages renders what the idp sends to people: each message lives in its own
// folder under templates/ with one file per part (email.subject.tmpl, email.txt.tmpl,
// email.html.tmpl, sms.txt.tmpl, voice.txt.tmpl), branded with the organisation name.
// Every template is parsed and checked by New, so a broken one fails at start.
//
// It renders only; sending belongs to the senders in factors/dev, factors/email and
// factors/vonage. It must not import the store or the journeys.
package messages
