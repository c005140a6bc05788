package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// LogoutQuestionPath is the page of the login pages (idp/web) that asks
// "Do you want to sign out?" and posts the answer back (SignOut).
const LogoutQuestionPath = "/logout"

// maxEndSessionBody bounds a form POST to /end_session: an ID token and three
// short parameters fit many times over.
const maxEndSessionBody = 64 << 10

// ErrBadLogout is a logout request whose parameters are malformed or name an
// unknown client or an unregistered post-logout URI.
var ErrBadLogout = errors.New("provider: invalid logout request")

const (
	logoutErrorTitle   = "You could not be signed out"
	logoutErrorMessage = "The service that sent you here asked to sign you out in a way this account service does not accept. Close your browser to end your session."
)

// endSession serves /end_session (RP-Initiated Logout 1.0). It ends the
// session at once, through the library, only for a valid id_token_hint that
// names the person signed in to this browser, or, when the request carries no
// session cookie (a cross-site form POST sends no SameSite=Lax cookie), the
// session whose sid the hint carries. Without a hint, or with another
// person's hint, it sends the person to the question page, which ends the
// session only when they choose 'Sign out' (section 2: the OP asks).
// Malformed requests get a 400 page, not the library's 500.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := p.parseEndSession(w, r)
	if err != nil {
		p.badLogout(w, r, err)
		return
	}
	if req.IdTokenHint != "" {
		claims, err := op.VerifyIDTokenHint[*oidc.IDTokenClaims](ctx, req.IdTokenHint, p.op.IDTokenHintVerifier(ctx))
		if err != nil && !errors.As(err, &op.IDTokenHintExpiredError{}) {
			p.badLogout(w, r, err)
			return
		}
		if _, cerr := r.Cookie(SessionCookie); cerr == nil {
			sess, err := p.browserSession(ctx, r)
			if err != nil {
				p.log.ErrorContext(ctx, "end session: load session", "err", err)
				dependencyFailed(ctx, err) // the outage page, not the bad-logout one
				p.cfg.ErrorPage(w, r, http.StatusServiceUnavailable, "Sorry, there is a problem with the service", "Try again in a few minutes.")
				return
			}
			if sess == nil || sess.UserID == claims.GetSubject() {
				// The hint's own session, or none left to end in this
				// browser: the library revokes and redirects as before.
				p.op.ServeHTTP(w, r)
				return
			}
		} else if claims != nil && claims.SessionID != "" {
			// No cookie (a cross-site form POST sends no SameSite=Lax
			// cookie): the hint names the session to end, and the form app
			// proves with it that it was given tokens of that session.
			p.op.ServeHTTP(w, r)
			return
		}
	}
	session, err := op.ValidateEndSessionRequest(ctx, req, p.op)
	if err != nil {
		p.badLogout(w, r, err)
		return
	}
	q := url.Values{}
	if session.ClientID != "" {
		q.Set("client_id", session.ClientID)
		if req.PostLogoutRedirectURI != "" {
			q.Set("post_logout_redirect_uri", req.PostLogoutRedirectURI)
		}
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	to := LogoutQuestionPath
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	p.Redirect(w, r, to)
}

// parseEndSession reads the parameters of an end-session request and checks
// that a client_id, if given, names a registered client.
func (p *Provider) parseEndSession(w http.ResponseWriter, r *http.Request) (*oidc.EndSessionRequest, error) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxEndSessionBody)
	}
	if err := r.ParseForm(); err != nil {
		return nil, errors.Join(ErrBadLogout, err)
	}
	req := new(oidc.EndSessionRequest)
	if err := p.op.Decoder().Decode(req, r.Form); err != nil {
		return nil, errors.Join(ErrBadLogout, err)
	}
	if req.ClientID != "" {
		if err := p.knownClient(r.Context(), req.ClientID); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func (p *Provider) knownClient(ctx context.Context, clientID string) error {
	if _, err := p.storage.GetClientByClientID(ctx, clientID); err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
			return err
		}
		return errors.Join(ErrBadLogout, err)
	}
	return nil
}

// badLogout answers a logout request that cannot be served: 400 for the
// request's fault, 503 for a dependency that failed.
func (p *Provider) badLogout(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Cache-Control", "no-store")
	var oe *oidc.Error
	if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
		p.log.ErrorContext(r.Context(), "end session failed", "err", err)
		dependencyFailed(r.Context(), err)
		p.cfg.ErrorPage(w, r, http.StatusServiceUnavailable, "Sorry, there is a problem with the service", "Try again in a few minutes.")
		return
	}
	p.log.InfoContext(r.Context(), "logout request refused", "path", r.URL.Path, "detail", truncate(err.Error(), 300))
	p.cfg.ErrorPage(w, r, http.StatusBadRequest, logoutErrorTitle, logoutErrorMessage)
}

// LogoutRequest is a sign-out the person is asked to confirm on the question
// page: the form app that asked (if any), where to go afterwards, and where
// 'Cancel' leads.
type LogoutRequest struct {
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
	// Redirect is where the browser goes once signed out: the post-logout URI
	// with state, or the "You have signed out" page.
	Redirect string
	// Cancel is the post-logout URI (with state) when one was given and is
	// registered for the client; empty otherwise.
	Cancel string
}

// LogoutRequest reads and checks the question page's parameters (client_id,
// post_logout_redirect_uri, state, from the query or the posted form). An
// unknown client or unregistered URI is ErrBadLogout.
func (p *Provider) LogoutRequest(r *http.Request) (*LogoutRequest, error) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		return nil, errors.Join(ErrBadLogout, err)
	}
	req := &oidc.EndSessionRequest{
		ClientID:              r.Form.Get("client_id"),
		PostLogoutRedirectURI: r.Form.Get("post_logout_redirect_uri"),
		State:                 r.Form.Get("state"),
	}
	if req.ClientID != "" {
		if err := p.knownClient(ctx, req.ClientID); err != nil {
			return nil, err
		}
	}
	session, err := op.ValidateEndSessionRequest(ctx, req, p.op)
	if err != nil {
		var oe *oidc.Error
		if errors.As(err, &oe) && oe.ErrorType == oidc.ServerError {
			return nil, err
		}
		return nil, errors.Join(ErrBadLogout, err)
	}
	lr := &LogoutRequest{ClientID: session.ClientID, State: req.State, Redirect: session.RedirectURI}
	if session.ClientID != "" && req.PostLogoutRedirectURI != "" {
		lr.PostLogoutRedirectURI = req.PostLogoutRedirectURI
		lr.Cancel = session.RedirectURI
	}
	return lr, nil
}

// SignOut ends this browser's IdP session after the person chose 'Sign out',
// revokes their tokens for the client that asked, and returns where to send
// the browser (lr.Redirect).
func (p *Provider) SignOut(w http.ResponseWriter, r *http.Request, lr *LogoutRequest) (string, error) {
	ctx := context.WithValue(r.Context(), httpContextKey{}, &httpContext{w: w, r: r})
	return p.storage.TerminateSessionFromRequest(ctx, &op.EndSessionRequest{ClientID: lr.ClientID, RedirectURI: lr.Redirect})
}
