package deps
import (
 _ "github.com/zitadel/oidc/v3/pkg/op"
 _ "github.com/go-jose/go-jose/v4"
 _ "github.com/redis/go-redis/v9"
 _ "github.com/jackc/pgx/v5/pgxpool"
 _ "golang.org/x/crypto/argon2"
 _ "modernc.org/sqlite"
 _ "github.com/nyaruka/phonenumbers"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/coreos/go-oidc/v3/oidc"
 _ "golang.org/x/oauth2"
 _ "github.com/chromedp/chromedp"
 _ "go.yaml.in/yaml/v3"
)
