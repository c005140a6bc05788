package journey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxEmailLen = 254
	maxNameLen  = 100
)

// validEmail trims input and checks it looks like an address (one @, a dotted domain,
// no spaces or brackets); deliverability is proven by the code, not here.
func (t *tx) validEmail(input string) string {
	email := strings.TrimSpace(input)
	switch {
	case email == "":
		t.fieldError(FieldEmail, MsgEnterEmail)
	case len(email) > maxEmailLen:
		t.fieldError(FieldEmail, MsgEmailTooLong)
	case !emailShape(email):
		t.fieldError(FieldEmail, MsgEmailFormat)
	}
	return email
}

// NormaliseEmail is what sign-up does to a typed address before it keeps it: trim
// it, and refuse (ok false) one that is too long or not shaped like an address.
// The address is kept as typed otherwise; accounts compare it case-insensitively.
// Imports (idp/migrate) use it so that an imported address is one sign-up would
// have accepted.
func NormaliseEmail(input string) (email string, ok bool) {
	email = strings.TrimSpace(input)
	return email, email != "" && len(email) <= maxEmailLen && emailShape(email)
}

func emailShape(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>()[],;:"\`, r)
	}) {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
	}
	return true
}

// validName trims a name and checks it is present, not too long and free of control
// characters. Names are otherwise free text: people's names do not follow rules.
func (t *tx) validName(field, input, enterMsg, tooLongMsg string) string {
	name := strings.TrimSpace(input)
	switch {
	case name == "":
		t.fieldError(field, enterMsg)
	case utf8.RuneCountInString(name) > maxNameLen:
		t.fieldError(field, tooLongMsg)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		t.fieldError(field, MsgNameCharacters)
	}
	return name
}

// checkNewPassword applies the password rule and the confirmation match.
func (t *tx) checkNewPassword(password, confirm string) {
	switch {
	case password == "":
		t.fieldError(FieldPassword, MsgCreatePassword)
	default:
		if err := t.m.policy.NewPasswordRule(password); err != nil {
			t.fieldError(FieldPassword, err.Error())
		}
	}
	switch {
	case confirm == "":
		t.fieldError(FieldConfirm, MsgConfirmPassword)
	case password != "" && confirm != password:
		t.fieldError(FieldConfirm, MsgPasswordsDontMatch)
	}
}
