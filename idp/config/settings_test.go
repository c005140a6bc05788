package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's configuration tables from config.Settings")

// Every setting has its names, documentation and parse; the flag is the variable's
// name in lower case without IDP_, as the README says (--addr for IDP_ADDR).
func TestSettingsTable(t *testing.T) {
	envs, flags := map[string]bool{}, map[string]bool{}
	for _, s := range Settings {
		if envs[s.Env] || flags[s.Flag] {
			t.Errorf("%s (--%s) is listed twice", s.Env, s.Flag)
		}
		envs[s.Env], flags[s.Flag] = true, true
		if want := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(s.Env, "IDP_")), "_", "-"); s.Flag != want || !strings.HasPrefix(s.Env, "IDP_") {
			t.Errorf("%s has flag --%s, want --%s", s.Env, s.Flag, want)
		}
		if s.parse == nil || strings.TrimSpace(s.Doc) == "" {
			t.Errorf("%s lacks a parse or its documentation", s.Env)
		}
		if s.Section != sectionGeneral && s.Section != sectionDelivery {
			t.Errorf("%s is in no README table (section %q)", s.Env, s.Section)
		}
	}
	// The settings checkDelivery and checkB2C read by name exist (a typo would read as not set).
	for _, env := range append([]string{"IDP_VONAGE_PRIVATE_KEY_FILE", "IDP_B2C_ROPC_URL", "IDP_B2C_ROPC_CLIENT_ID"}, vonageRequired...) {
		if !envs[env] {
			t.Errorf("checkDelivery or checkB2C reads %s, which is not a setting", env)
		}
	}
}

// readmeTables are the README's tables of settings, each between its markers.
var readmeTables = []struct {
	section       section
	start, finish string
}{
	{sectionGeneral,
		"<!-- settings table: generated from config.Settings (general) by `go test ./idp/config -update`; do not edit by hand -->\n",
		"<!-- end of settings table (general) -->"},
	{sectionDelivery,
		"<!-- settings table: generated from config.Settings (delivery) by `go test ./idp/config -update`; do not edit by hand -->\n",
		"<!-- end of settings table (delivery) -->"},
}

const readmePath = "../../README.md"

// The README's configuration tables are Markdown of Settings; -update rewrites them.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	out := readme
	for _, tab := range readmeTables {
		i := bytes.Index(out, []byte(tab.start))
		j := bytes.Index(out, []byte(tab.finish))
		if i < 0 || j < i {
			t.Fatalf("README.md has no settings table between %q and %q", strings.TrimSpace(tab.start), tab.finish)
		}
		got, want := string(out[i+len(tab.start):j]), Markdown(tab.section)
		if got == want {
			continue
		}
		if !*update {
			t.Errorf("README.md's %s settings table is not config.Settings; run go test ./idp/config -update\ngot:\n%s\nwant:\n%s", tab.section, got, want)
			continue
		}
		out = append(append(append([]byte{}, out[:i+len(tab.start)]...), want...), out[j:]...)
	}
	if *update && !bytes.Equal(out, readme) {
		if err := os.WriteFile(readmePath, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// `idp help` shows every setting's documentation, as plain text.
func TestUsageShowsTheDocumentation(t *testing.T) {
	var b strings.Builder
	Usage(&b)
	usage := strings.Join(strings.Fields(b.String()), " ")
	for _, s := range Settings {
		if doc := strings.Join(strings.Fields(plainText(s.Doc)), " "); !strings.Contains(usage, doc) {
			t.Errorf("usage lacks the documentation of %s: %q", s.Env, doc)
		}
	}
	if strings.Contains(usage, "`") || strings.Contains(usage, "](#") {
		t.Errorf("usage holds Markdown: %s", usage)
	}
}

// Every field of Config is filled by some setting's parse: each setting in turn
// takes values from a pool of plausible ones, and a field some value changed from
// its default is covered. A field no setting fills, or a parse that fills none,
// fails here.
func TestEveryFieldComesFromASetting(t *testing.T) {
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(clients, []byte("clients: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The pairs that go together are set, so each of a pair can change alone.
	base := merge(providers(t), map[string]string{"IDP_KEY_ENCRYPTION_KEY": testKey,
		"IDP_B2C_ROPC_URL":       "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token",
		"IDP_B2C_ROPC_CLIENT_ID": "0b1e6f4c-3f1a-4d8e-9a55-2c0f1f6b9d21"})
	pool := []string{":9000", "localhost:9999", "http://127.0.0.1:9000", "postgres://db/idp", "redis://cache:6379",
		"staging:", "true", "false", "10.0.0.0/8", "Suffolk County Council", "json", "debug", clients, "ES256",
		"1m", "2h", "45s", "0s", "GB,FR", "5", "50", "4", "https://example.com/",
		"Ada <ada@example.gov.uk>", "help@example.gov.uk", "01632 960 001", "smtp://relay.example.gov.uk:25?tls=none", "ab12", "OtherFrom", "1000h",
		"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=", // 32 bytes, another key
		vonageKeyFile(t),       // another file
		"#00703c", logoFile(t), // branding
		"off", // a memory limit
		"https://fabrikam.b2clogin.com/fabrikam.onmicrosoft.com/B2C_1_ROPC/oauth2/v2.0/token"}
	for _, v := range base {
		pool = append(pool, v)
	}
	defaults, err := Load(nil, env(base))
	if err != nil {
		t.Fatal(err)
	}
	want := reflect.ValueOf(*defaults)
	fields := want.Type()
	covered := map[string]bool{}
	for _, s := range Settings {
		changed := false
		for _, v := range pool {
			c, err := Load(nil, env(merge(base, map[string]string{s.Env: v})))
			if err != nil {
				continue
			}
			got := reflect.ValueOf(*c)
			for i := range fields.NumField() {
				if !reflect.DeepEqual(got.Field(i).Interface(), want.Field(i).Interface()) {
					covered[fields.Field(i).Name], changed = true, true
				}
			}
		}
		if !changed {
			t.Errorf("%s: no value changes the Config (does its parse fill a field?)", s.Env)
		}
	}
	for i := range fields.NumField() {
		if name := fields.Field(i).Name; !covered[name] {
			t.Errorf("Config.%s is filled by no setting", name)
		}
	}
}
