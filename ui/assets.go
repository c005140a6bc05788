package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// static holds the built GOV.UK Frontend assets (see build/build.sh) and
// app.js. Built output is committed so that the Go build needs no Node.
//
//go:embed static
var staticFS embed.FS

// AssetPrefix is the URL path under which Assets serves the static files.
const AssetPrefix = "/assets/"

type asset struct {
	body        []byte
	contentType string
	hash        string // first 16 hex digits of the SHA-256 of body
}

// assets is every embedded static file by URL path, hashed once at start.
var assets = loadAssets()

func loadAssets() map[string]asset {
	m := make(map[string]asset)
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".js", ".mjs":
			// Module scripts are refused unless served as JavaScript,
			// whatever the host's mime table says.
			ct = "text/javascript; charset=utf-8"
		case ".css":
			ct = "text/css; charset=utf-8"
		case "":
			ct = "text/plain; charset=utf-8"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		m[AssetPrefix+strings.TrimPrefix(p, "static/")] = asset{body: body, contentType: ct, hash: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		// The files are compiled into the binary; failing to read them
		// is a broken build.
		panic("ui: read embedded assets: " + err.Error())
	}
	return m
}

// assetURL returns the URL of an embedded asset with its content hash as a
// query (?v=...), so it can be cached for a year and still change with a
// new build. It fails template execution, and so New, for a missing file.
func assetURL(p string) (string, error) {
	a, ok := assets[p]
	if !ok {
		return "", &fs.PathError{Op: "asset", Path: p, Err: fs.ErrNotExist}
	}
	return p + "?v=" + a.hash, nil
}

// Assets serves the embedded static files under AssetPrefix (/assets/).
// A request carrying the file's current content hash (as produced in page
// markup) may be cached for a year; any other request (for example a
// module import or a url() in the CSS) for a day.
func Assets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+a.hash+`"`)
		if r.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}

// AssetURL returns the cache-busting URL of an embedded asset
// ("/assets/app.min.css" -> "/assets/app.min.css?v=<hash>"), for pages
// rendered outside this package. An unknown path is returned unchanged.
func AssetURL(p string) string {
	u, err := assetURL(p)
	if err != nil {
		return p
	}
	return u
}
