package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/outbox"
)

// OpenID Connect Back-Channel Logout 1.0: when an IdP session ends, every
// form app that was given tokens in it and registered a back-channel logout
// URI is sent a logout token, server to server. The notice (who, which
// session, which form app) is queued in the durable outbox when the session
// ends (sessions.go); the outbox worker of any server process delivers it,
// signing a fresh logout token at each attempt, and retries a form app that
// is down: after a second, then waiting twice as long each time up to
// Config.BackchannelRetryMax, for a day.

// ChannelBackchannelLogout is the outbox channel of logout notices; the
// message's recipient is the client id.
const ChannelBackchannelLogout = "backchannel_logout"

// backchannelLogoutEvent is the event a logout token carries (section 2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenTTL is how long a logout token is valid after it is signed:
// long enough for clock skew, short enough that a captured one is useless.
const logoutTokenTTL = 2 * time.Minute

// logoutSendTimeout bounds one delivery to a form app.
const logoutSendTimeout = 10 * time.Second

// logoutNotice is the outbox message's body: what the logout token will say.
type logoutNotice struct {
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
}

// queueLogouts queues a logout notice of session sid for each of clientIDs
// that has a back-channel logout URI, and returns how many it queued.
func (p *Provider) queueLogouts(ctx context.Context, userID, sid string, clientIDs []string) (int, error) {
	told := 0
	for _, id := range clientIDs {
		c, err := p.client(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // removed since: nobody to tell
		}
		if err != nil {
			return told, err
		}
		if c.BackchannelLogoutURI == "" {
			continue
		}
		if err := enqueueLogout(ctx, p.db, id, userID, sid, p.now()); err != nil {
			return told, err
		}
		told++
	}
	if told > 0 && p.logouts != nil {
		p.logouts.Wake()
	}
	return told, nil
}

func enqueueLogout(ctx context.Context, db store.Outbox, clientID, userID, sid string, now time.Time) error {
	body, err := json.Marshal(logoutNotice{Subject: userID, SessionID: sid})
	if err != nil {
		return fmt.Errorf("provider: encode logout notice: %w", err)
	}
	m := &store.OutboxMessage{Channel: ChannelBackchannelLogout, Recipient: clientID, Subject: "Back-channel logout",
		Text: string(body), CreatedAt: now.UTC()}
	if err := db.EnqueueOutbox(ctx, m); err != nil {
		return fmt.Errorf("provider: queue logout notice for %s: %w", clientID, err)
	}
	return nil
}

// ChannelEndSessions is the outbox channel of requests to end every session of
// a person (the message's recipient is the user id), made by admin commands
// that have no running provider to do it themselves (idp users disable,
// idp users end-sessions): any server process takes the request, ends the
// sessions in every browser, revokes the person's tokens at every form app and
// queues their back-channel logout notices, as a password reset does.
const ChannelEndSessions = "end_sessions"

// QueueEndSessions asks the running servers to end every session of userID
// (see ChannelEndSessions). It is durable: a server that is not running yet
// does it when it starts.
func QueueEndSessions(ctx context.Context, db store.Outbox, userID string, now time.Time) error {
	m := &store.OutboxMessage{Channel: ChannelEndSessions, Recipient: userID, Subject: "End every session", CreatedAt: now.UTC()}
	if err := db.EnqueueOutbox(ctx, m); err != nil {
		return fmt.Errorf("provider: queue the end of %s's sessions: %w", userID, err)
	}
	return nil
}

// newLogoutWorker makes the outbox worker of the logout channel.
func (p *Provider) newLogoutWorker(reg prometheus.Registerer) (*outbox.Worker, error) {
	p.logoutHTTP = &http.Client{
		// A logout URI that redirects is not followed: the notice is for
		// the registered URI only.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return outbox.New(outbox.Config{
		Store: p.db, Channel: ChannelBackchannelLogout, Provider: "backchannel", Jobs: true,
		Deliver:   p.deliverLogout,
		Recipient: func(m *store.OutboxMessage) string { return m.Recipient }, // a client id, not personal
		Tuning: outbox.Tuning{
			SendTimeout: logoutSendTimeout, Lease: time.Minute,
			MinBackoff: time.Second, MaxBackoff: p.cfg.BackchannelRetryMax, GiveUpAfter: 24 * time.Hour,
		},
		Logger: p.log, Registerer: reg, Now: p.now,
	})
}

// QueueErasure asks the running servers to end every session of userID, whose
// personal data an admin command has just erased (store.Durable.EraseUser):
// the request keeps the id until a server takes it, then the server erases
// again, which leaves only pseudonym (the request's body) in the outbox.
func QueueErasure(ctx context.Context, db store.Outbox, userID, pseudonym string, now time.Time) error {
	m := &store.OutboxMessage{Channel: ChannelEndSessions, Recipient: userID, Subject: "End every session of an erased account",
		Text: pseudonym, CreatedAt: now.UTC()}
	if err := db.EnqueueOutbox(ctx, m); err != nil {
		return fmt.Errorf("provider: queue the end of an erased account's sessions: %w", err)
	}
	return nil
}

// newEndSessionsWorker makes the outbox worker that carries out admin
// commands' requests to end a person's sessions.
func (p *Provider) newEndSessionsWorker(reg prometheus.Registerer) (*outbox.Worker, error) {
	return outbox.New(outbox.Config{
		Store: p.db, Channel: ChannelEndSessions, Provider: "provider", Jobs: true,
		Deliver: func(ctx context.Context, m *store.OutboxMessage) error {
			if m.Recipient == "" {
				return fmt.Errorf("%w: no user id", outbox.ErrPermanent)
			}
			if err := p.RevokeUserTokens(ctx, m.Recipient); err != nil {
				return err
			}
			if pseudonym := m.Text; pseudonym != "" { // an erased account
				if _, err := p.db.EraseUser(ctx, m.Recipient, "", pseudonym); err != nil {
					return err
				}
			}
			return nil
		},
		Recipient: func(m *store.OutboxMessage) string { return m.Recipient }, // an opaque user id
		Tuning:    outbox.Tuning{MinBackoff: time.Second, MaxBackoff: time.Minute},
		Logger:    p.log, Registerer: reg, Now: p.now,
	})
}

// RunLogoutDelivery delivers back-channel logout notices and carries out admin
// commands' requests to end sessions, until ctx ends; run it once in every
// server process.
func (p *Provider) RunLogoutDelivery(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- p.sessionEnds.Run(ctx) }()
	return errors.Join(p.logouts.Run(ctx), <-done)
}

// deliverLogout sends one notice: a fresh logout token, POSTed to the form
// app's back-channel logout URI, which must answer 200 (or 204).
func (p *Provider) deliverLogout(ctx context.Context, m *store.OutboxMessage) error {
	var n logoutNotice
	if err := json.Unmarshal([]byte(m.Text), &n); err != nil || n.Subject == "" {
		return fmt.Errorf("%w: malformed logout notice", outbox.ErrPermanent)
	}
	c, err := p.client(ctx, m.Recipient)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: the form app is no longer registered", outbox.ErrPermanent)
	}
	if err != nil {
		return err
	}
	if c.BackchannelLogoutURI == "" {
		return nil // registered without one since (or queued by an admin command): nothing owed
	}
	token, err := p.logoutToken(ctx, c, n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrPermanent, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := p.logoutHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("back-channel logout to %s: %w", c.ID, redactURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
	res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("back-channel logout to %s: the form app answered %s", c.ID, res.Status)
	}
	return nil
}

// redactURLError drops the request details a *url.Error repeats (the URI is
// the client's registration, not a secret, but the body never appears).
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// logoutToken signs a logout token (section 2.4) for client c: iss, aud, iat,
// exp, jti, sub, sid and the back-channel logout event, never a nonce, with
// the explicit type logout+jwt (RFC 8725 section 3.11).
func (p *Provider) logoutToken(ctx context.Context, c *store.Client, n logoutNotice) (string, error) {
	// Signed like the client's ID tokens, with the algorithm it registered.
	key, err := p.signingKeyFor(ctx, clientSigningAlg(c))
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", fmt.Errorf("provider: logout token signer: %w", err)
	}
	now := p.now()
	claims := map[string]any{
		"iss": p.cfg.Issuer, "aud": c.ID, "iat": now.Unix(), "exp": now.Add(logoutTokenTTL).Unix(),
		"jti": randomID(16), "sub": n.Subject,
		"events": map[string]any{backchannelLogoutEvent: map[string]any{}},
	}
	if n.SessionID != "" {
		claims["sid"] = n.SessionID
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("provider: encode logout token: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("provider: sign logout token: %w", err)
	}
	return jws.CompactSerialize()
}
