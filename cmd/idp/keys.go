package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/councilforms/idp/idp/app"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/store"
)

// keysUsage names the subcommands and the algorithms a key is kept for.
const keysUsage = "usage: idp keys list | idp keys rotate [--emergency] [--alg RS256|ES256]"

// keys lists and rotates token signing keys: idp keys list|rotate. There is
// one signing key per algorithm (RS256 and ES256), each rotating on its own;
// rotate without --alg rotates both. Running servers pick a rotated key up by
// themselves (they re-read the keys every 30 seconds); the new key is
// published in JWKS an hour before it signs. rotate --emergency is for a key
// presumed compromised: the new key signs at once and the old one leaves JWKS
// at once, so tokens it signed stop validating.
func keys(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return usageError{errors.New(keysUsage)}
	}
	sub, alg, emergency := args[0], "", false
	if sub == "list" && len(args) != 1 {
		return usageError{errors.New(keysUsage)}
	}
	if sub == "rotate" {
		fs := flag.NewFlagSet("idp keys rotate", flag.ContinueOnError)
		fs.SetOutput(env.stderr)
		fs.StringVar(&alg, "alg", "", "rotate only the key of this algorithm: RS256 or ES256 (default: both)")
		fs.BoolVar(&emergency, "emergency", false, "the key is presumed compromised: sign with the new key at once and withdraw the old one from JWKS at once")
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		if fs.NArg() > 0 {
			return usageError{fmt.Errorf("unexpected argument %q; %s", fs.Arg(0), keysUsage)}
		}
		if alg != "" && alg != "RS256" && alg != "ES256" {
			return usageError{fmt.Errorf("--alg %q is not supported (use RS256 or ES256)", alg)}
		}
	}
	cfg, err := loadAdminConfig(env, nil)
	if err != nil {
		return err
	}
	kek, err := adminKeyEncryptionKey(cfg)
	if err != nil {
		return err
	}
	db, err := openAdminDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	pcfg := providerKeyConfig(cfg, kek)
	if sub == "rotate" && emergency {
		return emergencyRotate(ctx, env, db, pcfg, alg)
	}
	if sub == "rotate" {
		ks, err := provider.RotateSigningKeys(ctx, db, pcfg, alg)
		for _, k := range ks {
			audit(ctx, env, db, "key.rotated", "", k.Algorithm+" signing key "+k.ID+" created")
			fmt.Fprintf(env.stdout, "new %s signing key %s is published now and signs from %s\n",
				k.Algorithm, k.ID, k.ActiveFrom.UTC().Format(time.RFC3339))
		}
		return err
	}
	infos, err := provider.ListSigningKeys(ctx, db, pcfg)
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		fmt.Fprintln(env.stdout, "no signing keys yet (the server creates the first one when it starts)")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALG\tSTATE\tCREATED\tSIGNS FROM\tRETIRED\tLEAVES JWKS")
	for _, k := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State,
			stamp(k.CreatedAt), stamp(k.ActiveFrom), stamp(k.RetiredAt), stamp(k.ExpiresAt))
	}
	return tw.Flush()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// providerKeyConfig is the part of the provider's configuration that key
// management needs: the algorithm, and the token lifetimes that decide how
// long a retired key stays published.
func providerKeyConfig(cfg *config.Config, kek []byte) provider.Config {
	return provider.Config{
		Issuer:           cfg.Issuer,
		KeyEncryptionKey: kek,
		SigningAlgorithm: cfg.SigningAlg,
		AccessTokenTTL:   cfg.AccessTokenTTL,
		IDTokenTTL:       cfg.IDTokenTTL,
	}
}

// adminKeyEncryptionKey is the configured key, or in embedded mode the one in
// the key file the server created. Unlike the server, an admin command never
// creates the file: a key made here would not match keys already stored.
func adminKeyEncryptionKey(cfg *config.Config) ([]byte, error) {
	if cfg.KeyEncryptionKey != nil {
		return cfg.KeyEncryptionKey, nil
	}
	if cfg.DatabaseKind != config.DatabaseSQLite {
		return nil, usageError{errors.New("IDP_KEY_ENCRYPTION_KEY is required with PostgreSQL")}
	}
	path := filepath.Join(filepath.Dir(cfg.SQLitePath), app.KeyFileName)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no key-encryption key at %s: set IDP_KEY_ENCRYPTION_KEY or start the server once", path)
	}
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("key-encryption key file %s is not 32 bytes of base64", path)
	}
	return key, nil
}

// emergencyRotate replaces the signing keys of alg (both when "") at once and
// says what that means for form apps.
func emergencyRotate(ctx context.Context, env *environment, db store.Durable, pcfg provider.Config, alg string) error {
	rots, err := provider.EmergencyRotateSigningKeys(ctx, db, pcfg, alg)
	for _, r := range rots {
		var old []string
		for _, w := range r.Withdrawn {
			old = append(old, w.ID)
			fmt.Fprintf(env.stdout, "%s signing key %s is withdrawn: it signs nothing more and has left JWKS\n", w.Algorithm, w.ID)
		}
		if r.New.ID == "" {
			continue
		}
		detail := "emergency: " + r.New.Algorithm + " signing key " + r.New.ID + " signs at once"
		if len(old) > 0 {
			detail += "; withdrawn from JWKS: " + strings.Join(old, " ")
		}
		audit(ctx, env, db, "key.rotated_emergency", "", detail)
		fmt.Fprintf(env.stdout, "new %s signing key %s signs from now (%s)\n", r.New.Algorithm, r.New.ID, stamp(r.New.ActiveFrom))
	}
	if len(rots) > 0 {
		fmt.Fprintln(env.stdout, "Running servers switch within 30 seconds. Tokens signed with the withdrawn keys no longer validate:"+
			" form apps must fetch JWKS again (most do when they meet an unknown kid), and people signed in to them may have to sign in again.")
	}
	return err
}
