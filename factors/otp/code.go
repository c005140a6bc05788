package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Digits is the length of every code.
const Digits = 6

// codeSpace is 10^Digits; codes are uniform over [0, codeSpace).
const codeSpace = 1_000_000

// rejectAbove is the largest multiple of codeSpace that fits in 2^32: 32-bit draws at
// or above it are thrown away so that the remainder is uniform (no modulo bias).
const rejectAbove = (1 << 32) / codeSpace * codeSpace

// NewCode returns a fresh 6-digit code drawn uniformly from crypto/rand.
func NewCode() (string, error) {
	return newCode(rand.Reader)
}

func newCode(r io.Reader) (string, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("otp: read random: %w", err)
		}
		v := binary.BigEndian.Uint32(b[:])
		if uint64(v) < rejectAbove {
			return fmt.Sprintf("%06d", v%codeSpace), nil
		}
	}
}

// Hasher turns codes into keyed hashes so that a leaked journey state does not reveal
// the codes in flight (6 digits are trivial to brute-force from an unkeyed hash).
type Hasher struct {
	key []byte
}

// MinKeyLen is the shortest key NewHasher accepts.
const MinKeyLen = 16

// NewHasher returns a Hasher keyed with key (at least MinKeyLen bytes of secret
// randomness; 32 recommended). It panics on a shorter key: that is a wiring mistake,
// never a runtime condition.
func NewHasher(key []byte) *Hasher {
	if len(key) < MinKeyLen {
		panic(fmt.Sprintf("otp: hasher key is %d bytes, need at least %d", len(key), MinKeyLen))
	}
	return &Hasher{key: append([]byte(nil), key...)}
}

// Hash returns the hex HMAC-SHA256 of code bound to purpose (for example a journey id
// and channel), so that a hash cannot be replayed for another journey or channel.
func (h *Hasher) Hash(purpose, code string) string {
	return hex.EncodeToString(h.mac(purpose, code))
}

// Verify reports whether code, under purpose, matches hash. It compares in constant
// time. An empty or malformed hash never matches.
func (h *Hasher) Verify(purpose, code, hash string) bool {
	want, err := hex.DecodeString(hash)
	if err != nil || len(want) != sha256.Size {
		return false
	}
	return hmac.Equal(h.mac(purpose, code), want)
}

func (h *Hasher) mac(purpose, code string) []byte {
	m := hmac.New(sha256.New, h.key)
	// The length prefix keeps (purpose, code) pairs unambiguous.
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(purpose)))
	m.Write(n[:])
	m.Write([]byte(purpose))
	m.Write([]byte(code))
	return m.Sum(nil)
}

// maxInput bounds what Normalize looks at; a code with separators is far shorter.
const maxInput = 64

// Normalize extracts a code from what a person typed or pasted. It accepts ASCII and
// full-width digits separated by spaces (any Unicode space) and hyphens or dashes
// (-, ‐, ‑, ‒, –, —, −), and returns the 6 ASCII digits. ok is false when anything
// else is present or the digit count is not 6.
func Normalize(input string) (code string, ok bool) {
	if len(input) > maxInput {
		return "", false
	}
	var b strings.Builder
	for _, r := range input {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case isSeparator(r):
		default:
			return "", false
		}
		if b.Len() > Digits {
			return "", false
		}
	}
	if b.Len() != Digits {
		return "", false
	}
	return b.String(), true
}

func isSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\u00a0', '\u2007', '\u202f', '\u3000', // spaces, incl. no-break and ideographic
		'-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212', '\uff0d': // hyphens, dashes, minus
		return true
	}
	return false
}
