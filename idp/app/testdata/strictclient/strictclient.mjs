// A strict OpenID Connect client, oauth4webapi, against a running idp: every
// answer, the errors included, must be one the library accepts and parses
// into the error a form app would act on. Run by idp/app's TestStrictClient,
// which signs a person in and passes what it got in STRICT_CLIENT_INPUT (JSON).
// Prints "ok NAME" per check and "FAIL NAME: why" for a failed one (never a
// token or a secret), and exits 1 when any failed.
import * as oauth from 'oauth4webapi'

const input = JSON.parse(process.env.STRICT_CLIENT_INPUT)
const insecure = { [oauth.allowInsecureRequests]: true } // the test idp is http on loopback
const issuer = new URL(input.issuer)
const client = { client_id: input.client_id }
const post = oauth.ClientSecretPost(input.client_secret)
const basic = oauth.ClientSecretBasic(input.client_secret)
const wrongPost = oauth.ClientSecretPost('not-the-secret')
const wrongBasic = oauth.ClientSecretBasic('not-the-secret')

let failed = 0
let passed = 0
async function check (name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok ${name}`)
  } catch (e) {
    failed++
    const detail = [e?.name, e?.code, e?.error, e?.status, e?.message].filter(Boolean).join(' ')
    console.log(`FAIL ${name}: ${detail}`)
  }
}

function fail (why) {
  throw new Error(why)
}

// expectThrow runs fn, which must throw an error of class cls; it returns it.
async function expectThrow (cls, fn) {
  let err
  try {
    await fn()
  } catch (e) {
    err = e
  }
  if (!err) fail(`no ${cls.name} thrown`)
  if (!(err instanceof cls)) fail(`threw ${err.name} (${err.code ?? ''} ${err.message}), want ${cls.name}`)
  return err
}

function bearerInvalidToken (err) {
  if (err.status !== 401) fail(`status ${err.status}, want 401`)
  const c = err.cause.find((c) => c.scheme === 'bearer')
  if (!c) fail(`challenges ${JSON.stringify(err.cause.map((c) => c.scheme))}, want bearer`)
  if (c.parameters.error !== 'invalid_token') fail(`bearer error ${c.parameters.error}, want invalid_token`)
}

function basicChallenge (err) {
  if (err.status !== 401) fail(`status ${err.status}, want 401`)
  if (!err.cause.some((c) => c.scheme === 'basic')) fail(`challenges ${JSON.stringify(err.cause.map((c) => c.scheme))}, want basic`)
}

function invalidClient (err) {
  if (err.status !== 401 || err.error !== 'invalid_client') fail(`${err.status} ${err.error}, want 401 invalid_client`)
}

// callbackParams: the parameters of the redirect to the client, from the
// query, or from the fragment of a response_type that uses it.
function callbackParams (location) {
  const u = new URL(location)
  if (u.hash.length > 1) return new URLSearchParams(u.hash.slice(1))
  return u.searchParams
}

let as
await check('discovery', async () => {
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }))
  if (as.device_authorization_endpoint) fail('advertises device_authorization_endpoint')
  if (!as.token_endpoint_auth_methods_supported?.includes('client_secret_post')) fail('client_secret_post not advertised')
})
if (!as) {
  console.log('FAIL discovery is needed for everything else')
  process.exit(1)
}

let tokens
await check('authorization response and code exchange', async () => {
  const params = oauth.validateAuthResponse(as, client, new URL(input.callback), input.state)
  const res = await oauth.authorizationCodeGrantRequest(as, client, basic, params, input.redirect_uri, input.code_verifier, insecure)
  tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: input.nonce, requireIdToken: true })
  if (!tokens.refresh_token) fail('no refresh token')
})

let sub
await check('userinfo', async () => {
  sub = oauth.getValidatedIdTokenClaims(tokens).sub
  const info = await oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure))
  if (info.sub !== sub) fail('userinfo sub differs')
})

await check('userinfo with an invalid token: 401 Bearer error=invalid_token', async () => {
  const err = await expectThrow(oauth.WWWAuthenticateChallengeError, async () =>
    oauth.processUserInfoResponse(as, client, oauth.skipSubjectCheck, await oauth.userInfoRequest(as, client, 'not-a-token', insecure)))
  bearerInvalidToken(err)
})

await check('token endpoint, wrong secret (client_secret_basic): 401 with a Basic challenge', async () => {
  const err = await expectThrow(oauth.WWWAuthenticateChallengeError, async () =>
    oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, wrongBasic, tokens.refresh_token, insecure)))
  basicChallenge(err)
  const body = await err.response.json()
  if (body.error !== 'invalid_client') fail(`body error ${body.error}, want invalid_client`)
})

await check('token endpoint, wrong secret (client_secret_post): 401 invalid_client JSON', async () => {
  const err = await expectThrow(oauth.ResponseBodyError, async () =>
    oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, wrongPost, tokens.refresh_token, insecure)))
  invalidClient(err)
})

await check('introspection, wrong secret (client_secret_post): 401 invalid_client JSON', async () => {
  const err = await expectThrow(oauth.ResponseBodyError, async () =>
    oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, wrongPost, tokens.access_token, insecure)))
  invalidClient(err)
})

await check('revocation, wrong secret (client_secret_basic): 401 with a Basic challenge', async () => {
  const err = await expectThrow(oauth.WWWAuthenticateChallengeError, async () =>
    oauth.processRevocationResponse(await oauth.revocationRequest(as, client, wrongBasic, tokens.access_token, insecure)))
  basicChallenge(err)
})

await check('introspection with client_secret_post: the access token is active', async () => {
  const r = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, post, tokens.access_token, insecure))
  if (r.active !== true) fail(`active ${r.active}`)
})

await check('introspection with client_secret_post: the refresh token is active', async () => {
  const r = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, post, tokens.refresh_token, insecure))
  if (r.active !== true) fail(`active ${r.active}`)
  if (r.client_id !== input.client_id || r.sub !== sub) fail('client_id or sub differ')
})

await check('introspection with client_secret_post: a made-up token is inactive', async () => {
  const r = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, post, 'not-a-token', insecure))
  if (r.active !== false) fail(`active ${r.active}`)
})

await check('refresh', async () => {
  const r = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, basic, tokens.refresh_token, insecure))
  tokens = { ...tokens, access_token: r.access_token, refresh_token: r.refresh_token ?? tokens.refresh_token }
})

await check('userinfo with a revoked token: 401 Bearer error=invalid_token', async () => {
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, post, tokens.access_token, insecure))
  const err = await expectThrow(oauth.WWWAuthenticateChallengeError, async () =>
    oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure)))
  bearerInvalidToken(err)
})

// authorize sends an authorization request as a form app would, changed by
// edit, and returns the parameters the idp redirected back to the client with.
async function authorize (state, edit) {
  const u = new URL(as.authorization_endpoint)
  const q = u.searchParams
  q.set('client_id', input.client_id)
  q.set('redirect_uri', input.redirect_uri)
  q.set('response_type', 'code')
  q.set('scope', 'openid')
  q.set('state', state)
  q.set('code_challenge', await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()))
  q.set('code_challenge_method', 'S256')
  edit(q)
  const res = await fetch(u, { redirect: 'manual' })
  const loc = res.headers.get('location')
  if (res.status < 300 || res.status > 399 || !loc || !loc.startsWith(input.redirect_uri)) {
    fail(`answered ${res.status}, not a redirect to the client`)
  }
  return callbackParams(new URL(loc, u).href)
}

for (const rt of ['foo', 'token', 'id_token', 'code id_token']) {
  await check(`response_type=${rt}: unsupported_response_type at the redirect URI`, async () => {
    const state = oauth.generateRandomState()
    const params = await authorize(state, (q) => q.set('response_type', rt))
    const err = await expectThrow(oauth.AuthorizationResponseError, () => oauth.validateAuthResponse(as, client, params, state))
    if (err.error !== 'unsupported_response_type') fail(`error ${err.error}`)
  })
}

for (const name of ['state', 'scope', 'response_type', 'redirect_uri']) {
  await check(`${name} sent twice: invalid_request at the redirect URI`, async () => {
    const state = oauth.generateRandomState()
    const params = await authorize(state, (q) => q.append(name, q.get(name)))
    const err = await expectThrow(oauth.AuthorizationResponseError, () => oauth.validateAuthResponse(as, client, params, state))
    if (err.error !== 'invalid_request') fail(`error ${err.error}`)
  })
}

console.log(`checks: ${passed} ok, ${failed} failed`)
process.exit(failed ? 1 : 0)
