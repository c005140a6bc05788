package provider

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// randomToken returns n random bytes, base64url without padding. Used for
// values that are credentials (refresh tokens, session cookies, secrets).
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("provider: crypto/rand failed: " + err.Error()) // never returns an error on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomID returns an identifier with n random bytes; it never contains ':'
// (the access token format joins the token id and subject with one).
func randomID(n int) string { return randomToken(n) }

// hashToken is the lookup key for a high-entropy token: hex SHA-256. A slow
// hash adds nothing for 256-bit random values.
func hashToken(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// deriveKey derives a 32-byte key for one purpose from the key-encryption
// key, so one configured secret never serves two purposes directly.
func deriveKey(kek []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, kek, nil, "councilforms-idp "+purpose, 32)
	if err != nil {
		panic("provider: hkdf: " + err.Error()) // only fails for absurd lengths
	}
	return k
}
