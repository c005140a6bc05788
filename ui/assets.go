package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
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
	hash        string   // first 16 hex digits of the SHA-256 of body
	gz          *gzipped // nil for a file that does not compress (or not enough)
}

// gzipped is an asset's gzip encoding, made at its first request that accepts it:
// the stylesheet is 139 KB as it is and about a sixth of that gzipped, which a
// phone on a slow connection notices on its first page.
type gzipped struct {
	once sync.Once
	src  []byte
	body []byte // nil when gzip does not make it smaller
}

func (g *gzipped) bytes() []byte {
	g.once.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(g.src)
		if zw.Close() == nil && b.Len() < len(g.src) {
			g.body = b.Bytes()
		}
	})
	return g.body
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
		a := asset{body: body, contentType: ct, hash: hex.EncodeToString(sum[:8])}
		if strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "image/svg") || strings.HasPrefix(ct, "application/json") {
			a.gz = &gzipped{src: body}
		}
		m[AssetPrefix+strings.TrimPrefix(p, "static/")] = a
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
		if r.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=86400")
		}
		body, etag := a.body, `"`+a.hash+`"`
		if a.gz != nil {
			h.Add("Vary", "Accept-Encoding")
			if gz := a.gz.bytes(); gz != nil && acceptsGzip(r.Header.Values("Accept-Encoding")) {
				h.Set("Content-Encoding", "gzip")
				body, etag = gz, `"`+a.hash+`-gz"`
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// acceptsGzip reports whether Accept-Encoding values name gzip (or *) with a
// non-zero quality.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "*" {
				continue
			}
			q, hasQ := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q=")
			if !hasQ {
				return true
			}
			if f, err := strconv.ParseFloat(q, 64); err == nil && f > 0 {
				return true
			}
		}
	}
	return false
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
