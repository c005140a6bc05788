// Package messages renders what the idp sends to people: each message lives in its own
// folder under templates/ with one file per part (email.subject.tmpl, email.txt.tmpl,
// email.html.tmpl, sms.txt.tmpl, voice.txt.tmpl), branded with the organisation name.
// Every template is parsed and checked by New, so a broken one fails at start.
//
// The words come from the catalogue in locales/ (en.txt, cy.txt; the mechanism is
// ui/locale's, the same the pages use): templates say {{t "msg.reset.enter" "org"
// .OrgName}}. Catalogue.In(lang) writes in a person's language; a text message and a
// call script say what they are for (Purpose: adding a phone, confirming it, signing
// in, resetting a password). TestMessageWords holds every message, in each language,
// against testdata/text.
//
// It renders only; sending belongs to the senders in factors/dev, factors/email and
// factors/vonage. It must not import the store or the journeys.
package messages
