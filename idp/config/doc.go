// Package config owns the idp's settings: every setting is an environment variable
// (IDP_...) with a matching command-line flag (flags win), read and validated once at
// start. A bad value gives one error line naming the variable (or flag) and what is
// wrong with it; nothing later re-reads the environment.
//
// It must not import the store backends, net/http handlers or the OIDC library.
package config
