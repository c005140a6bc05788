package limits

import (
	"slices"
	"strings"
)

// Rule describes one rule for people and operators: the README's limits table
// has one row per Rule.
type Rule struct {
	// Name says what is limited, e.g. "Codes and calls to one email address or
	// phone number, per hour".
	Name string
	// Default is the default value as its setting takes it ("10", "80", "GB"), or
	// as a person reads it for a fixed rule ("5 hours").
	Default string
	// Window is how the rule counts: "1 hour, sliding", "UTC day"; empty when it
	// counts nothing.
	Window string
	// Setting is the IDP_ variable that changes the rule; empty when it is fixed.
	Setting string
	// Why is one line: the reason for the rule, with its source where there is one
	// (NIST SP 800-63B, OWASP ASVS 5, GOV.UK One Login).
	Why string
}

// Rules lists every rule, one subject (one file) after another. A file that adds
// rules adds its function here.
func Rules() []Rule {
	return slices.Concat(
		lockoutRules(),      // lockout.go
		passwordRules(),     // passwords.go
		journeyRules(),      // journeys.go
		sendRules(),         // sends.go
		clientSecretRules(), // clientsecrets.go
		codeGuessRules(),    // codes.go
	)
}

// Markdown is the README's limits table: one row per rule of Rules.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| rule | default | counted over | setting | why |\n|---|---|---|---|---|\n")
	for _, r := range Rules() {
		setting := "fixed"
		if r.Setting != "" {
			setting = "`" + r.Setting + "`"
		}
		window := r.Window
		if window == "" {
			window = "-"
		}
		cells := []string{r.Name, r.Default, window, setting, r.Why}
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}
