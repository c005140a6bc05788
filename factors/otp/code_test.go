package otp

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNewCodeFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q is not 6 ASCII digits", c)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes out of 200: not random", len(seen))
	}
}

func TestNewCodeRejectsBiasedDraws(t *testing.T) {
	// The first draw is in the biased tail and must be thrown away; the second gives 42.
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, uint32(rejectAbove))
	binary.Write(&buf, binary.BigEndian, uint32(42))
	c, err := newCode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if c != "000042" {
		t.Fatalf("got %q, want 000042", c)
	}
	// The largest accepted draw maps to 999999.
	buf.Reset()
	binary.Write(&buf, binary.BigEndian, uint32(rejectAbove-1))
	if c, _ := newCode(&buf); c != "999999" {
		t.Fatalf("got %q, want 999999", c)
	}
	// A short random source is an error, not a weak code.
	if _, err := newCode(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("want an error from a short random source")
	}
}

func TestHasher(t *testing.T) {
	h := NewHasher([]byte("0123456789abcdef0123456789abcdef"))
	hash := h.Hash("j1:email", "123456")
	if strings.Contains(hash, "123456") || len(hash) != 64 {
		t.Fatalf("unexpected hash %q", hash)
	}
	if !h.Verify("j1:email", "123456", hash) {
		t.Fatal("right code rejected")
	}
	for _, tc := range []struct{ purpose, code, hash string }{
		{"j1:email", "123457", hash},
		{"j2:email", "123456", hash},
		{"j1:sms", "123456", hash},
		{"j1:email1", "23456", hash}, // the length prefix keeps these apart
		{"j1:email", "123456", ""},
		{"j1:email", "123456", "zz"},
		{"j1:email", "123456", hash[:62]},
	} {
		if h.Verify(tc.purpose, tc.code, tc.hash) {
			t.Errorf("Verify(%q, %q, %q) = true", tc.purpose, tc.code, tc.hash)
		}
	}
	other := NewHasher([]byte("another key, also 32 bytes long!"))
	if other.Verify("j1:email", "123456", hash) {
		t.Fatal("hash verified under another key")
	}
}

func TestNewHasherShortKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("want a panic for a short key")
		}
	}()
	NewHasher([]byte("short"))
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{" 123 456 ", "123456", true},
		{"123-456", "123456", true},
		{"123–456", "123456", true}, // en dash
		{"12 34 56", "123456", true},
		{"１２３４５６", "123456", true}, // full-width
		{"123\u00a0456", "123456", true},
		{"012345", "012345", true},
		{"", "", false},
		{"12345", "", false},
		{"1234567", "", false},
		{"12345a", "", false},
		{"123.456", "", false},
		{"١٢٣٤٥٦", "", false}, // other scripts' digits are not accepted
		{strings.Repeat(" ", 100) + "123456", "", false},
	} {
		got, ok := Normalize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "12-34-56", "１２３４５６", "abc", "", "1234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, ok := Normalize(in)
		if !ok {
			if code != "" {
				t.Fatalf("Normalize(%q) returned %q with ok=false", in, code)
			}
			return
		}
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("Normalize(%q) = %q: not 6 ASCII digits", in, code)
		}
		if !utf8.ValidString(in) && len(in) > 0 {
			// Invalid UTF-8 decodes to U+FFFD, which is never accepted.
			t.Fatalf("Normalize accepted invalid UTF-8 %q", in)
		}
		// Idempotent: a normalised code normalises to itself.
		if again, ok := Normalize(code); !ok || again != code {
			t.Fatalf("Normalize(%q) = %q, %v", code, again, ok)
		}
	})
}
