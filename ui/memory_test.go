package ui

import (
	"net/http"
	"runtime"
	"testing"
)

// The templates' share of the idp's idle heap: New checks every page of
// both languages and the console, but keeps only each language's layout and
// components; a page is parsed again when first rendered. (Before: every
// page kept parsed in both languages, 10-11 MiB live, two thirds of the
// idle heap, walked by every garbage collection.)
func TestTemplatesKeepLittleLive(t *testing.T) {
	live := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := live()
	tmpl := newTemplates(t, false)
	idle := int64(live()) - int64(before)
	// A sign-in renders a handful of pages in one language.
	rendered := 0
	for _, s := range baseSamples() {
		switch s.page {
		case PageSignIn, PageEmailCode, PageSMSCode:
			if status, _, _ := renderPage(t, tmpl, s.page, s.model); status != http.StatusOK {
				t.Fatalf("%s: status %d", s.page, status)
			}
			rendered++
		}
	}
	if rendered < 3 {
		t.Fatalf("rendered %d sample pages, want the three", rendered)
	}
	used := int64(live()) - int64(before)
	runtime.KeepAlive(tmpl)
	t.Logf("templates live: %.1f MiB after New, %.1f MiB after three pages", float64(idle)/(1<<20), float64(used)/(1<<20))
	if idle > 3<<20 {
		t.Errorf("templates hold %.1f MiB live after New, want at most 3 MiB", float64(idle)/(1<<20))
	}
	if used > 4<<20 {
		t.Errorf("templates hold %.1f MiB live after rendering three pages, want at most 4 MiB", float64(used)/(1<<20))
	}
}
