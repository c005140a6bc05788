package journey

import (
	"strings"
	"unicode/utf8"
)

// MaskPhone shows an E.164 number with all but its last 3 digits hidden, for a
// challenge page: UK numbers in national form ("+447700900123" -> "07*** ***123"),
// others with their leading + ("+33612345678" -> "+********678").
func MaskPhone(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) < 4 {
		return strings.Repeat("*", len(digits))
	}
	if rest, ok := strings.CutPrefix(digits, "44"); ok && len(rest) == 10 {
		national := "0" + rest // 11 digits: shown as 5 + 6
		masked := national[:2] + strings.Repeat("*", len(national)-5) + national[len(national)-3:]
		return masked[:5] + " " + masked[5:]
	}
	return "+" + strings.Repeat("*", len(digits)-3) + digits[len(digits)-3:]
}

// PhoneEnding returns the last 3 digits of a number ("ending 123" in texts and audit).
func PhoneEnding(e164 string) string {
	if len(e164) < 3 {
		return ""
	}
	return e164[len(e164)-3:]
}

// MaskEmail shows enough of an address for its owner to recognise it and little
// to anyone else: the first character of the local part and the domain
// ("s***@example.org").
func MaskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "***@" + domain
}
