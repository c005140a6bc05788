// Package otp owns one-time codes: it draws 6-digit codes from crypto/rand, keeps
// them only as keyed hashes bound to a purpose, compares them in constant time, and
// normalises what people type (spaces, hyphens, full-width digits).
//
// It holds no state and must not import the store, HTTP handlers or journeys.
package otp
