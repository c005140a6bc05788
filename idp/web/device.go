package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// DeviceCookie marks a browser that has signed in to an account before (OWASP
// Authentication Cheat Sheet, "device cookies"). Wrong passwords typed in such a
// browser are counted against that browser alone, so an attacker's wrong
// passwords, which lock the account for unknown browsers, do not stop its owner
// signing in from the browser they always use; and the owner's own typing
// mistakes cannot be used by anyone else.
//
// The value is up to deviceEntries entries "<nonce>.<mac>", newest first, where mac
// is HMAC-SHA-256 of the account id and the nonce under a server key: it names no
// account, and only the server can make or check one.
const DeviceCookie = "__Host-idp_device"

const (
	deviceEntries  = 5
	deviceLifetime = 365 * 24 * time.Hour
)

// knownBrowser returns the nonce of r's device cookie entry for the account,
// if it has one.
func (h *Handler) knownBrowser(r *http.Request, userID string) (string, bool) {
	if len(h.cfg.DeviceKey) == 0 {
		return "", false
	}
	c, err := r.Cookie(DeviceCookie)
	if err != nil || len(c.Value) > 1024 {
		return "", false
	}
	for _, entry := range strings.Split(c.Value, "~") {
		nonce, mac, ok := strings.Cut(entry, ".")
		if !ok || nonce == "" {
			continue
		}
		got, err := base64.RawURLEncoding.DecodeString(mac)
		if err == nil && hmac.Equal(got, h.deviceMAC(userID, nonce)) {
			return nonce, true
		}
	}
	return "", false
}

func (h *Handler) deviceMAC(userID, nonce string) []byte {
	m := hmac.New(sha256.New, h.cfg.DeviceKey)
	m.Write([]byte("device|" + userID + "|" + nonce))
	return m.Sum(nil)
}

// rememberBrowser gives r's browser (or renews) its device cookie entry for the
// account: called when a journey proves a password and a phone for it.
func (h *Handler) rememberBrowser(w http.ResponseWriter, r *http.Request, userID string) {
	if len(h.cfg.DeviceKey) == 0 {
		return
	}
	nonce, known := h.knownBrowser(r, userID)
	if !known {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	entries := []string{nonce + "." + base64.RawURLEncoding.EncodeToString(h.deviceMAC(userID, nonce))}
	if c, err := r.Cookie(DeviceCookie); err == nil && len(c.Value) <= 1024 {
		for _, e := range strings.Split(c.Value, "~") {
			if n, _, ok := strings.Cut(e, "."); ok && n != nonce && len(entries) < deviceEntries {
				entries = append(entries, e)
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: strings.Join(entries, "~"), Path: "/",
		MaxAge: int(deviceLifetime / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
