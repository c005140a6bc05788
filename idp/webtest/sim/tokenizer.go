package sim

import (
	"io"
	"sync"

	"golang.org/x/net/html"
)

// A tokenizer is an x/net/html Tokenizer kept from one page to the next with
// the parser's scratch space. html.NewTokenizer allocates a 4 KB buffer and a
// map for every page (more than the rest of a page's parse together), and the
// Tokenizer has no Reset; but it reads from an io.Reader and never reads past
// the end of a tag, so one Tokenizer can read a stream of pages: after each
// page the stream holds pageEnd, a tag no page has, and when the Tokenizer
// returns exactly that tag at exactly the page's end it is in the state a new
// one starts in (between tokens, no raw text pending, no error), ready for the
// next page. A page that leaves it anywhere else (inside a tag, a comment or a
// script at its end) ends its reuse: that Tokenizer is dropped.
type tokenizer struct {
	z    *html.Tokenizer
	in   pageStream
	text []byte // the text being collected
	norm []byte // text with runs of white space made one space
}

// pageEnd follows every page in the stream. A page's own tokens never include
// it: a token that reaches into it is not the page's (see next).
const pageEnd = "<sim-page-end>"

var tokenizers = sync.Pool{New: func() any { return newTokenizer() }}

func newTokenizer() *tokenizer {
	t := &tokenizer{}
	t.z = html.NewTokenizer(&t.in)
	return t
}

// putTokenizer keeps t for another page if the last page left it clean.
func putTokenizer(t *tokenizer) {
	if t.in.clean {
		t.in = pageStream{}
		tokenizers.Put(t)
	}
}

// next is the page's next token, or ErrorToken at the end of the page. Of a
// document that ends inside a tag, a comment or raw text, the last token
// reaches into pageEnd; it is not returned, as a Tokenizer reading that
// document alone would return it without the end that makes it count (a tag
// cut short is dropped; an unclosed comment, script, style, title or textarea
// is text no end tag follows).
func (t *tokenizer) next() html.TokenType {
	if t.in.done {
		return html.ErrorToken
	}
	tt := t.z.Next()
	start := t.in.tokenized
	t.in.tokenized += len(t.z.Raw())
	if tt == html.ErrorToken || t.in.tokenized > len(t.in.doc) {
		t.in.done = true
		t.in.clean = tt == html.StartTagToken && start == len(t.in.doc) && string(t.z.Raw()) == pageEnd &&
			t.in.read == len(t.in.doc)+len(pageEnd)
		return html.ErrorToken
	}
	return tt
}

// pageStream is the Tokenizer's reader: the page, then pageEnd. It never
// returns an error to the Tokenizer before the page is done with, because the
// Tokenizer keeps the first error it sees for good.
type pageStream struct {
	doc       string
	read      int // bytes of doc and then pageEnd read by the Tokenizer
	tokenized int // bytes of the tokens returned (Raw's lengths)
	done      bool
	clean     bool // done, and the Tokenizer stopped at the end of pageEnd
}

func (s *pageStream) Read(b []byte) (int, error) {
	if s.read < len(s.doc) {
		n := copy(b, s.doc[s.read:])
		s.read += n
		return n, nil
	}
	if i := s.read - len(s.doc); i < len(pageEnd) {
		n := copy(b, pageEnd[i:])
		s.read += n
		return n, nil
	}
	return 0, io.EOF
}
