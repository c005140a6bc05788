package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // bytes 0..31

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Addr: "localhost:8080", MetricsAddr: "localhost:9090", AdminAddr: "localhost:8082", AdminURL: "http://localhost:8082", AdminIdleTimeout: 30 * time.Minute, Issuer: "http://localhost:8080",
		DatabaseURL: "sqlite:./data/idp.db", DatabaseKind: DatabaseSQLite, SQLitePath: "./data/idp.db", RedisPrefix: "idp:",
		Dev: true, OrgName: "Norfolk County Council", LogFormat: "text", LogLevel: slog.LevelInfo,
		PhoneConfirmTwice: true, SigningAlg: "RS256",
		AccessTokenTTL: 15 * time.Minute, IDTokenTTL: 15 * time.Minute,
		RefreshTokenTTL: 720 * time.Hour, RefreshTokenIdleTTL: 72 * time.Hour, RefreshTokenReuseInterval: 30 * time.Second,
		SessionTTL: 8 * time.Hour, SessionIdleTTL: 30 * time.Minute, BackchannelRetryMax: time.Minute, AuditRetention: 400 * 24 * time.Hour, PhoneRecoveryWait: 72 * time.Hour, JourneyTTL: time.Hour, JourneyResumeIdle: 10 * time.Minute, ShutdownDrain: 5 * time.Second,
		VonageRestURL: "https://rest.nexmo.com", VonageAPIURL: "https://api.nexmo.com",
		PhoneCountries: []string{"GB", "GG", "IM", "JE"}, SendDailyCeiling: 10000, SendCeilingVerifiedShare: 80,
		SendPerRecipient: 10, SendPerRecipientDay: 20, SendPerClient: 200, EnrolNumbersPerDay: 3, EnrolSendsPerDay: 10,
		ContactText:          "contact the council's customer services",
		PasswordNetworkLimit: 100, PasswordNetworkSlowdown: 20,
		B2CROPCTimeout: 10 * time.Second, B2CAuthorityURL: "https://login.microsoftonline.com", B2CGraphURL: "https://graph.microsoft.com",
	}
	if c.KeyEncryptionKey != nil {
		t.Errorf("KeyEncryptionKey = %x, want nil", c.KeyEncryptionKey)
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *c, want)
	}
	if c.SMTPConfigured() || c.VonageConfigured() {
		t.Errorf("SMTPConfigured() = %v, VonageConfigured() = %v; want false, false", c.SMTPConfigured(), c.VonageConfigured())
	}
	if !c.Embedded() || c.HTTPS() {
		t.Errorf("Embedded() = %v, HTTPS() = %v; want true, false", c.Embedded(), c.HTTPS())
	}
	if got := c.DiscoveryURL(); got != "http://localhost:8080/.well-known/openid-configuration" {
		t.Errorf("DiscoveryURL() = %q", got)
	}
}

// TestGoodValues sets one variable at a time (plus what it needs) and checks the field.
func TestGoodValues(t *testing.T) {
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(clients, []byte("clients: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pg := map[string]string{"IDP_KEY_ENCRYPTION_KEY": testKey}
	prod := providers(t)
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"addr any host", map[string]string{"IDP_ADDR": ":9000"}, func(c *Config) bool { return c.Addr == ":9000" }},
		{"trusted proxies", map[string]string{"IDP_TRUSTED_PROXIES": " 10.1.2.3/8,192.168.0.7 , ::1"}, func(c *Config) bool {
			return fmt.Sprint(c.TrustedProxies) == "[10.0.0.0/8 192.168.0.7/32 ::1/128]"
		}},
		{"dev peers", map[string]string{"IDP_DEV_PEERS": "172.16.0.0/12, 192.168.65.3,fd00::/8"}, func(c *Config) bool {
			return fmt.Sprint(c.DevPeers) == "[172.16.0.0/12 192.168.65.3/32 fd00::/8]"
		}},
		{"metrics addr", map[string]string{"IDP_METRICS_ADDR": ":9090"}, func(c *Config) bool { return c.MetricsAddr == ":9090" }},
		{"contact and links", map[string]string{"IDP_CONTACT_PHONE": " 01632 960 001 ", "IDP_CONTACT_EMAIL": "help@example.gov.uk",
			"IDP_CONTACT_HOURS": "Monday to Friday, 9am to 5pm", "IDP_PRIVACY_URL": "https://www.example.gov.uk/privacy",
			"IDP_ACCESSIBILITY_URL": "https://www.example.gov.uk/sign-in/accessibility"}, func(c *Config) bool {
			return c.ContactPhone == "01632 960 001" && c.ContactEmail == "help@example.gov.uk" && c.ContactHours == "Monday to Friday, 9am to 5pm" &&
				c.PrivacyURL == "https://www.example.gov.uk/privacy" && c.AccessibilityURL == "https://www.example.gov.uk/sign-in/accessibility"
		}},
		{"b2c ropc", map[string]string{"IDP_B2C_ROPC_URL": "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token",
			"IDP_B2C_ROPC_CLIENT_ID": " 0b1e6f4c-3f1a-4d8e-9a55-2c0f1f6b9d21 ", "IDP_B2C_ROPC_TIMEOUT": "3s"}, func(c *Config) bool {
			return c.B2CROPCURL == "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token" &&
				c.B2CROPCClientID == "0b1e6f4c-3f1a-4d8e-9a55-2c0f1f6b9d21" && c.B2CROPCTimeout == 3*time.Second
		}},
		{"metrics off", map[string]string{"IDP_METRICS_ADDR": "Off"}, func(c *Config) bool { return c.MetricsAddr == "" }},
		{"admin off", map[string]string{"IDP_ADMIN_ADDR": "off", "IDP_ADMIN_URL": "http://localhost:8082"}, func(c *Config) bool { return c.AdminAddr == "" && c.AdminURL == "" }},
		{"admin every interface", map[string]string{"IDP_ADMIN_ADDR": ":9443"}, func(c *Config) bool { return c.AdminAddr == ":9443" && c.AdminURL == "http://localhost:9443" }},
		{"admin url", map[string]string{"IDP_ADMIN_URL": "http://127.0.0.1:8082/"}, func(c *Config) bool { return c.AdminURL == "http://127.0.0.1:8082" }},
		{"addr ipv6", map[string]string{"IDP_ADDR": "[::1]:8080"}, func(c *Config) bool { return c.Addr == "[::1]:8080" }},
		{"issuer https with path", merge(prod, map[string]string{"IDP_ISSUER": "https://login.example.gov.uk/idp/"}), func(c *Config) bool {
			return c.Issuer == "https://login.example.gov.uk/idp" && c.HTTPS() && !c.Dev
		}},
		{"issuer http 127.0.0.1", map[string]string{"IDP_ISSUER": "http://127.0.0.1:9000"}, func(c *Config) bool { return c.Issuer == "http://127.0.0.1:9000" }},
		{"issuer http ::1", map[string]string{"IDP_ISSUER": "http://[::1]:9000"}, func(c *Config) bool { return c.Issuer == "http://[::1]:9000" }},
		{"postgres", merge(prod, map[string]string{"IDP_DATABASE_URL": "postgres://idp:secret@db:5432/idp?sslmode=disable", "IDP_KEY_ENCRYPTION_KEY": testKey}), func(c *Config) bool {
			return c.DatabaseKind == DatabasePostgres && c.SQLitePath == "" && !c.Embedded() && !c.Dev
		}},
		{"postgresql scheme", merge(prod, map[string]string{"IDP_DATABASE_URL": "postgresql://db/idp", "IDP_KEY_ENCRYPTION_KEY": testKey}), func(c *Config) bool { return c.DatabaseKind == DatabasePostgres }},
		{"sqlite path", map[string]string{"IDP_DATABASE_URL": "sqlite:/var/lib/idp/idp.db"}, func(c *Config) bool {
			return c.DatabaseKind == DatabaseSQLite && c.SQLitePath == "/var/lib/idp/idp.db" && c.Embedded() && c.Dev
		}},
		{"redis", merge(prod, map[string]string{"IDP_REDIS_URL": "redis://:pw@cache:6379/2"}), func(c *Config) bool {
			return c.RedisURL == "redis://:pw@cache:6379/2" && !c.Embedded() && !c.Dev
		}},
		{"redis sentinel", map[string]string{"IDP_DEV": "1", "IDP_REDIS_URL": "redis://s1:26379?master_name=idp&addr=s2:26379"}, func(c *Config) bool { return c.RedisURL != "" }},
		{"redis unix socket", map[string]string{"IDP_DEV": "1", "IDP_REDIS_URL": "unix:///run/redis.sock"}, func(c *Config) bool { return c.RedisURL == "unix:///run/redis.sock" }},
		{"rediss", map[string]string{"IDP_DEV": "1", "IDP_REDIS_URL": "rediss://cache:6380"}, func(c *Config) bool { return c.RedisURL == "rediss://cache:6380" }},
		{"redis prefix", map[string]string{"IDP_REDIS_PREFIX": "staging:idp:"}, func(c *Config) bool { return c.RedisPrefix == "staging:idp:" }},
		{"dev explicit off in embedded mode", merge(prod, map[string]string{"IDP_DEV": "false"}), func(c *Config) bool { return !c.Dev }},
		{"dev explicit on with services", merge(pg, map[string]string{"IDP_DEV": "true", "IDP_DATABASE_URL": "postgres://db/idp"}), func(c *Config) bool { return c.Dev }},
		{"org name", map[string]string{"IDP_ORG_NAME": "  Suffolk County Council "}, func(c *Config) bool { return c.OrgName == "Suffolk County Council" }},
		{"log json", map[string]string{"IDP_LOG_FORMAT": "JSON"}, func(c *Config) bool { return c.LogFormat == "json" }},
		{"log debug", map[string]string{"IDP_LOG_LEVEL": "debug"}, func(c *Config) bool { return c.LogLevel == slog.LevelDebug }},
		{"log warn", map[string]string{"IDP_LOG_LEVEL": "WARN"}, func(c *Config) bool { return c.LogLevel == slog.LevelWarn }},
		{"log error", map[string]string{"IDP_LOG_LEVEL": "error"}, func(c *Config) bool { return c.LogLevel == slog.LevelError }},
		{"key std base64", map[string]string{"IDP_KEY_ENCRYPTION_KEY": testKey}, func(c *Config) bool { return len(c.KeyEncryptionKey) == 32 && c.KeyEncryptionKey[31] == 31 }},
		{"key raw url base64", map[string]string{"IDP_KEY_ENCRYPTION_KEY": strings.TrimRight(testKey, "=")}, func(c *Config) bool { return len(c.KeyEncryptionKey) == 32 }},
		{"clients file", map[string]string{"IDP_CLIENTS_FILE": clients}, func(c *Config) bool { return c.ClientsFile == clients }},
		{"confirm once", map[string]string{"IDP_PHONE_CONFIRM_TWICE": "0"}, func(c *Config) bool { return !c.PhoneConfirmTwice }},
		{"pprof off by default", map[string]string{}, func(c *Config) bool { return !c.Pprof }},
		{"pprof on the metrics listener", map[string]string{"IDP_PPROF": "true"}, func(c *Config) bool { return c.Pprof && c.MetricsAddr != "" }},
		{"phone recovery", map[string]string{"IDP_PHONE_RECOVERY": "true", "IDP_PHONE_RECOVERY_WAIT": "24h"}, func(c *Config) bool { return c.PhoneRecovery && c.PhoneRecoveryWait == 24*time.Hour }},
		{"es256", map[string]string{"IDP_SIGNING_ALG": "es256"}, func(c *Config) bool { return c.SigningAlg == "ES256" }},
		{"access ttl", map[string]string{"IDP_ACCESS_TOKEN_TTL": "5m"}, func(c *Config) bool { return c.AccessTokenTTL == 5*time.Minute }},
		{"id ttl", map[string]string{"IDP_ID_TOKEN_TTL": "90s"}, func(c *Config) bool { return c.IDTokenTTL == 90*time.Second }},
		{"refresh ttl", map[string]string{"IDP_REFRESH_TOKEN_TTL": "24h", "IDP_REFRESH_TOKEN_IDLE_TTL": "24h"}, func(c *Config) bool {
			return c.RefreshTokenTTL == 24*time.Hour && c.RefreshTokenIdleTTL == 24*time.Hour
		}},
		{"refresh reuse interval", map[string]string{"IDP_REFRESH_TOKEN_REUSE_INTERVAL": "1m"}, func(c *Config) bool { return c.RefreshTokenReuseInterval == time.Minute }},
		{"refresh reuse interval off", map[string]string{"IDP_REFRESH_TOKEN_REUSE_INTERVAL": "0s"}, func(c *Config) bool { return c.RefreshTokenReuseInterval == 0 }},
		{"session ttl", map[string]string{"IDP_SESSION_TTL": "1h30m"}, func(c *Config) bool { return c.SessionTTL == 90*time.Minute }},
		{"audit retention", map[string]string{"IDP_AUDIT_RETENTION": "2160h"}, func(c *Config) bool { return c.AuditRetention == 90*24*time.Hour }},
		{"console idle timeout", map[string]string{"IDP_ADMIN_IDLE_TIMEOUT": "10m"}, func(c *Config) bool {
			return c.AdminIdleTimeout == 10*time.Minute
		}},
		{"session idle ttl", map[string]string{"IDP_SESSION_IDLE_TTL": "15m"}, func(c *Config) bool {
			return c.SessionIdleTTL == 15*time.Minute && c.SessionTTL == 8*time.Hour
		}},
		{"session idle ttl equal to the absolute", map[string]string{"IDP_SESSION_TTL": "2h", "IDP_SESSION_IDLE_TTL": "2h"}, func(c *Config) bool {
			return c.SessionIdleTTL == 2*time.Hour
		}},
		{"default idle ttl under a short session ttl", map[string]string{"IDP_SESSION_TTL": "20m"}, func(c *Config) bool {
			return c.SessionTTL == 20*time.Minute && c.SessionIdleTTL == 20*time.Minute
		}},
		{"journey ttl", map[string]string{"IDP_JOURNEY_TTL": "20m"}, func(c *Config) bool { return c.JourneyTTL == 20*time.Minute }},
		{"drain", map[string]string{"IDP_SHUTDOWN_DRAIN": "15s"}, func(c *Config) bool { return c.ShutdownDrain == 15*time.Second }},
		{"no drain", map[string]string{"IDP_SHUTDOWN_DRAIN": "0s"}, func(c *Config) bool { return c.ShutdownDrain == 0 }},
		{"no drain without unit", map[string]string{"IDP_SHUTDOWN_DRAIN": "0"}, func(c *Config) bool { return c.ShutdownDrain == 0 }},
		{"memory limit auto", map[string]string{"IDP_MEMORY_LIMIT": "auto"}, func(c *Config) bool { return c.MemoryLimit == MemoryLimitAuto }},
		{"memory limit off", map[string]string{"IDP_MEMORY_LIMIT": "off"}, func(c *Config) bool { return c.MemoryLimit == MemoryLimitOff }},
		{"memory limit MiB", map[string]string{"IDP_MEMORY_LIMIT": "512MiB"}, func(c *Config) bool { return c.MemoryLimit == 512<<20 }},
		{"memory limit GiB", map[string]string{"IDP_MEMORY_LIMIT": " 2GiB "}, func(c *Config) bool { return c.MemoryLimit == 2<<30 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", *c)
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// TestBadValues checks that each bad value gives one line that starts with the
// variable's name and says what is wrong.
func TestBadValues(t *testing.T) {
	tests := []struct {
		env     map[string]string
		prefix  string // the error starts with this
		contain string // and contains this
	}{
		{map[string]string{"IDP_ADDR": "8080"}, "IDP_ADDR: ", "host:port"},
		{map[string]string{"IDP_B2C_ROPC_URL": "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token"}, "IDP_B2C_ROPC_CLIENT_ID: ", "required with IDP_B2C_ROPC_URL"},
		{map[string]string{"IDP_B2C_ROPC_CLIENT_ID": "abc"}, "IDP_B2C_ROPC_URL: ", "required with IDP_B2C_ROPC_CLIENT_ID"},
		{map[string]string{"IDP_B2C_ROPC_URL": "http://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token", "IDP_B2C_ROPC_CLIENT_ID": "abc"}, "IDP_B2C_ROPC_URL: ", "https"},
		{map[string]string{"IDP_B2C_ROPC_URL": "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/authorize", "IDP_B2C_ROPC_CLIENT_ID": "abc"}, "IDP_B2C_ROPC_URL: ", "/oauth2/v2.0/token"},
		{map[string]string{"IDP_B2C_ROPC_TIMEOUT": "soon"}, "IDP_B2C_ROPC_TIMEOUT: ", "duration"},
		{map[string]string{"IDP_ADDR": "localhost:http99"}, "IDP_ADDR: ", "port"},
		{map[string]string{"IDP_ADDR": "localhost:70000"}, "IDP_ADDR: ", "port"},
		{map[string]string{"IDP_METRICS_ADDR": "9090"}, "IDP_METRICS_ADDR: ", "host:port"},
		{map[string]string{"IDP_METRICS_ADDR": "localhost:8080"}, "IDP_METRICS_ADDR: ", "must differ from IDP_ADDR"},
		{map[string]string{"IDP_ADMIN_ADDR": "localhost:8080"}, "IDP_ADMIN_ADDR: ", "must differ from IDP_ADDR"},
		{map[string]string{"IDP_ADMIN_URL": "http://console.example.org"}, "IDP_ADMIN_URL: ", "must use https"},
		{map[string]string{"IDP_ISSUER": "login.example.gov.uk"}, "IDP_ISSUER: ", "absolute"},
		{map[string]string{"IDP_ISSUER": "http://login.example.gov.uk"}, "IDP_ISSUER: ", "https"},
		{map[string]string{"IDP_ISSUER": "https://login.example.gov.uk/?a=b"}, "IDP_ISSUER: ", "query"},
		{map[string]string{"IDP_ISSUER": "https://login.example.gov.uk/#top"}, "IDP_ISSUER: ", "fragment"},
		{map[string]string{"IDP_ISSUER": "ftp://localhost"}, "IDP_ISSUER: ", "http(s)"},
		{map[string]string{"IDP_ISSUER": "https://user:pw@login.example.gov.uk"}, "IDP_ISSUER: ", "password"},
		{map[string]string{"IDP_DATABASE_URL": "nonsense"}, "IDP_DATABASE_URL: ", `must be postgres://..., postgresql://... or sqlite:PATH (got "nonsense")`},
		{map[string]string{"IDP_DATABASE_URL": "mysql://db/idp"}, "IDP_DATABASE_URL: ", "postgres://"},
		{map[string]string{"IDP_DATABASE_URL": "sqlite:"}, "IDP_DATABASE_URL: ", "file path"},
		{map[string]string{"IDP_DATABASE_URL": "sqlite:idp.db?cache=shared"}, "IDP_DATABASE_URL: ", "plain file path"},
		{map[string]string{"IDP_DATABASE_URL": "sqlite::memory:"}, "IDP_DATABASE_URL: ", "plain file path"},
		{map[string]string{"IDP_DATABASE_URL": "postgres:///idp", "IDP_KEY_ENCRYPTION_KEY": testKey}, "IDP_DATABASE_URL: ", "no host"},
		{map[string]string{"IDP_REDIS_URL": "localhost:6379"}, "IDP_REDIS_URL: ", "redis://"},
		{map[string]string{"IDP_REDIS_URL": "redis://"}, "IDP_REDIS_URL: ", "no host"},
		{map[string]string{"IDP_REDIS_PREFIX": "idp *"}, "IDP_REDIS_PREFIX: ", "glob"},
		{map[string]string{"IDP_DEV": "maybe"}, "IDP_DEV: ", "true or false"},
		{map[string]string{"IDP_PPROF": "true", "IDP_METRICS_ADDR": "off"}, "IDP_PPROF: ", "needs IDP_METRICS_ADDR"},
		{map[string]string{"IDP_ORG_NAME": "   "}, "IDP_ORG_NAME: ", "blank"},
		{map[string]string{"IDP_CONTACT_PHONE": "call us"}, "IDP_CONTACT_PHONE: ", "telephone number"},
		{map[string]string{"IDP_CONTACT_PHONE": "12"}, "IDP_CONTACT_PHONE: ", "3 to 30"},
		{map[string]string{"IDP_CONTACT_EMAIL": "help"}, "IDP_CONTACT_EMAIL: ", "one email address"},
		{map[string]string{"IDP_CONTACT_EMAIL": "Help <help@example.gov.uk>"}, "IDP_CONTACT_EMAIL: ", "one email address"},
		{map[string]string{"IDP_CONTACT_HOURS": "9am\nto 5pm"}, "IDP_CONTACT_HOURS: ", "one line"},
		{map[string]string{"IDP_PRIVACY_URL": "http://www.example.gov.uk/privacy"}, "IDP_PRIVACY_URL: ", "https://"},
		{map[string]string{"IDP_PRIVACY_URL": "/privacy"}, "IDP_PRIVACY_URL: ", "https://"},
		{map[string]string{"IDP_ACCESSIBILITY_URL": "javascript:alert(1)"}, "IDP_ACCESSIBILITY_URL: ", "https://"},
		{map[string]string{"IDP_LOG_FORMAT": "xml"}, "IDP_LOG_FORMAT: ", "text or json"},
		{map[string]string{"IDP_LOG_LEVEL": "loud"}, "IDP_LOG_LEVEL: ", "debug, info, warn or error"},
		{map[string]string{"IDP_KEY_ENCRYPTION_KEY": "c2hvcnQ="}, "IDP_KEY_ENCRYPTION_KEY: ", "32 bytes, decodes to 5"},
		{map[string]string{"IDP_KEY_ENCRYPTION_KEY": "not base64!"}, "IDP_KEY_ENCRYPTION_KEY: ", "base64"},
		{map[string]string{"IDP_DATABASE_URL": "postgres://db/idp"}, "IDP_KEY_ENCRYPTION_KEY: ", "required with PostgreSQL"},
		{map[string]string{"IDP_CLIENTS_FILE": "/nonexistent/clients.yaml"}, "IDP_CLIENTS_FILE: ", "no such file"},
		{map[string]string{"IDP_CLIENTS_FILE": os.TempDir()}, "IDP_CLIENTS_FILE: ", "regular file"},
		{map[string]string{"IDP_PHONE_CONFIRM_TWICE": "twice"}, "IDP_PHONE_CONFIRM_TWICE: ", "true or false"},
		{map[string]string{"IDP_SIGNING_ALG": "HS256"}, "IDP_SIGNING_ALG: ", "RS256 or ES256"},
		{map[string]string{"IDP_ACCESS_TOKEN_TTL": "15"}, "IDP_ACCESS_TOKEN_TTL: ", "duration"},
		{map[string]string{"IDP_ID_TOKEN_TTL": "-1m"}, "IDP_ID_TOKEN_TTL: ", "positive"},
		{map[string]string{"IDP_REFRESH_TOKEN_TTL": "0s"}, "IDP_REFRESH_TOKEN_TTL: ", "positive"},
		{map[string]string{"IDP_REFRESH_TOKEN_IDLE_TTL": "a day"}, "IDP_REFRESH_TOKEN_IDLE_TTL: ", "duration"},
		{map[string]string{"IDP_REFRESH_TOKEN_IDLE_TTL": "1000h"}, "IDP_REFRESH_TOKEN_IDLE_TTL: ", "not be longer"},
		{map[string]string{"IDP_REFRESH_TOKEN_REUSE_INTERVAL": "2m"}, "IDP_REFRESH_TOKEN_REUSE_INTERVAL: ", "0s (off) to 60s"},
		{map[string]string{"IDP_REFRESH_TOKEN_REUSE_INTERVAL": "-1s"}, "IDP_REFRESH_TOKEN_REUSE_INTERVAL: ", "0s (off) to 60s"},
		{map[string]string{"IDP_REFRESH_TOKEN_REUSE_INTERVAL": "soon"}, "IDP_REFRESH_TOKEN_REUSE_INTERVAL: ", "duration"},
		{map[string]string{"IDP_SESSION_TTL": "0"}, "IDP_SESSION_TTL: ", "positive"},
		{map[string]string{"IDP_AUDIT_RETENTION": "1h"}, "IDP_AUDIT_RETENTION: ", "at least 24h"},
		{map[string]string{"IDP_PHONE_RECOVERY_WAIT": "30m"}, "IDP_PHONE_RECOVERY_WAIT: ", "at least 1h"},
		{map[string]string{"IDP_PHONE_RECOVERY": "maybe"}, "IDP_PHONE_RECOVERY", ""},
		{map[string]string{"IDP_SESSION_IDLE_TTL": "0s"}, "IDP_SESSION_IDLE_TTL: ", "positive"},
		{map[string]string{"IDP_SESSION_IDLE_TTL": "9h"}, "IDP_SESSION_IDLE_TTL: ", "not be longer"},
		{map[string]string{"IDP_ADMIN_IDLE_TIMEOUT": "0s"}, "IDP_ADMIN_IDLE_TIMEOUT: ", "positive"},
		{map[string]string{"IDP_ADMIN_IDLE_TIMEOUT": "9h"}, "IDP_ADMIN_IDLE_TIMEOUT: ", "at most 8h"},
		{map[string]string{"IDP_JOURNEY_TTL": "1 hour"}, "IDP_JOURNEY_TTL: ", "duration"},
		{map[string]string{"IDP_SHUTDOWN_DRAIN": "5"}, "IDP_SHUTDOWN_DRAIN: ", "from 0s (no drain) to 5m"},
		{map[string]string{"IDP_SHUTDOWN_DRAIN": "-1s"}, "IDP_SHUTDOWN_DRAIN: ", "from 0s (no drain) to 5m"},
		{map[string]string{"IDP_SHUTDOWN_DRAIN": "1h"}, "IDP_SHUTDOWN_DRAIN: ", "from 0s (no drain) to 5m"},
		{map[string]string{"IDP_MEMORY_LIMIT": "512"}, "IDP_MEMORY_LIMIT: ", "auto, off or a size from 64MiB"},
		{map[string]string{"IDP_MEMORY_LIMIT": "512MB"}, "IDP_MEMORY_LIMIT: ", "auto, off or a size from 64MiB"},
		{map[string]string{"IDP_MEMORY_LIMIT": "32MiB"}, "IDP_MEMORY_LIMIT: ", "auto, off or a size from 64MiB"},
		{map[string]string{"IDP_MEMORY_LIMIT": "-1GiB"}, "IDP_MEMORY_LIMIT: ", "auto, off or a size from 64MiB"},
		{map[string]string{"IDP_MEMORY_LIMIT": "99999999999TiB"}, "IDP_MEMORY_LIMIT: ", "auto, off or a size from 64MiB"},
		{map[string]string{"IDP_DEV_PEERS": "0.0.0.0/0"}, "IDP_DEV_PEERS: ", "not inside a private range"},
		{map[string]string{"IDP_DEV_PEERS": "10.0.0.0/7"}, "IDP_DEV_PEERS: ", "not inside a private range"},
		{map[string]string{"IDP_DEV_PEERS": "203.0.113.7"}, "IDP_DEV_PEERS: ", "not inside a private range"},
		{map[string]string{"IDP_DEV_PEERS": "docker"}, "IDP_DEV_PEERS: ", "not an IP address or CIDR range"},
		{map[string]string{"IDP_TRUSTED_PROXIES": "10.0.0.0/8, lb.internal"}, "IDP_TRUSTED_PROXIES: ", `"lb.internal" is not an IP address or CIDR range`},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+tt.contain, func(t *testing.T) {
			_, err := Load(nil, env(tt.env))
			if err == nil {
				t.Fatalf("Load(%v) succeeded, want an error", tt.env)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.prefix) || !strings.Contains(msg, tt.contain) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting %q containing %q", msg, tt.prefix, tt.contain)
			}
		})
	}
}

func TestSecretsNotEchoed(t *testing.T) {
	for _, e := range []map[string]string{
		{"IDP_KEY_ENCRYPTION_KEY": "c2VjcmV0LXNlY3JldA=="},
		{"IDP_DATABASE_URL": "postgres://idp:secret-secret@/idp", "IDP_KEY_ENCRYPTION_KEY": testKey},
		{"IDP_REDIS_URL": "memcache://:secret-secret@cache"},
	} {
		_, err := Load(nil, env(e))
		if err == nil {
			t.Fatalf("Load(%v) succeeded", e)
		}
		if strings.Contains(err.Error(), "secret-secret") || strings.Contains(err.Error(), "c2VjcmV0") {
			t.Errorf("error echoes a secret: %q", err)
		}
	}
}

func TestFlagsWin(t *testing.T) {
	e := env(merge(providers(t), map[string]string{"IDP_ADDR": "localhost:1111", "IDP_DEV": "true", "IDP_ORG_NAME": "From Env"}))
	c, err := Load([]string{"--addr", "localhost:2222", "--dev=false", "-org-name=From Flag"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:2222" || c.Dev || c.OrgName != "From Flag" {
		t.Errorf("got addr %q dev %v org %q; want the flag values", c.Addr, c.Dev, c.OrgName)
	}

	// A bare boolean flag means true; an env var not overridden still applies.
	c, err = Load([]string{"--dev", "--redis-url=redis://cache:6379"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.Addr != "localhost:1111" {
		t.Errorf("got dev %v addr %q; want true, localhost:1111", c.Dev, c.Addr)
	}

	// A bad flag value is named by its flag.
	_, err = Load([]string{"--database-url=nonsense"}, e)
	if err == nil || !strings.HasPrefix(err.Error(), "--database-url: ") {
		t.Errorf("error = %v, want it to start with --database-url:", err)
	}
}

func TestFlagErrors(t *testing.T) {
	if _, err := Load([]string{"--no-such-setting=1"}, env(nil)); err == nil || !strings.Contains(err.Error(), "no-such-setting") {
		t.Errorf("unknown flag: error = %v", err)
	}
	if _, err := Load([]string{"stray"}, env(nil)); err == nil || !strings.Contains(err.Error(), `"stray"`) {
		t.Errorf("stray argument: error = %v", err)
	}
	if _, err := Load([]string{"-h"}, env(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: error = %v, want flag.ErrHelp", err)
	}
}

func TestUsageListsEverySetting(t *testing.T) {
	var b strings.Builder
	Usage(&b)
	for _, s := range Settings {
		if !strings.Contains(b.String(), "--"+s.Flag+", "+s.Env) {
			t.Errorf("usage lacks %s", s.Env)
		}
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	c, err := Load(nil, env(merge(providers(t), map[string]string{
		"IDP_DATABASE_URL":            "postgres://idp:pg-password@db.internal:5432/idp",
		"IDP_REDIS_URL":               "redis://:redis-password@cache.internal:6379/0",
		"IDP_KEY_ENCRYPTION_KEY":      testKey,
		"IDP_SMTP_URL":                "smtp://idp%40example.gov.uk:smtp-password@relay.internal:587",
		"IDP_VONAGE_API_SECRET":       "vonage-api-secret",
		"IDP_VONAGE_SIGNATURE_SECRET": "vonage-signature-secret",
	})))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", "config", c)
	out := b.String()
	for _, secret := range []string{"pg-password", "redis-password", testKey[:10], "smtp-password", "vonage-api-secret", "vonage-signature-secret", "PRIVATE KEY"} {
		if strings.Contains(out, secret) {
			t.Errorf("logged config holds %q: %s", secret, out)
		}
	}
	if !strings.Contains(out, "db.internal:5432") || !strings.Contains(out, "key_encryption_key_set=true") ||
		!strings.Contains(out, "smtp=relay.internal:587") || !strings.Contains(out, "application app-id from NorfolkCC") {
		t.Errorf("logged config lacks the useful parts: %s", out)
	}
}

// Development mode shows every code in its dev inbox, so it is refused with an issuer
// a browser elsewhere could reach (security review finding 7): one line naming the
// setting, whether it came from the variable or the flag. In embedded mode it is then
// off by default rather than refused, so an https issuer needs the real providers.
func TestDevNeedsALoopbackIssuer(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		env    map[string]string
		prefix string
	}{
		{"variable", nil, map[string]string{"IDP_DEV": "true", "IDP_ISSUER": "https://login.example.gov.uk"}, "IDP_DEV: "},
		{"flag", []string{"--dev"}, map[string]string{"IDP_ISSUER": "https://login.example.gov.uk"}, "--dev: "},
		{"with services", nil, map[string]string{"IDP_DEV": "1", "IDP_ISSUER": "https://login.example.gov.uk",
			"IDP_DATABASE_URL": "postgres://db/idp", "IDP_KEY_ENCRYPTION_KEY": testKey}, "IDP_DEV: "},
		{"a name that is not localhost", nil, map[string]string{"IDP_DEV": "true", "IDP_ISSUER": "https://localhost.example.gov.uk"}, "IDP_DEV: "},
		{"a private address", nil, map[string]string{"IDP_DEV": "true", "IDP_ISSUER": "https://10.0.0.5:8443"}, "IDP_DEV: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want development mode refused")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.prefix) || !strings.Contains(msg, "IDP_ISSUER") || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting %q naming IDP_ISSUER", msg, tt.prefix)
			}
		})
	}
	for _, issuer := range []string{"http://localhost:8080", "https://localhost:8443", "http://127.0.0.1:9000",
		"https://127.8.9.10", "http://[::1]:8080", "https://LocalHost:8443"} {
		c, err := Load(nil, env(map[string]string{"IDP_DEV": "true", "IDP_ISSUER": issuer}))
		if err != nil || !c.Dev {
			t.Errorf("IDP_DEV=true with issuer %s: %v", issuer, err)
		}
	}
	c, err := Load(nil, env(merge(providers(t), map[string]string{"IDP_ISSUER": "https://login.example.gov.uk"})))
	if err != nil || c.Dev {
		t.Errorf("embedded with an https issuer: dev %v, err %v; want development mode off", c != nil && c.Dev, err)
	}
	_, err = Load(nil, env(map[string]string{"IDP_ISSUER": "https://login.example.gov.uk"}))
	if err == nil || !strings.HasPrefix(err.Error(), "IDP_SMTP_URL: required when IDP_DEV is off") {
		t.Errorf("embedded with an https issuer and no providers: %v, want the providers asked for", err)
	}
}
