// Package config owns the idp's settings: every setting is an environment variable
// (IDP_...) with a matching command-line flag (flags win), read and validated once at
// start. A bad value gives one error line naming the variable (or flag) and what is
// wrong with it; nothing later re-reads the environment.
//
// Settings (settings.go) is the one table of them: each entry carries its names, its
// default, its documentation and its parse function, which fills its field of Config
// (config.go) and may check it against settings listed before it. The flags, `idp
// help` (Usage) and the README's configuration tables (Markdown; a test, with
// -update, keeps the README in step) are made from that table. The parse functions
// live in parse.go and network.go.
//
// Message delivery (delivery.go): without IDP_DEV both an SMTP relay and a complete
// Vonage configuration are required; a partial Vonage configuration is refused
// whatever the mode, naming what is missing. The relay URL and the Vonage values are
// checked with the factors' own Validate (factors/email, factors/vonage), so that
// what loads here is exactly what the senders accept; the Vonage private key file is
// read and parsed once here, and again by the app when it builds the client (the
// key is not kept in the Config).
//
// IDP_PHONE_COUNTRIES is read by factors/phone (Countries), which owns the phone
// rules. It imports factors/email, factors/vonage and factors/phone only for those
// checks.
// It must not import the store backends, the HTTP handlers of the idp or the OIDC
// library.
package config
