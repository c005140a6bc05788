package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/parse")

// goldenPages are the ui package's rendered pages (its own golden files), the
// pages the e2e tests and the load driver read.
const goldenPages = "../../../ui/testdata/pages"

// parsed is what a Page holds of a document, the part a golden file records.
type parsed struct {
	Title  string
	H1     string
	Errors []string
	Forms  []*Form
	Links  []Link
}

func record(p *Page) parsed {
	return parsed{Title: p.Title, H1: p.H1, Errors: p.Errors, Forms: p.Forms, Links: p.Links}
}

// What Parse and ParseMain read of every page the idp renders stays what it
// was when the golden files were written (go test -update rewrites them), so
// that a faster parser cannot change what a test or the driver acts on.
func TestParseGolden(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(goldenPages, "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in %s (%v)", goldenPages, err)
	}
	u, _ := url.Parse("http://localhost:8080/login/step")
	for _, path := range pages {
		name := strings.TrimSuffix(filepath.Base(path), ".html")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(map[string]parsed{
				"Parse":     record(Parse(u, 200, nil, string(doc))),
				"ParseMain": record(ParseMain(u, 200, nil, string(doc))),
			}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "parse", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s reads differently from %s:\n%s", name, golden, got)
			}
		})
	}
}
