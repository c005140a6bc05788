package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Sentinel errors every backend returns (wrapped) so callers can match with errors.Is.
var (
	// ErrNotFound: the record does not exist (or has expired, for ephemeral records).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness violation, or a compare-and-set whose version no longer matches.
	ErrConflict = errors.New("store: conflict")
	// ErrLastOwner: RevokeRole would leave nobody holding RoleOwner.
	ErrLastOwner = errors.New("store: the last owner keeps the role owner")
)

// UserStatus is whether an account may sign in at all. A temporary lockout after
// wrong passwords is kept separately in User.LockedUntil.
type UserStatus string

const (
	UserActive   UserStatus = "active"
	UserDisabled UserStatus = "disabled"
)

// User is a person's account.
type User struct {
	ID            string // stable opaque id, used as the OIDC sub
	Email         string // as typed; uniqueness is case-insensitive
	EmailVerified bool
	GivenName     string
	FamilyName    string
	PasswordHash  string // argon2id PHC string, never the password
	Phone         string // E.164, empty until enrolled
	PhoneType     string // how Phone was classified at enrolment: factors/phone's Type ("mobile", "landline"); empty with no phone
	PhoneVerified bool
	Status        UserStatus
	FailedLogins  int       // consecutive wrong passwords since the last success
	LockedUntil   time.Time // zero when not locked
	// ImportedFrom is where the account came from: ImportedB2C (Azure AD B2C; ID is
	// the B2C object id, kept as the OIDC sub) or ImportedExport (another
	// instance's `idp users export`); empty for accounts made here.
	ImportedFrom string
	// MigratedAt is when an imported account first signed in here (its password
	// checked by B2C once, or set anew); zero until then and for accounts made here.
	MigratedAt time.Time
	// LastSignInAt is when the person last completed a sign-in here; zero before the first.
	LastSignInAt time.Time
	// Locale is the language the person reads the pages and their messages
	// in ("en", "cy"; the locale claim); empty until chosen.
	Locale    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Where an imported account came from (User.ImportedFrom).
const (
	ImportedB2C    = "b2c"
	ImportedExport = "export"
)

// AwaitingMigration reports whether u was imported and has not signed in here yet:
// it has no password of ours, and a re-import may still update it.
func (u *User) AwaitingMigration() bool {
	return u.ImportedFrom != "" && u.MigratedAt.IsZero()
}

// ImportOutcome is what ImportUsers did with one user of a batch.
type ImportOutcome string

const (
	// ImportCreated: the account did not exist and was created.
	ImportCreated ImportOutcome = "created"
	// ImportUpdated: an imported account not yet migrated had its names, phone or
	// status changed.
	ImportUpdated ImportOutcome = "updated"
	// ImportUnchanged: an imported account not yet migrated already held these values.
	ImportUnchanged ImportOutcome = "unchanged"
	// ImportExists: nothing written, because the id belongs to an account made here
	// or already migrated, or the email (in any case) to another account.
	ImportExists ImportOutcome = "exists"
)

// ImportAuditKind is the audit event ImportUsers appends for each account it creates.
const ImportAuditKind = "user.imported"

// Users stores accounts.
type Users interface {
	// CreateUser inserts u. ID, CreatedAt and UpdatedAt must be set by the caller.
	// A second account with the same email (compared case-insensitively) gives ErrConflict.
	CreateUser(ctx context.Context, u *User) error
	// UserByID returns ErrNotFound when there is no such user.
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByEmail matches case-insensitively; ErrNotFound when there is no such user.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// UpdateUser overwrites every mutable field of the user with u.ID (all but ID and
	// CreatedAt; ImportedFrom, MigratedAt and LastSignInAt included). ErrNotFound when it does not exist; ErrConflict when the new email is taken.
	UpdateUser(ctx context.Context, u *User) error
	// RecordLoginFailure atomically increments the user's consecutive failure count and
	// returns the new count; the caller decides on a lockout and stores it with LockUser.
	RecordLoginFailure(ctx context.Context, userID string) (int, error)
	// LockUser sets LockedUntil.
	LockUser(ctx context.Context, userID string, until time.Time) error
	// ResetLoginFailures sets the failure count to zero and clears LockedUntil.
	ResetLoginFailures(ctx context.Context, userID string) error
	// RecordSignIn sets LastSignInAt (a completed sign-in); ErrNotFound when absent.
	RecordSignIn(ctx context.Context, userID string, at time.Time) error
	// EraseUser removes a person's personal data in one transaction (UK GDPR
	// erasure): the account and its refresh tokens are deleted; their audit events
	// keep their kinds and times under pseudonym, without address, client or
	// detail; email to email (compared case-insensitively) that is still queued is
	// dropped and the rest of it kept as a record under pseudonym, without
	// subject or bodies; outbox requests naming the user id name the pseudonym
	// once a worker has taken them (a queued one still needs the id). It is safe
	// to repeat, and reports whether the account was still there.
	EraseUser(ctx context.Context, userID, email, pseudonym string) (bool, error)
	// ImportUsers writes one batch of imported accounts in one transaction and
	// returns an outcome per user, in batch order: all of the batch or none of it
	// is written (an error means none). Each user must have ID, Email, Status and
	// ImportedFrom set. A user whose ID does not exist is created as given (its
	// CreatedAt kept; UpdatedAt set to now when zero) unless its email, compared
	// case-insensitively, belongs to another account (ImportExists). A user whose
	// ID exists as an account awaiting migration (User.AwaitingMigration) has only
	// GivenName, FamilyName, Phone, PhoneType, PhoneVerified and Status updated
	// (UpdatedAt = now), or is ImportUnchanged when they already match; an account
	// made here or already migrated is ImportExists and never touched, so a
	// password hash, a migrated account or an account made here is never written.
	// Each account created gets an audit event ImportAuditKind at now, in the same
	// transaction, whose Detail names ImportedFrom and the source id.
	ImportUsers(ctx context.Context, batch []*User, now time.Time) ([]ImportOutcome, error)
	// ListUsers returns users whose email contains search (case-insensitively, as
	// plain text: no wildcards), ordered by email; empty search lists everyone;
	// limit <= 0 means 100.
	ListUsers(ctx context.Context, search string, limit int) ([]*User, error)
}

// Client is a registered relying party (a form application).
type Client struct {
	ID   string
	Name string
	// SecretHash is "hmac-sha256$..." (older registrations: an argon2id PHC
	// string, replaced on the next successful use); empty for public clients.
	SecretHash             string
	Public                 bool // public clients authenticate with none and must use PKCE
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Scopes                 []string // scopes the client may ask for; empty means all supported
	// BackchannelLogoutURI receives a logout token when a session the client
	// took part in ends (OpenID Connect Back-Channel Logout 1.0); empty for none.
	BackchannelLogoutURI string
	// BackchannelLogoutSessionRequired: the client needs the sid claim in
	// its logout tokens (and ID tokens).
	BackchannelLogoutSessionRequired bool
	// IDTokenSignedResponseAlg is the JWS alg of the client's ID tokens
	// (RS256 or ES256); empty means the provider's default.
	IDTokenSignedResponseAlg string
	// PreviousSecretHash is the secret a rotation replaced, which keeps working
	// until PreviousSecretExpiresAt (so the form app can switch without an
	// outage); empty when there is none.
	PreviousSecretHash      string
	PreviousSecretExpiresAt time.Time
	// DisabledAt is when an admin disabled the client: from then on it is
	// refused at authorization and at the token endpoint (invalid_client)
	// until enabled again; zero while enabled.
	DisabledAt time.Time
	CreatedAt  time.Time
}

// Clients stores relying parties registered by admins.
type Clients interface {
	// CreateClient gives ErrConflict when the id is taken.
	CreateClient(ctx context.Context, c *Client) error
	ClientByID(ctx context.Context, id string) (*Client, error)
	// UpdateClient overwrites every field of the client with c.ID except its
	// secret hashes and CreatedAt (DisabledAt included); ErrNotFound when there
	// is no such client.
	UpdateClient(ctx context.Context, c *Client) error
	// ListClients returns every client ordered by id.
	ListClients(ctx context.Context) ([]*Client, error)
	// DeleteClient gives ErrNotFound when there is no such client.
	DeleteClient(ctx context.Context, id string) error
	// SetClientSecret replaces the secret hash; ErrNotFound when there is no such client.
	// The secret it replaces keeps working until keepPreviousUntil (it becomes
	// PreviousSecretHash); with a zero time it stops at once and no previous
	// secret is kept. Updated in one statement, so a concurrent use sees the old
	// pair or the new one.
	SetClientSecret(ctx context.Context, id, secretHash string, keepPreviousUntil time.Time) error
	// ReplaceClientSecretHash sets the secret hash to newHash only while it is still
	// oldHash (a new hash of the same secret, made when it was last verified): ErrConflict
	// when it has changed meanwhile (the secret was rotated), ErrNotFound when there is no
	// such client.
	ReplaceClientSecretHash(ctx context.Context, id, oldHash, newHash string) error
	// ClientAndUser reads a client and an account together (a code exchange
	// checks the one and puts the other's claims in the ID token), in one
	// round trip to a database server: the client, or ErrNotFound when there
	// is no such client; the account, nil when there is no such account.
	ClientAndUser(ctx context.Context, clientID, userID string) (*Client, *User, error)
}

// SigningKey is a token signing key. The private part is encrypted by the caller
// before it is stored; the store never sees it in the clear.
type SigningKey struct {
	ID               string // the JWK kid
	Algorithm        string // RS256 or ES256
	PublicJWK        []byte // JSON of the public JWK
	PrivateEncrypted []byte // AES-GCM sealed private JWK
	CreatedAt        time.Time
	// ActiveFrom is when the key starts signing. It is later than CreatedAt so that
	// the key is published in JWKS before any token is signed with it.
	ActiveFrom time.Time
	// RetiredAt is when the key stopped signing (zero while active or pending).
	RetiredAt time.Time
	// ExpiresAt is when the key leaves JWKS (zero while it signs): RetiredAt plus the
	// longest lifetime of a token it signed.
	ExpiresAt time.Time
}

// SigningKeys stores signing keys.
type SigningKeys interface {
	// CreateSigningKey gives ErrConflict when the id is taken.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// ListSigningKeys returns every key ordered by ActiveFrom then ID.
	ListSigningKeys(ctx context.Context) ([]*SigningKey, error)
	// RetireSigningKey sets RetiredAt and ExpiresAt of a key; ErrNotFound when absent.
	RetireSigningKey(ctx context.Context, id string, retiredAt, expiresAt time.Time) error
	// DeleteExpiredSigningKeys removes keys whose ExpiresAt is set and before now.
	DeleteExpiredSigningKeys(ctx context.Context, now time.Time) error
}

// RefreshToken is one link of a rotation chain (a family). Only a hash of the token
// value is stored.
type RefreshToken struct {
	Hash     string // hex SHA-256 of the token value: the lookup key
	FamilyID string // shared by every token rotated from the same grant
	ClientID string
	UserID   string
	// SessionID is the sid of the IdP session the grant came from (empty for
	// tokens issued before sessions had ids): ending that session revokes it.
	SessionID string
	Scopes    []string
	Audience  []string
	AMR       []string
	AuthTime  time.Time
	CreatedAt time.Time
	// ExpiresAt is the family's absolute expiry; rotation does not extend it.
	ExpiresAt time.Time
	// IdleExpiresAt is when this token expires if it is not used.
	IdleExpiresAt time.Time
	// UsedAt is when it was rotated (zero while current). Presenting a used token is reuse.
	UsedAt time.Time
	// RevokedAt is set for every token of a revoked family.
	RevokedAt time.Time
}

// RefreshTokens stores refresh tokens.
type RefreshTokens interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// CreateRefreshTokenAndUser is CreateRefreshToken, and reads the token's
	// account (for the ID token issued with it) in the same round trip to a
	// database server: nil when there is no such account.
	CreateRefreshTokenAndUser(ctx context.Context, t *RefreshToken) (*User, error)
	// RefreshTokenByHash returns the token whether current, used or revoked; ErrNotFound when absent.
	RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	// RefreshTokenAndUser returns the token (as RefreshTokenByHash) and its user in one
	// read; ErrNotFound when either is absent.
	RefreshTokenAndUser(ctx context.Context, hash string) (*RefreshToken, *User, error)
	// ClientAndRefreshToken reads a client and a refresh token with its
	// account together (a refresh grant checks all three), in one round trip
	// to a database server: the client, or ErrNotFound when there is no such
	// client; the token and its account as RefreshTokenAndUser gives them,
	// both nil where it gives ErrNotFound.
	ClientAndRefreshToken(ctx context.Context, clientID, hash string) (*Client, *RefreshToken, *User, error)
	// RotateRefreshToken atomically marks oldHash used at now and inserts next. When oldHash
	// was already used or revoked it changes nothing and gives ErrConflict (reuse: the caller
	// revokes the family); ErrNotFound when oldHash does not exist.
	RotateRefreshToken(ctx context.Context, oldHash string, next *RefreshToken, now time.Time) error
	// RevokeRefreshFamily marks every token of the family revoked.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	// RevokeUserRefreshTokens marks every token of the user revoked (logout everywhere,
	// password change), optionally only those of one client when clientID is not empty.
	RevokeUserRefreshTokens(ctx context.Context, userID, clientID string, now time.Time) error
	// SessionClients returns the distinct (session, client) pairs of the user's refresh
	// tokens that are live at now (neither revoked nor past their absolute expiry) and
	// carry a session id, only those of sessionID when it is not empty: who must be
	// told when those sessions end (back-channel logout).
	SessionClients(ctx context.Context, userID, sessionID string, now time.Time) ([]SessionClient, error)
	// RevokeSessionRefreshTokens marks every token of the user's IdP session sessionID
	// revoked, whatever its client.
	RevokeSessionRefreshTokens(ctx context.Context, userID, sessionID string, now time.Time) error
	// PruneRefreshTokens deletes every token of each family none of whose tokens
	// can be used after cut: every token of it is past its absolute or idle
	// expiry by cut, whether used, revoked or current. A family with a token
	// still live at cut keeps all its tokens, used ones included, so that reuse
	// of a used token is still detected. It deletes in batches of
	// PruneRefreshBatch rows and returns how many rows it deleted.
	PruneRefreshTokens(ctx context.Context, cut time.Time) (int64, error)
}

// PruneRefreshBatch is how many rows one statement of PruneRefreshTokens
// deletes at most, so that a large backlog never holds a long lock.
const PruneRefreshBatch = 1000

// ErasedPseudonym is what the records of an erased account name it by: stable
// for the account, so its trail stays one trail, and not its id.
func ErasedPseudonym(userID string) string {
	sum := sha256.Sum256([]byte("erased account|" + userID))
	return "erased:" + hex.EncodeToString(sum[:8])
}

// SessionClient is a form app that holds tokens of one IdP session.
type SessionClient struct {
	SessionID string
	ClientID  string
}

// AuditEvent is one security-relevant action. Audit events are append-only.
type AuditEvent struct {
	ID       int64 // set by the store
	Time     time.Time
	Kind     string // e.g. "user.created", "login.failed", "refresh.reuse"
	UserID   string
	ClientID string
	IP       string
	Detail   string // never a code, password, token or secret
	// Operator is who did it on the person's or form app's behalf: an admin
	// command's operator ("cli:<name>"), a console operator (ConsoleOperator); empty for
	// what people and form apps do themselves and for the service's own work.
	Operator string
	// Reason is why an operator did it, as they gave it (the console's and
	// the admin commands' reason); empty for the rest.
	Reason string
}

// AuditFilter selects audit events; empty fields match everything.
type AuditFilter struct {
	UserID, ClientID, Kind, Operator string
	Since, Until                     time.Time // Since <= time < Until
	// Before pages on: only events older than this one (its Time and ID), as
	// the last event of the previous page.
	Before *AuditEvent
	Limit  int // <= 0 means 100
}

// Audit stores the audit log.
type Audit interface {
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns the newest events first; userID filters when not empty; limit <= 0 means 100.
	ListAudit(ctx context.Context, userID string, limit int) ([]*AuditEvent, error)
	// QueryAudit returns the events that match f, newest first (by time, then id).
	QueryAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)
	// PruneAudit deletes the events before cut (retention) and returns how many.
	PruneAudit(ctx context.Context, cut time.Time) (int64, error)
}

// Counters are durable fixed-window counters for limits that must survive a flush of
// the ephemeral store (send budgets that protect accounts and phone numbers). Windows
// are aligned to multiples of their length since the Unix epoch (a day window is a
// UTC day); the window before the current one is kept, so that a caller can weigh
// it (limits.Sliding), and older ones may be deleted.
type Counters interface {
	// Hit adds one to the counter key for the window containing now and returns the
	// count in that window including this hit.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
	// Count returns the count for the window containing now without adding to it.
	Count(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
	// Unhit takes back one hit from the counter key for the window containing now
	// (a message counted and then not sent); a counter at zero stays at zero.
	Unhit(ctx context.Context, key string, window time.Duration, now time.Time) error
	// AddMember adds member to the set named key for the window containing now,
	// unless it is there already, and returns its rank in that window's set: 1 for
	// the first distinct member, 2 for the second, and so on. A member keeps its
	// rank for the whole window, so a caller allowing ranks up to a limit lets the
	// first members through again and again, and never a later one. Concurrent
	// calls adding different members get different ranks. Sets are counted apart
	// from Hit's counters; only the current window's set is kept.
	AddMember(ctx context.Context, key, member string, window time.Duration, now time.Time) (int, error)
}

// CounterReads reads several Counters at once.
type CounterReads interface {
	// Counts returns Count of each key, in order, for the window containing now, in
	// one round trip to a database server.
	Counts(ctx context.Context, keys []string, window time.Duration, now time.Time) ([]int, error)
}

// ConsecutiveFailures are durable runs of consecutive failures per key, for limits
// that count failures until the next success rather than in a window (wrong
// one-time codes per destination and per account) and must survive a flush of the
// ephemeral store. The caller names the keys and decides what a run means.
type ConsecutiveFailures interface {
	// RecordFailure atomically adds one to key's run, notes at as its latest
	// failure, and returns the run's new length: concurrent failures each count.
	RecordFailure(ctx context.Context, key string, at time.Time) (int, error)
	// Failures returns the length of key's run and the time of its latest
	// failure; 0 and the zero time when key has none.
	Failures(ctx context.Context, key string) (n int, last time.Time, err error)
	// ResetFailures ends key's run (a success); a key with no run is not an error.
	ResetFailures(ctx context.Context, key string) error
}

// OutboxStatus is where an outgoing message is in its delivery.
type OutboxStatus string

const (
	OutboxQueued  OutboxStatus = "queued"  // waiting for its next attempt
	OutboxSending OutboxStatus = "sending" // claimed by a worker until its lease ends
	OutboxSent    OutboxStatus = "sent"    // handed to the relay; bodies cleared
	OutboxFailed  OutboxStatus = "failed"  // given up; bodies cleared
)

// OutboxMessage is one outgoing message (email today) waiting for or past delivery.
type OutboxMessage struct {
	ID        int64  // set by the store
	Channel   string // "email", or "backchannel_logout" (Recipient is then a client id)
	Recipient string
	Subject   string
	// Text and HTML are the bodies. They carry one-time codes, so they are never
	// logged, and the store clears them once the message is sent or has failed.
	Text, HTML string
	Status     OutboxStatus
	// Attempts counts claims, so a worker that crashed while sending uses one up.
	Attempts int
	// NextAttemptAt is when a queued message becomes due, or when the lease of a
	// sending one ends and another worker may take it over.
	NextAttemptAt time.Time
	CreatedAt     time.Time
	SentAt        time.Time // zero until sent
	LastError     string    // why the last attempt failed; never a body
}

// Outbox is the durable queue of outgoing messages (email, and back-channel logout
// notices to form apps), delivered at least once by workers in any number of server
// processes; each channel has its own workers.
//
// The changes that cause these messages (sign-up and password-reset journey steps)
// live in the ephemeral store, so there is no durable change to share a transaction
// with: the outbox row is itself the durable record that a message is owed, written
// before the journey tells the person to look for it. No combined
// "change plus enqueue" method is offered for that reason.
type Outbox interface {
	// EnqueueOutbox stores m as queued and sets m.ID and m.Status. CreatedAt defaults to
	// the current time and NextAttemptAt to CreatedAt; Attempts starts at zero.
	EnqueueOutbox(ctx context.Context, m *OutboxMessage) error
	// ClaimOutbox atomically takes up to limit messages of channel that are due at now (queued with
	// NextAttemptAt <= now, or sending with an expired lease), oldest due first: each
	// becomes sending with NextAttemptAt = now+lease and one more attempt. Two claimers,
	// in one process or several, never get the same message while its lease runs.
	ClaimOutbox(ctx context.Context, channel string, now time.Time, limit int, lease time.Duration) ([]*OutboxMessage, error)
	// MarkOutboxSent records delivery at now and clears the bodies. ErrNotFound when
	// there is no such message.
	MarkOutboxSent(ctx context.Context, id int64, now time.Time) error
	// MarkOutboxRetry puts the message back in the queue until nextAttempt.
	MarkOutboxRetry(ctx context.Context, id int64, nextAttempt time.Time, lastError string) error
	// MarkOutboxFailed gives up on the message and clears its bodies.
	MarkOutboxFailed(ctx context.Context, id int64, lastError string) error
	// ListOutbox returns messages newest first, only those with status when it is not
	// empty; limit <= 0 means 100.
	ListOutbox(ctx context.Context, status OutboxStatus, limit int) ([]*OutboxMessage, error)
}

// DailyCount is one durable count of a UTC day: the texts and calls the
// service tried to send, by form app, channel and outcome, and the sign-ins it
// completed, by form app (what the cost report is made of).
type DailyCount struct {
	Day      time.Time // midnight UTC of the day
	ClientID string    // the form app; "" when the journey had none (the account pages)
	Kind     string    // CountSignIn, or SendCountKind(channel, outcome)
	N        int64
}

// Kinds of daily count.
const (
	// CountSignIn: a sign-in completed, an authorization code issued to the form app.
	CountSignIn = "signin"
	// Outcomes of a text message or call (SendCountKind).
	SendSent    = "sent"    // accepted by the provider: it costs
	SendFailed  = "failed"  // the provider refused it or could not be reached
	SendRefused = "refused" // stopped before the provider by a limit or a number rule: no cost
)

// SendCountKind is the kind of daily count of texts or calls on channel
// ("sms", "voice") with outcome (SendSent, SendFailed, SendRefused), e.g. "sms.sent".
func SendCountKind(channel, outcome string) string { return channel + "." + outcome }

// DailyCounts are durable per-day counters, kept until deleted by hand: unlike
// Counters they are history, not limits.
type DailyCounts interface {
	// AddDailyCount adds n to the count of kind for clientID on the UTC day
	// containing at, in one atomic upsert: concurrent additions all count.
	AddDailyCount(ctx context.Context, at time.Time, clientID, kind string, n int64) error
	// DailyCounts returns the counts of the UTC days from the day containing
	// from to the day containing to, both included, ordered by day, client id
	// and kind. A zero from or to leaves that end open.
	DailyCounts(ctx context.Context, from, to time.Time) ([]DailyCount, error)
}

// DayOf is the UTC day containing t, as DailyCounts names it ("2006-01-02").
func DayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// AdminRole is one role an operator holds in the operators' console (idp/admin).
type AdminRole struct {
	UserID    string // the operator's account (users.id, their sub)
	Role      string // "support", "clients", "auditor" or "owner"
	GrantedBy string // who granted it, as audit events name operators ("cli:sam", "console:...")
	GrantedAt time.Time
}

// RoleOwner is the console role that grants and revokes roles (idp/admin):
// there is always someone who holds it, once it has been granted.
const RoleOwner = "owner"

// AdminRoles stores who may use the operators' console and for what.
type AdminRoles interface {
	// GrantRole records r; granted is false (and nothing changes) when the user
	// already holds the role. ErrNotFound when there is no account r.UserID.
	GrantRole(ctx context.Context, r *AdminRole) (granted bool, err error)
	// RevokeRole removes the role; revoked is false when the user did not hold it.
	// Revoking RoleOwner from the only user who holds it is ErrLastOwner, and
	// nothing changes: the check and the removal are one transaction, so two
	// owners revoking each other at once leave one of them an owner.
	RevokeRole(ctx context.Context, userID, role string) (revoked bool, err error)
	// RolesOf returns the roles the user holds, sorted; none (and no error) for
	// a user with none or no such user.
	RolesOf(ctx context.Context, userID string) ([]string, error)
	// ListRoles returns every role held, by user id then role.
	ListRoles(ctx context.Context) ([]*AdminRole, error)
}

// ConsoleOperator is how audit events (and AdminRole.GrantedBy) name an
// operator of the console: "console:" and their email address, with their
// account's id in brackets. EraseUser replaces it with the erased account's
// pseudonym (ConsoleOperatorSuffix finds it).
func ConsoleOperator(email, userID string) string {
	return "console:" + email + ConsoleOperatorSuffix(userID)
}

// ConsoleOperatorSuffix ends every ConsoleOperator name of the account userID.
func ConsoleOperatorSuffix(userID string) string { return " (" + userID + ")" }

// PendingPhone is a phone number a person proved and set themselves after
// losing their phone (the self-service route): it replaces the account's phone
// only from EffectiveAt, so the email announcing it reaches the account first.
type PendingPhone struct {
	UserID      string
	Phone       string // E.164
	PhoneType   string // factors/phone's Type
	RequestedAt time.Time
	EffectiveAt time.Time
}

// PendingPhones stores self-service phone changes waiting to take effect. Each
// change is written with the audit event and the email that record it, in one
// transaction: a change nobody was told of is never stored, and no email
// announces a change that was not stored.
type PendingPhones interface {
	// RequestPhoneChange stores p as the account's pending change, replacing an
	// earlier one, appends audit and enqueues notice (as EnqueueOutbox does).
	// ErrNotFound when the account does not exist.
	RequestPhoneChange(ctx context.Context, p *PendingPhone, notice *OutboxMessage, audit *AuditEvent) error
	// PendingPhoneChange returns the account's pending change; ErrNotFound when
	// there is none.
	PendingPhoneChange(ctx context.Context, userID string) (*PendingPhone, error)
	// ApplyPhoneChange makes the pending change p (as PendingPhoneChange
	// returned it) the account's verified phone, if it is still pending with
	// the same number and EffectiveAt is not after now: it removes it, sets
	// UpdatedAt to now, appends audit and enqueues notice. ErrNotFound when it
	// is not pending or not yet due; nothing is written then.
	ApplyPhoneChange(ctx context.Context, p *PendingPhone, now time.Time, notice *OutboxMessage, audit *AuditEvent) error
	// CancelPhoneChange removes the account's pending change and, when there
	// was one, appends audit; it reports whether there was one.
	CancelPhoneChange(ctx context.Context, userID string, audit *AuditEvent) (bool, error)
}

// Durable is the database: PostgreSQL in production, SQLite embedded.
type Durable interface {
	Users
	PendingPhones
	Clients
	SigningKeys
	RefreshTokens
	Audit
	Counters
	CounterReads
	DailyCounts
	ConsecutiveFailures
	Outbox
	AdminRoles
	// Migrate applies pending schema migrations.
	Migrate(ctx context.Context) error
	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// Ephemeral holds short-lived state (journeys, auth requests, authorization codes,
// sessions, rate-limit counters, the dev inbox): Redis in production, in-process
// embedded.
// Every record has a TTL and a version; versions start at 1 and grow by one per write.
type Ephemeral interface {
	// Create stores a new record with version 1; ErrConflict when the key exists.
	Create(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Get returns the value and its version; ErrNotFound when absent or expired.
	Get(ctx context.Context, key string) (value []byte, version int64, err error)
	// GetMany returns the values of keys in one round trip, in order, with nil for
	// a key that is absent or expired (a present empty value is non-nil).
	GetMany(ctx context.Context, keys ...string) ([][]byte, error)
	// CompareAndSet replaces the value if its version is still version, resets the TTL,
	// and returns the new version. ErrConflict when the version moved on; ErrNotFound
	// when the record is absent or expired.
	CompareAndSet(ctx context.Context, key string, version int64, value []byte, ttl time.Duration) (int64, error)
	// Put stores the value whatever is there (version becomes the old one plus one, or 1).
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Take atomically gets and deletes: of two concurrent Takes only one gets the value,
	// the other gets ErrNotFound.
	Take(ctx context.Context, key string) ([]byte, error)
	// Delete removes the key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds one to a counter and returns the new value. The TTL is set when the
	// counter is created and not extended by later increments (a fixed window).
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// PushCapped puts value at the head of the list at key (creating it; a value
	// already in the list moves to the head, so each value is listed once), keeps only
	// the newest max values and returns the ones it dropped, and sets the list's TTL:
	// a list lives until ttl after its last push. max and ttl must be positive. A list
	// is a key of its own kind, like a record or a counter (Delete removes it).
	PushCapped(ctx context.Context, key string, value []byte, max int, ttl time.Duration) (dropped [][]byte, err error)
	// List returns the values of the list at key, newest first; none (and no error)
	// when it is absent or expired.
	List(ctx context.Context, key string) ([][]byte, error)
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// DecideImport is the rule of Users.ImportUsers for one user u of a batch, given the
// account with u's ID (byID) and the account with u's email in any case (byEmail),
// each nil when there is none. Both backends apply it, so they agree.
func DecideImport(u, byID, byEmail *User) ImportOutcome {
	if byID != nil {
		if !byID.AwaitingMigration() {
			return ImportExists
		}
		if byID.GivenName == u.GivenName && byID.FamilyName == u.FamilyName &&
			byID.Phone == u.Phone && byID.PhoneType == u.PhoneType &&
			byID.PhoneVerified == u.PhoneVerified && byID.Status == u.Status {
			return ImportUnchanged
		}
		return ImportUpdated
	}
	if byEmail != nil {
		return ImportExists
	}
	return ImportCreated
}

// ApplyImportUpdate copies onto existing the fields an import may update
// (ImportUpdated), and sets UpdatedAt.
func ApplyImportUpdate(existing, u *User, now time.Time) {
	existing.GivenName, existing.FamilyName = u.GivenName, u.FamilyName
	existing.Phone, existing.PhoneType, existing.PhoneVerified = u.Phone, u.PhoneType, u.PhoneVerified
	existing.Status = u.Status
	existing.UpdatedAt = now
}

// ImportAuditDetail is the Detail of the ImportAuditKind event of an account created
// by an import: its source and the source's id (the B2C object id).
func ImportAuditDetail(u *User) string {
	return "source=" + u.ImportedFrom + " source_id=" + u.ID
}
