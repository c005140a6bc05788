package provider

import (
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

func testTokenCrypto(t testing.TB) (*tokenCrypto, [32]byte) {
	kek := make([]byte, 32)
	for i := range kek {
		kek[i] = byte(i)
	}
	var legacyKey [32]byte
	copy(legacyKey[:], deriveKey(kek, "access-token"))
	c, err := newTokenCrypto(kek, legacyKey)
	if err != nil {
		t.Fatal(err)
	}
	return c, legacyKey
}

// A value sealed by tokenCrypto opens to what was sealed; every change to
// it, and a value sealed under another key, is refused; values sealed by the
// library's crypto (tokens issued before it, or by an older process) still
// open.
func TestTokenCrypto(t *testing.T) {
	c, legacyKey := testTokenCrypto(t)
	const plain = "4QvZLw2Vt1y0x9:0f1e2d3c-user"
	sealed, err := c.Encrypt(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, tokenCryptoPrefix) || strings.Contains(sealed, plain) {
		t.Fatalf("sealed value %q", sealed)
	}
	if got, err := c.Decrypt(sealed); err != nil || got != plain {
		t.Fatalf("Decrypt = %q, %v; want %q", got, err, plain)
	}
	again, _ := c.Encrypt(plain)
	if again == sealed {
		t.Error("two seals of one value are the same: the nonce is not fresh")
	}
	for i := len(tokenCryptoPrefix); i < len(sealed); i++ {
		b := []byte(sealed)
		b[i] ^= 1
		if got, err := c.Decrypt(string(b)); err == nil && got == plain {
			continue // a flip in the unused low bits of the last base64 character
		} else if err == nil {
			t.Fatalf("tampered value %q opened to %q", b, got)
		}
	}
	other, _ := newTokenCrypto(make([]byte, 32), legacyKey)
	if _, err := other.Decrypt(sealed); err == nil {
		t.Error("a value sealed under another key-encryption key opened")
	}
	for name, lib := range map[string]op.Crypto{
		"AES-256-GCM JWE": op.NewAES256GCMCrypto(legacyKey, ""),
		"AES-CFB":         op.NewAESCrypto(legacyKey),
	} {
		old, err := lib.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Decrypt(old); err != nil || got != plain {
			t.Errorf("%s value: Decrypt = %q, %v; want %q", name, got, err, plain)
		}
	}
}

// BenchmarkTokenCrypto: sealing and opening an access token's value, by the
// library's crypto (what the provider used before) and by tokenCrypto.
func BenchmarkTokenCrypto(b *testing.B) {
	c, legacyKey := testTokenCrypto(b)
	const plain = "4QvZLw2Vt1y0x9mKpQ7rS2:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	for _, bc := range []struct {
		name string
		c    op.Crypto
	}{{"library", op.NewAES256GCMCrypto(legacyKey, "")}, {"tokenCrypto", c}} {
		b.Run(bc.name+"/Encrypt", func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.c.Encrypt(plain); err != nil {
					b.Fatal(err)
				}
			}
		})
		sealed, _ := bc.c.Encrypt(plain)
		b.Run(bc.name+"/Decrypt", func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.c.Decrypt(sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
