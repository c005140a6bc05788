package store

// Keys: the name of every record the idp keeps in the ephemeral store and of
// every durable counter and run of failures, in one place, with what sets its
// lifetime. Each package builds its keys from these prefixes only, so that two
// never collide and an operator reading Redis (under IDP_REDIS_PREFIX) or the
// counters table knows what each key is.

// Ephemeral records (Ephemeral). Every one has a TTL, given in brackets; a
// flush of the ephemeral store loses them, and every limit that must survive a
// flush is a durable counter below instead.
const (
	// KeyJourney + hash of the journey cookie: a browser's sign-up or sign-in
	// (idp/web) [IDP_JOURNEY_TTL; a finished one, until its code expires].
	KeyJourney = "journey:"
	// KeyCall + call id: the journey a placed call belongs to (idp/web)
	// [the call's life: its answer time plus the journey's].
	KeyCall = "call:"
	// KeyCallResult + call id: the outcome a call's webhook reported (idp/web) [as KeyCall].
	KeyCallResult = "callresult:"

	// KeyAuthRequest + id: a stored /authorize request (idp/provider) [1h to
	// finish signing in; once done, the code's lifetime].
	KeyAuthRequest = "oidc:authreq:"
	// KeyCode + SHA-256 of an authorization code: the request it redeems [60s].
	KeyCode = "oidc:code:"
	// KeyGrant + SHA-256 of a redeemed code: what was issued from it, so a
	// second use revokes it [the code's and an access token's lifetimes].
	KeyGrant = "oidc:grant:"
	// KeyAccessToken + token id: an opaque access token [IDP_ACCESS_TOKEN_TTL].
	KeyAccessToken = "oidc:at:"
	// KeySession + SHA-256 of the session cookie: an IdP session [IDP_SESSION_TTL
	// from its start; it ends sooner after IDP_SESSION_IDLE_TTL unused].
	KeySession = "oidc:session:"
	// KeySessionByID + sid: where the session with that id is [IDP_SESSION_TTL].
	KeySessionByID = "oidc:sid:"
	// KeySessionClients + sid: the form apps given a code in the session [IDP_SESSION_TTL].
	KeySessionClients = "oidc:sidclients:"
	// KeyUserSessions + user id: the sids of a person's sessions [IDP_SESSION_TTL].
	KeyUserSessions = "oidc:usersids:"
	// KeyRevokedFamily + refresh family id: its access tokens are void
	// [the longer of IDP_ACCESS_TOKEN_TTL and IDP_SESSION_TTL].
	KeyRevokedFamily = "oidc:rvk:fam:"
	// KeyRevokedUser + user id [+ ":" + client id]: what was issued before the
	// stored time is void [as KeyRevokedFamily].
	KeyRevokedUser = "oidc:rvk:user:"
	// KeyRevokedSession + sid: what was issued in the session is void [as KeyRevokedFamily].
	KeyRevokedSession = "oidc:rvk:sid:"

	// KeyVonageReplay + jti: a Vonage webhook already seen (idp/app) [the
	// webhook token's lifetime].
	KeyVonageReplay = "vonage-jti:"
	// KeyVonageReceipts + UTC date: delivery receipts recorded that day [25h].
	KeyVonageReceipts = "vonage-receipts:"
	// KeyVonageCall + challenge id: the uuid of the Vonage call placed for it [the call's life].
	KeyVonageCall = "vonage-call:"

	// KeyDevInboxIndex: the dev inbox's list of messages (factors/dev, IDP_DEV only)
	// [the longest code lifetime].
	KeyDevInboxIndex = "dev-inbox:index"
	// KeyDevInboxItem + id: one message or simulated call in the dev inbox [as KeyDevInboxIndex].
	KeyDevInboxItem = "dev-inbox:item:"
)

// Durable counters (Counters: windows of idp/limits' rules) and runs of
// failures (ConsecutiveFailures: until the next success). They survive a
// flush of the ephemeral store. An email address or a phone number appears in
// them only as a keyed hash ("hash" below: HMAC-SHA-256 under a key derived
// from the key-encryption key, idp/web's personal), never in clear.
const (
	// KeyPasswordFailNetwork + network: wrong passwords from one network (idp/web).
	KeyPasswordFailNetwork = "pwfail:net:"
	// KeyPasswordFailEmail + hash of an address: wrong passwords for one address,
	// whether or not it has an account.
	KeyPasswordFailEmail = "pwfail:email:"
	// KeyPasswordFailDevice + device id: wrong passwords from a browser that signed in before.
	KeyPasswordFailDevice = "pwfail:device:"
	// KeyCodeFailDestination + channel + ":" + hash of the address or number: a run of wrong one-time codes.
	KeyCodeFailDestination = "code:dest:"
	// KeyCodeFailAccount + channel + ":" + user id: a run of wrong one-time codes for an account.
	KeyCodeFailAccount = "code:account:"
	// KeySend + channel + ":" + hash of the address: messages sent to one destination.
	KeySend = "send:"
	// KeySendPhone + hash of a number: texts and calls to one number (they share its budget).
	KeySendPhone = "send:phone:"
	// KeySendNetwork + network: texts and calls asked for from one network.
	KeySendNetwork = "send:net:"
	// KeySendShare + share: the day's texts and calls in a share of the daily ceiling (idp/sendguard).
	KeySendShare = "send:global:phone:"
	// KeyEnrolNumbers + user id: the distinct numbers (members: their hashes) an account tried to enrol.
	KeyEnrolNumbers = "enrol:numbers:"
	// KeyEnrolSends + user id: texts and calls to numbers an account is enrolling.
	KeyEnrolSends = "enrol:sends:"
	// KeyClientFailNetwork + network: wrong client secrets from one network (idp/provider).
	KeyClientFailNetwork = "clientauth:fail:net:"
	// KeyClientFail + client id [+ ":net:" + network]: wrong secrets for one client.
	KeyClientFail = "clientauth:fail:client:"
	// KeyClientOK + client id + ":net:" + network: the client authenticated from that network.
	KeyClientOK = "clientauth:ok:client:"
	// KeySigningKeyCreate + algorithm: serialises creating a first signing key.
	KeySigningKeyCreate = "oidc:signing-key-create:"
)
