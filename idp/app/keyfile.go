package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/councilforms/idp/idp/config"
)

// KeyFileName is the file, next to the SQLite database, that holds the generated
// key-encryption key when IDP_KEY_ENCRYPTION_KEY is not set.
const KeyFileName = "key-encryption-key"

// keyEncryptionKey returns the configured key, or in SQLite mode the key kept in the
// key file, creating the file on first start. Losing the key file makes the stored
// signing keys unreadable: the idp then has to make new ones and tokens already
// issued stop verifying.
func keyEncryptionKey(cfg *config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.KeyEncryptionKey != nil {
		return cfg.KeyEncryptionKey, nil
	}
	if cfg.DatabaseKind != config.DatabaseSQLite {
		// config.Load refuses PostgreSQL without a key; this guards other callers.
		return nil, errors.New("IDP_KEY_ENCRYPTION_KEY is required with PostgreSQL")
	}
	path := filepath.Join(filepath.Dir(cfg.SQLitePath), KeyFileName)
	key, err := readKeyFile(path)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key = make([]byte, 32)
	rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("key-encryption key: write %s: %w", path, err)
	}
	log.Warn("generated a key-encryption key for signing keys; set IDP_KEY_ENCRYPTION_KEY in production and keep it safe",
		"file", path)
	return key, nil
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("key-encryption key: %s must hold base64 of 32 bytes; restore it from a backup, or delete it to make a new key (tokens already issued will stop verifying)", path)
	}
	return key, nil
}
