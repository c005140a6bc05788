package password

import (
	"bufio"
	_ "embed"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits, in characters (Unicode code points). 8 is NIST SP 800-63B's
// minimum; 256 is generous for passphrases and password managers while bounding
// the work a single hash does.
const (
	MinLength = 8
	MaxLength = 256
)

// Errors Check returns. Their messages are written to be shown to the person
// choosing the password, next to the field (GOV.UK error-message style).
var (
	ErrTooShort = errors.New("Password must be 8 characters or more")
	ErrTooLong  = errors.New("Password must be 256 characters or fewer")
	ErrCommon   = errors.New("Choose a password that is harder to guess")
)

//go:embed common.txt
var commonList string

// common holds the lowercased entries of common.txt.
var common = parseCommon(commonList)

func parseCommon(list string) map[string]struct{} {
	set := make(map[string]struct{}, 2500)
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
}

// minStemLen is the shortest word that counts as the stem of a padded password.
const minStemLen = 4

// Check applies the password policy: length limits and a blocklist of common
// passwords. There are no composition rules (NIST SP 800-63B advises against
// them). It returns ErrTooShort, ErrTooLong, ErrCommon or nil. It is the one rule
// for a new password: the journeys apply it at sign-up and reset (the app gives it
// as journey.Policy.NewPasswordRule).
func Check(password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinLength {
		return ErrTooShort
	}
	if n > MaxLength {
		return ErrTooLong
	}
	if IsCommon(password) {
		return ErrCommon
	}
	return nil
}

// IsCommon reports whether password, ignoring case and surrounding spaces, is on
// the blocklist, or is a listed word followed only by digits and symbols
// ("Sunshine2024!").
func IsCommon(password string) bool {
	p := strings.ToLower(strings.TrimSpace(password))
	if _, ok := common[p]; ok {
		return true
	}
	stem := strings.TrimRightFunc(p, func(r rune) bool {
		return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
	if stem == p || utf8.RuneCountInString(stem) < minStemLen {
		return false
	}
	_, ok := common[stem]
	return ok
}
