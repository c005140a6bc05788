package sim

import (
	"net/url"
	"testing"
)

func TestTokenize(t *testing.T) {
	doc := `<!DOCTYPE html><!-- <form> --><script>if (a<b) {"<form>"}</script>
<form action=/x method=POST><input name=a value='1 &amp; 2'><input type=checkbox name=c>
<input type="checkbox" name="d" value="yes" checked><textarea name="t">hi &lt;there&gt;</textarea>
<select name="s"><option value="1">one<option value="2" selected>two</select>
<input name="off" disabled><button>  Go
 on </button><input type="submit" name="alt" value="Other"></form>`
	u, _ := url.Parse("http://localhost/")
	p := Parse(u, 200, nil, doc)
	if len(p.Forms) != 1 {
		t.Fatalf("%d forms, want 1", len(p.Forms))
	}
	f, b, ok := p.ButtonFold("go on")
	if !ok || f.Method != "post" || f.Action != "/x" {
		t.Fatalf("button 'Go on' in form %+v", f)
	}
	v, err := f.Values(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"a": {"1 & 2"}, "d": {"yes"}, "t": {"hi <there>"}, "s": {"2"}}
	if v.Encode() != want.Encode() {
		t.Errorf("posted %v, want %v", v, want)
	}
	if _, b, ok := p.ButtonFold("Other"); !ok || b.Name != "alt" {
		t.Errorf("input submit = %+v", b)
	}
}

// Raw text ends only at its own end tag, in any case; of duplicate
// attributes the first wins; bare attributes count as present.
func TestTokenizeEdges(t *testing.T) {
	doc := `<SCRIPT>var s = "</scr" + "ipt><form action=/bad>"; x = "</b>"</Script >
<FORM Action="/good" method=post><INPUT NAME=a name=b VALUE="1" value="2"><Input type=CHECKBOX name=c checked>
<style>p::after{content:"</stylex><form action=/bad>"}</STYLE><textarea name=t></Textarea><button type=submit name=go value=v>Send &amp; go</button></form>
<a href="/next">Next <b>page</b></a>`
	u, _ := url.Parse("http://localhost/")
	p := Parse(u, 200, nil, doc)
	if len(p.Forms) != 1 || p.Forms[0].Action != "/good" {
		t.Fatalf("forms %+v", p.Forms)
	}
	f, b, ok := p.ButtonFold("send & go")
	if !ok || b.Name != "go" {
		t.Fatalf("button = %+v", b)
	}
	v, err := f.Values(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"a": {"1"}, "c": {"on"}, "t": {""}, "go": {"v"}}
	if v.Encode() != want.Encode() {
		t.Errorf("posted %v, want %v", v, want)
	}
	if p.HasField("b") {
		t.Error("a duplicate name attribute made a field")
	}
	if href, ok := p.LinkFold("next page"); !ok || href != "/next" {
		t.Errorf("link = %q, %v", href, ok)
	}
}
