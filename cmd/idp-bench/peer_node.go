package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// oidcProviderVersion is the npm package oidc-provider (panva), pinned: a
// certified OpenID provider for Node.js, run with its in-memory adapter.
const oidcProviderVersion = "9.13.3"

// oidcProviderUser is the account the bench signs in as at oidc-provider.
const oidcProviderUser = "idp-bench-person"

var oidcProviderPeer = peer{
	name:      "oidc-provider",
	clientID:  benchClientID,
	authzName: "authorize (SSO session)",
	note: "one Node.js process (one thread); RS256 ID tokens (RSA 2048), opaque access tokens; refresh tokens rotate, and are tied to the session " +
		"(it keeps offline_access only with prompt=consent, so the bench's configuration issues them without)",
	title: func() string { return "oidc-provider " + oidcProviderVersion + " (npm, Node.js " + nodeVersion() + ")" },
	start: startOIDCProvider,
	login: oidcProviderLogin,
}

// oidcProviderScript is the bench's configuration of oidc-provider, written
// into the temporary directory it is installed in: one public client (PKCE,
// the bench's redirect URI, authorization_code and refresh_token), RS256 ID
// tokens from a fresh RSA key, rotation of refresh tokens, the bench person
// as the only account, and consent given in advance (a first-party client),
// so that a browser with a session gets its code at once, as at the idp.
// Sign-in is through oidc-provider's own development login page.
const oidcProviderScript = `// Written by idp-bench; removed with this directory.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { MemoryAdapter } from './adapter.js';

const port = Number(process.env.PORT);
const issuer = 'http://localhost:' + port;
const user = process.env.BENCH_USER;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'idp-bench-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  clients: [{
    client_id: process.env.CLIENT_ID,
    token_endpoint_auth_method: 'none',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'phone'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
  },
  pkce: { required: () => true },
  async findAccount(ctx, sub) {
    if (sub !== user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub, name: 'Bench Person', given_name: 'Bench', family_name: 'Person',
          email: 'bench-person@example.org', email_verified: true,
          phone_number: '+447700900999', phone_number_verified: true,
        };
      },
    };
  },
  // First party: consent is given in advance, so no consent page.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email phone offline_access');
    await grant.save();
    return grant;
  },
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: () => true,
});

const server = createServer(provider.callback());
server.keepAliveTimeout = 65000;
server.headersTimeout = 66000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`

// oidcProviderAdapter is oidc-provider's own memory adapter on a larger
// store: its default holds 1,000 entries (least recently used dropped), which
// sessions, codes and tokens of 16 workers outgrow in a second.
const oidcProviderAdapter = `// Written by idp-bench; removed with this directory.
import Base from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const store = new LRU({ maxSize: 1000000 });

export class MemoryAdapter extends Base {
  constructor(model) {
    super(model, store);
  }
}
`

// nodeVersion is the version of node on PATH, without the v, or "missing".
func nodeVersion() string {
	b, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "missing"
	}
	return strings.TrimPrefix(strings.TrimSpace(string(b)), "v")
}

// startOIDCProvider installs oidc-provider with npm into dir, writes the
// bench's start script there and starts it with node on a free port.
func startOIDCProvider(ctx context.Context, o options, dir string, out io.Writer) (*target, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed (%v)", tool, err)
		}
	}
	files := map[string]string{
		"package.json": `{"private": true, "type": "module"}` + "\n",
		"start.js":     oidcProviderScript,
		"adapter.js":   oidcProviderAdapter,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(out, "installing oidc-provider@%s with npm (not kept)\n", oidcProviderVersion)
	ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev",
		"oidc-provider@"+oidcProviderVersion)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("npm install oidc-provider@%s: %v\n%s", oidcProviderVersion, err, b)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd = exec.Command("node", "start.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "REDIRECT_URI="+o.redirectURI,
		"CLIENT_ID="+benchClientID, "BENCH_USER="+oidcProviderUser, "NODE_ENV=production")
	return startPeerProcess(ctx, cmd, fmt.Sprintf("http://localhost:%d", port), "in memory (its own memory adapter, room raised from 1,000 to 1,000,000 entries)")
}

// oidcProviderLogin signs in on oidc-provider's development login page (any
// login it has an account for, any password) and, should it ask, gives
// consent on its consent page.
func oidcProviderLogin(ctx context.Context, t *target, b *browser) error {
	for range 3 {
		switch {
		case b.Callback != nil:
			return nil
		case b.Page == nil:
			return errors.New("no page from the peer")
		case b.Page.HasField("login"):
			if err := b.Press(ctx, "Sign-in", map[string]string{"login": oidcProviderUser, "password": "not checked"}); err != nil {
				return err
			}
		default:
			if _, _, ok := b.Page.ButtonFold("Continue"); !ok {
				return fmt.Errorf("neither its login nor its consent page: %s", b.Page.Describe())
			}
			if err := b.Press(ctx, "Continue", nil); err != nil {
				return err
			}
		}
	}
	if b.Callback == nil {
		return fmt.Errorf("still at %s after signing in", b.Page.Describe())
	}
	return nil
}
