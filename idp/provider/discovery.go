package provider

// Discovery and JWKS: documents encoded once and served as they are.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

var supportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess}

var supportedClaims = []string{
	"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash", "client_id", "sid",
	"name", "given_name", "family_name", "locale", "email", "email_verified", "phone_number", "phone_number_verified",
}

// pageLocales are the languages of the pages (ui_locales_supported): English
// and Welsh.
var pageLocales = []language.Tag{language.English, language.MustParse("cy")}

// discovery serves the discovery document, narrowed to what this provider
// actually supports (the library advertises more by default). It is encoded
// once per issuer: the rest comes from the configuration and the signing
// algorithms, which are fixed while the process runs.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	issuer := op.IssuerFromContext(r.Context())
	doc := p.discoveryDoc.Load()
	if doc == nil || doc.issuer != issuer {
		body, err := p.encodeDiscovery(r.Context())
		if err != nil {
			p.log.ErrorContext(r.Context(), "discovery: encode", "err", err)
			http.Error(w, "discovery unavailable", http.StatusInternalServerError)
			return
		}
		doc = &encodedDocument{issuer: issuer, body: body}
		p.discoveryDoc.Store(doc)
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc.body)
}

func (p *Provider) encodeDiscovery(ctx context.Context) ([]byte, error) {
	cfg := op.CreateDiscoveryConfig(ctx, p.op, p.storage)
	cfg.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	cfg.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	cfg.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	cfg.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	cfg.TokenEndpointAuthSigningAlgValuesSupported = nil
	cfg.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	cfg.IntrospectionEndpointAuthSigningAlgValuesSupported = nil
	cfg.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	cfg.RevocationEndpointAuthSigningAlgValuesSupported = nil
	cfg.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	cfg.ACRValuesSupported = []string{ACRMultiFactor, ACRSingleFactor}
	cfg.RequestParameterSupported = false
	cfg.RequestURIParameterSupported = false
	doc, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if err := json.Unmarshal(doc, &fields); err != nil {
		return nil, err
	}
	// RFC 9207: every authorization response names the issuer, so a form app
	// talking to several providers cannot be fooled into mixing them up.
	fields["authorization_response_iss_parameter_supported"] = true
	// Back-Channel Logout 1.0: form apps that register a back-channel logout
	// URI are told when a session ends, with sid in the logout token and in
	// every ID token (backchannel.go).
	fields["backchannel_logout_supported"] = true
	fields["backchannel_logout_session_supported"] = true
	// The library advertises a device authorization endpoint this provider
	// does not serve.
	delete(fields, "device_authorization_endpoint")
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(fields); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jwks serves the published keys as the library's /keys handler does.
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	body, err := p.keys.jwksJSON(r.Context())
	if err != nil {
		p.log.ErrorContext(r.Context(), "jwks: load keys", "err", err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("{}\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}
