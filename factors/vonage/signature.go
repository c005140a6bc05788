package vonage

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// verifyHS256 checks a compact JWS signed HS256 with secret and decodes its claims.
//
// It is written out rather than taken from go-jose because go-jose refuses HMAC keys
// shorter than 32 bytes, and a Vonage account's signature secret may be shorter:
// refusing every webhook of such an account would break calls, not protect them.
func verifyHS256(token string, secret []byte) (*webhookClaims, error) {
	if len(secret) == 0 {
		return nil, errors.New("no signature secret configured")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("token is not a compact JWS")
	}
	headerJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var header struct {
		Alg  string `json:"alg"`
		Crit []any  `json:"crit"`
	}
	if err := json.Unmarshal(headerJSON, &header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if header.Alg != "HS256" {
		return nil, fmt.Errorf("alg %q, want HS256", clip(header.Alg))
	}
	if len(header.Crit) > 0 {
		return nil, errors.New("unsupported crit header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errors.New("signature does not match")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var cl webhookClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return &cl, nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly fractional.
type numericDate float64

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("numeric date: %w", err)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("numeric date %q", n)
	}
	*d = numericDate(f)
	return nil
}

func (d *numericDate) time() time.Time {
	sec, frac := math.Modf(float64(*d))
	return time.Unix(int64(sec), int64(frac*1e9))
}
