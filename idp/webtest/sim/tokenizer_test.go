package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// edgeDocs end, or hold, what can leave a Tokenizer anywhere but between
// tokens: a tag, a comment, raw text or a doctype cut short.
var edgeDocs = []string{
	"", "<", "</", "<!", "<!-", "<!--", "<!-- x", "<!-- x --", "<?x", "<!DOCTYPE", "<a", "<a href", "<a href=",
	`<a href="/x`, "<a href='/x' ", "<a href=/x>", "<a href=/x>text", "</a", "</a ", "<form action=/f><input name=n",
	"<form action=/f><input name=n value='v", "<form><button>Go", "<form><button>Go</button", "<script>", "<script>x",
	"<script>x</script", "<style>p{}", "<title>T", "<title>T</title", "<textarea name=t>", "<form><textarea name=t>v</textarea",
	"<plaintext>", "<plaintext><form action=/x>", "<xmp>", "<iframe>", "<noscript>", "<h1>Head", "<h1>Head</h1>", "text",
	"a<", "a</", "a<b", "</>", "<br/>", "<p a=/>", "\x00<a\x00 href=\x00>x\x00</a>", "<![CDATA[x]]>", pageEnd, pageEnd + "<h1>x</h1>",
	"<h1>x</h1>" + pageEnd[:5],
}

// A Tokenizer kept from page to page reads each page as a new one would,
// whatever the page before it left unfinished: every golden page, its <main>,
// every edge document and prefixes of each page, in turn through one kept
// tokenizer (replaced when a page leaves it unclean, as the pool does), each
// compared with a new tokenizer's reading.
func TestTokenizerKeptAcrossPages(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join(goldenPages, "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in %s (%v)", goldenPages, err)
	}
	docs := append([]string(nil), edgeDocs...)
	step := 37
	if testing.Short() {
		step = 61
	}
	for _, path := range pages {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		docs = append(docs, doc, mainOf(doc))
		for n := 0; n < len(doc); n += step {
			docs = append(docs, doc[:n], doc)
		}
	}
	kept, reused := newTokenizer(), 0
	for i, doc := range docs {
		got := record(kept.parse(doc))
		want := record(newTokenizer().parse(doc))
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("doc %d (%.60q...) read by a kept tokenizer:\n%s\nby a new one:\n%s", i, doc, g, w)
		}
		if kept.in.clean {
			reused++
		} else {
			kept = newTokenizer()
		}
	}
	// Every page the idp renders, whole or its <main>, leaves the tokenizer
	// clean, or the pool would save nothing.
	for _, path := range pages {
		b, _ := os.ReadFile(path)
		for _, doc := range []string{string(b), mainOf(string(b))} {
			if tz := newTokenizer(); tz.parse(doc) != nil && !tz.in.clean {
				t.Errorf("%s leaves the tokenizer unclean", filepath.Base(path))
			}
		}
	}
	t.Logf("%d documents, the tokenizer kept after %d", len(docs), reused)
}

// mainOf is what ParseMain reads of doc.
func mainOf(doc string) string {
	i := strings.Index(doc, "<main")
	j := strings.LastIndex(doc, "</main>")
	if i < 0 || j < i {
		return doc
	}
	return doc[i : j+len("</main>")]
}

// ParseMain reads from the first <main to the last </main> after it, or the
// whole document.
func TestParseMainReadsMain(t *testing.T) {
	for _, doc := range []string{
		"", "<main>", "</main><main>", "<h1>a</h1><main><h1>b</h1></main>", "<main><h1>b</h1></main><h1>c</h1></main>",
		"<h1>a</h1></main><main><h1>b</h1>", "<main><main><h1>b</h1></main></main></main>x",
	} {
		if got, want := record(ParseMain(nil, 200, nil, doc)), record(parse(mainOf(doc))); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseMain(%q) read %+v, want %+v", doc, got, want)
		}
	}
}
