package faults

import (
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// pgTool runs one of PostgreSQL's client programs (pg_dump, pg_restore, psql): the
// one beside the initdb the suite's PostgreSQL runs from, so that their versions
// match, else the newest installed.
func pgTool(t *testing.T, tool string, args ...string) string {
	t.Helper()
	var path string
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	if bin, ok := pgBin(); ok {
		dirs = append([]string{bin}, dirs...)
	}
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, tool)) {
			path = filepath.Join(d, tool)
			break
		}
	}
	if path == "" {
		p, err := exec.LookPath(tool)
		if err != nil {
			missing(t, "PostgreSQL's %s is not installed (apt-get install postgresql-client)", tool)
		}
		path = p
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// jwtPart decodes part i (0 header, 1 claims) of a compact JWT, unverified: the
// form app's library verified it when the code was exchanged.
func jwtPart(t *testing.T, tok *oauth2.Token, i int) map[string]any {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q is not a compact JWT", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Issue 18 item 6, the runbook's backup and restore (deploy/RUNBOOK.md): a person
// signs up through the real server; the database is dumped with pg_dump while the
// idp serves, as the runbook says; then everything is lost (the database dropped,
// Redis emptied, the idp stopped), a fresh empty database is created and the dump
// restored into it with pg_restore; the idp started on the restored copy with the
// same key-encryption key signs that person in, in a new browser, with their
// password and a code texted to their phone, as the same account (sub) and with
// the same signing key (the sealed keys opened with the key-encryption key).
func TestRestoredBackupSignsExistingPersonIn(t *testing.T) {
	c := NewCluster(t, Options{Nodes: 1})
	defer c.logOnFailure()
	node := c.Nodes[0]

	before := c.Person()
	signedUp, err := before.SignUp()
	if err != nil {
		t.Fatalf("sign-up: %v", err)
	}

	// The backup, taken while the idp serves.
	dump := filepath.Join(t.TempDir(), "idp.dump")
	pgTool(t, "pg_dump", "--format=custom", "--no-owner", "--file="+dump, c.Postgres.URL)

	// Everything lost: the idp stopped, the database gone, Redis empty.
	node.Terminate()
	if code := node.Wait(60 * time.Second); code != 0 {
		t.Fatalf("idp exited %d after SIGTERM", code)
	}
	admin := strings.Replace(c.Postgres.URL, "/postgres?", "/template1?", 1)
	pgTool(t, "psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", "DROP DATABASE postgres WITH (FORCE)")
	pgTool(t, "psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", "CREATE DATABASE postgres")
	if got := strings.TrimSpace(pgTool(t, "psql", "--no-psqlrc", "-tA", "-d", c.Postgres.URL, "-c",
		"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")); got != "0" {
		t.Fatalf("the fresh database has %s tables, want none", got)
	}
	c.Redis.Stop()
	c.Redis.Start()

	// The restore, into the fresh database, and the idp started on it.
	pgTool(t, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+c.Postgres.URL, dump)
	node.Start()
	if !waitFor(10*time.Second, func() bool { return c.Proxy.InRotation() == 1 }) {
		t.Fatal("the idp on the restored database never came into the proxy's rotation")
	}

	// The same person, in a new browser: password, then a code to their phone.
	after := c.Person()
	after.Email, after.Phone, after.E164 = before.Email, before.Phone, before.E164
	steps := []struct {
		do      func() error
		heading string
	}{
		{after.StartSignIn, "Sign In"},
		{func() error {
			return after.Press("Sign in", "email", after.Email, "password", "correct horse battery staple")
		}, "Confirm it is you"},
	}
	for _, s := range steps {
		if err := after.step(s.do, s.heading); err != nil {
			t.Fatalf("sign-in on the restored database: %v", err)
		}
	}
	if err := after.proveBySMS(); err != nil {
		t.Fatalf("phone check on the restored database: %v", err)
	}
	signedIn, err := after.Exchange()
	if err != nil {
		t.Fatalf("sign-in on the restored database: %v", err)
	}
	if got, want := jwtPart(t, signedIn, 1)["sub"], jwtPart(t, signedUp, 1)["sub"]; got != want || got == nil {
		t.Errorf("signed in as sub %v, want the account restored from the backup (%v)", got, want)
	}
	if got, want := jwtPart(t, signedIn, 0)["kid"], jwtPart(t, signedUp, 0)["kid"]; got != want {
		t.Errorf("ID token signed with key %v after the restore, want the restored key %v", got, want)
	}
}
