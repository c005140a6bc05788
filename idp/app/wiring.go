package app

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync/atomic"

	"github.com/councilforms/idp/factors/b2c"
	"github.com/councilforms/idp/factors/dev"
	"github.com/councilforms/idp/factors/messages"
	"github.com/councilforms/idp/factors/otp"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/admin"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/journey"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/web"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/ui"
	"github.com/councilforms/idp/ui/locale"
)

// DemoFormAppURL is where the demo form app (cmd/formapp) listens by default; embedded
// mode registers it as a client.
const DemoFormAppURL = "http://localhost:8081"

// parts are the services the routes mount, built once by Open.
type parts struct {
	// fileClients and builtInClients are the static clients (the clients
	// file's; the console's and the demo form app's), listed read-only by the
	// console; clientSecrets hashes new client secrets.
	fileClients, builtInClients []*store.Client
	clientSecrets               *provider.ClientSecrets
	pages                       *ui.Templates
	provider                    *provider.Provider
	web                         *web.Handler
	delivery                    *Delivery
}

// late holds what the login pages provide to the provider, built before them
// (its continue step serves the pages' first response): it is set once the
// pages exist, before anything is served. It is the one late binding left:
// the pages need the provider, and the provider's continue step the pages.
type late[T any] struct{ v atomic.Pointer[T] }

func (l *late[T]) set(v T) { l.v.Store(&v) }

func (l *late[T]) get() (T, bool) {
	if p := l.v.Load(); p != nil {
		return *p, true
	}
	var zero T
	return zero, false
}

// lateHandler forwards requests to the login pages.
type lateHandler struct{ late[http.Handler] }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := l.get()
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

// build makes the pages, the OpenID Connect provider, the journeys and the message
// delivery the configuration asks for.
func (a *App) build(ctx context.Context, o options) (*parts, error) {
	cfg := a.Config
	// A public service must link its privacy notice and accessibility statement
	// (UK GDPR articles 13 and 14; the Public Sector Bodies Accessibility
	// Regulations 2018): the footer then shows built-in pages that say to ask.
	if !cfg.Dev {
		if cfg.PrivacyURL == "" {
			a.Log.Warn("IDP_PRIVACY_URL is not set: the footer's 'Privacy' link shows a page saying to ask the council for its privacy notice")
		}
		if cfg.AccessibilityURL == "" {
			a.Log.Warn("IDP_ACCESSIBILITY_URL is not set: the footer's 'Accessibility statement' link shows a page saying to ask the council for it")
		}
	}
	// A logo given by its address is fetched once, here; without it the header
	// shows the organisation's name, as with no logo, so a council's website
	// being down does not keep the sign-in pages down.
	logo, err := cfg.Logo.Fetch(ctx, &http.Client{})
	if err != nil {
		a.Log.Error("the logo could not be fetched: the header shows the organisation's name instead", "err", err)
	}
	pages, err := ui.New(ui.Options{OrgName: cfg.OrgName, Dev: cfg.Dev, Logger: a.Log,
		HeaderColour: cfg.HeaderColour, Logo: logo.Data, LogoType: logo.ContentType,
		Contact: ui.Contact{Phone: cfg.ContactPhone, Email: cfg.ContactEmail, Hours: cfg.ContactHours, Text: cfg.ContactText,
			TextWelsh: cfg.ContactTextWelsh, HoursWelsh: cfg.ContactHoursWelsh},
		PrivacyURL: cfg.PrivacyURL, AccessibilityURL: cfg.AccessibilityURL})
	if err != nil {
		return nil, fmt.Errorf("page templates: %w", err)
	}
	hasher := password.NewHasher(password.DefaultParams, hashSlots)
	if reg := a.Metrics.Registry(); reg != nil {
		if err := hasher.Instrument(reg); err != nil {
			return nil, err
		}
	}

	clientSecrets, err := provider.NewClientSecrets(a.KeyEncryptionKey)
	if err != nil {
		return nil, err
	}
	var static []*store.Client
	if cfg.ClientsFile != "" {
		static, err = provider.LoadClientsFile(cfg.ClientsFile, os.Getenv, clientSecrets)
		if err != nil {
			return nil, fmt.Errorf("IDP_CLIENTS_FILE: %w", err)
		}
	}
	for _, c := range static {
		if c.ID == admin.ClientID {
			return nil, fmt.Errorf("IDP_CLIENTS_FILE: the client id %q is the operators' console's own: choose another", admin.ClientID)
		}
	}
	fileClients := static
	var builtIn []*store.Client
	if cfg.AdminURL != "" {
		// The operators' console signs in as a client of this idp.
		builtIn = append(builtIn, admin.Client(cfg.AdminURL, clientSecrets.Hash(admin.ClientSecret(a.KeyEncryptionKey))))
	}
	if cfg.Embedded() {
		demo := DemoFormAppURL
		if o.demoURL != "" {
			demo = o.demoURL
		}
		builtIn = append(builtIn, provider.DemoClient(demo))
	}
	static = append(slices.Clip(static), builtIn...)
	// The continue step serves the pages' first response itself (one redirect
	// fewer); the pages are built after the provider they use.
	login := &lateHandler{}
	p, err := provider.New(provider.Config{
		Issuer:              cfg.Issuer,
		KeyEncryptionKey:    a.KeyEncryptionKey,
		SigningAlgorithm:    cfg.SigningAlg,
		AccessTokenTTL:      cfg.AccessTokenTTL,
		IDTokenTTL:          cfg.IDTokenTTL,
		RefreshTokenTTL:     cfg.RefreshTokenTTL,
		RefreshTokenIdleTTL: cfg.RefreshTokenIdleTTL,
		SessionTTL:          cfg.SessionTTL,
		BackchannelRetryMax: cfg.BackchannelRetryMax,
		Registerer:          a.Metrics.Registry(),
		SessionIdleTTL:      cfg.SessionIdleTTL,
		LoginPath:           web.PathLogin,
		Login:               login,
		StaticClients:       static,
		// Client secrets registered before HMAC-SHA-256 were argon2id hashes.
		LegacySecretVerifier: hasher,
		TrustedProxies:       cfg.TrustedProxies,
		// The provider writes its pages' words in English; the catalogue has
		// each (provider.*) in every language.
		ErrorPage: func(w http.ResponseWriter, r *http.Request, status int, title, message string) {
			lang := web.RequestLang(r)
			pages.Render(w, status, ui.PageMessage, ui.MessagePage{Page: ui.Page{Lang: lang, Title: ui.Translate(lang, title)},
				Paragraphs: []string{ui.Translate(lang, message)}})
		},
		// The setting's 0s (off) is the provider's negative; its zero is the default.
		RefreshReuseInterval: cmp.Or(cfg.RefreshTokenReuseInterval, -1),
	}, a.Durable, a.Ephemeral, a.Log)
	if err != nil {
		return nil, err
	}

	machine, err := journey.New(a.policy(), otp.NewHasher(derive(a.KeyEncryptionKey, "one-time codes")))
	if err != nil {
		return nil, err
	}
	catalogue, err := messages.New(cfg.OrgName)
	if err != nil {
		return nil, fmt.Errorf("message templates: %w", err)
	}
	// The records of calls in flight come first: the senders report outcomes
	// to them (the voice webhook, the dev call simulator) and the pages read them.
	calls := web.NewCalls(a.Ephemeral, machine.Policy())
	delivery, err := OpenDelivery(ctx, cfg, a.Durable, a.Ephemeral, a.Metrics.Registry(), calls, a.Log)
	if err != nil {
		return nil, err
	}
	if o.now != nil {
		delivery.setClock(o.now)
	}
	ropc, err := b2cPasswords(cfg, a)
	if err != nil {
		return nil, err
	}
	pagesHandler, err := web.New(web.Config{
		JourneyTTL: cfg.JourneyTTL, ResumeIdle: cfg.JourneyResumeIdle, TrustedProxies: cfg.TrustedProxies,
		CallPoll: o.callPoll,
		OrgName:  cfg.OrgName, PrivacyURL: cfg.PrivacyURL, AccessibilityURL: cfg.AccessibilityURL,
		DeviceKey:  derive(a.KeyEncryptionKey, "device cookies"),
		CounterKey: derive(a.KeyEncryptionKey, "counter keys"),
		Passwords:  passwordRules(cfg),
		Sends:      cfg.Sends(),
	}, web.Deps{
		Provider:  p,
		Store:     a.Durable,
		Ephemeral: a.Ephemeral,
		Machine:   machine,
		Pages:     pages,
		Passwords: hasher,
		Messages:  catalogue,
		Email:     delivery.Email,
		SMS:       delivery.SMS,
		Caller:    delivery.Caller,
		Calls:     calls,
		B2C:       ropc,
		Log:       a.Log,
		Metrics:   a.Metrics.Registry(),
		Now:       o.now,
	})
	if err != nil {
		return nil, err
	}
	login.set(pagesHandler)
	return &parts{pages: pages, provider: p, web: pagesHandler, delivery: delivery,
		fileClients: fileClients, builtInClients: builtIn, clientSecrets: clientSecrets}, nil
}

// policy is the journeys' rules under this configuration.
func (a *App) policy() journey.Policy {
	cfg := a.Config
	p := journey.DefaultPolicy()
	p.PhoneConfirmTwice = cfg.PhoneConfirmTwice
	p.PhoneRecovery, p.PhoneRecoveryWait = cfg.PhoneRecovery, cfg.PhoneRecoveryWait
	p.ContactText = cfg.ContactText
	p.Phone = phoneRules(cfg)
	p.NewPasswordRule = password.Check
	p.FormatTime = ui.FormatTime
	return p
}

// phoneRules are the numbers this configuration accepts, at enrolment and again
// before every text and call.
func phoneRules(cfg *config.Config) phone.Rules {
	return phone.Rules{Countries: cfg.PhoneCountries, DevRanges: cfg.Dev}
}

// derive gives a key for one purpose from the key-encryption key, so that one
// secret shared by every server process keys everything that must agree.
// passwordRules are the default wrong-password rules with the configured network limits.
func passwordRules(cfg *config.Config) limits.Passwords {
	p := limits.DefaultPasswords()
	p.NetworkRefuseAfter, p.NetworkSlowAfter = cfg.PasswordNetworkLimit, cfg.PasswordNetworkSlowdown
	return p
}

func derive(kek []byte, purpose string) []byte {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("councilforms idp: " + purpose))
	return m.Sum(nil)
}

// devInboxPage renders the dev inbox with the site's templates.
func devInboxPage(pages *ui.Templates) dev.RenderFunc {
	return func(w http.ResponseWriter, r *http.Request, items []dev.Item) {
		out := make([]ui.DevItem, 0, len(items))
		for _, it := range items {
			out = append(out, ui.DevItem{ID: it.ID, Channel: string(it.Channel), To: it.To, Subject: it.Subject,
				Body: it.Body, Code: it.Code, CreatedAt: it.CreatedAt, CallPending: it.CallPending})
		}
		w.Header().Set("Cache-Control", "no-store")
		pages.Render(w, http.StatusOK, ui.PageDevInbox, ui.DevInboxPage{Page: ui.Page{Lang: web.RequestLang(r)}, Items: out})
	}
}

// b2cPasswords is the Azure AD B2C ROPC user flow that checks the first password
// of accounts imported from B2C, or nil without IDP_B2C_ROPC_URL (they set a new
// password at their first sign-in).
func b2cPasswords(cfg *config.Config, a *App) (web.B2CPasswords, error) {
	if cfg.B2CROPCURL == "" {
		return nil, nil
	}
	c, err := b2c.New(b2c.Config{TokenURL: cfg.B2CROPCURL, ClientID: cfg.B2CROPCClientID, Timeout: cfg.B2CROPCTimeout, Log: a.Log})
	if err != nil {
		return nil, fmt.Errorf("IDP_B2C_ROPC_URL: %w", err)
	}
	a.Log.Info("accounts imported from Azure AD B2C are checked by its ROPC user flow at their first sign-in", "url", cfg.B2CROPCURL)
	return c, nil
}

// ContactTextWelsh is the council's contact text for a person who reads
// Welsh: IDP_CONTACT_TEXT_CY, else the catalogue's Welsh of the built-in
// IDP_CONTACT_TEXT, else the English as it is (the support notices'; the
// pages use ui.Contact.In).
func ContactTextWelsh(cfg *config.Config) string {
	return ui.Contact{Text: cfg.ContactText, TextWelsh: cfg.ContactTextWelsh}.In(locale.Welsh).Text
}
