package webtest

// Keyboard-only use, as a person who cannot use a mouse moves through a page:
// Tab moves the focus, typing goes to the focused field, Enter follows the
// focused link or presses the focused button.

import (
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// maxTabs bounds how many times TabTo presses Tab looking for its target: more
// than any page of the idp has links, fields and buttons.
const maxTabs = 60

// focusedName is the accessible name of the focused element, as a person using
// the keyboard hears it: a field's label, a button's or link's text; "" for the
// page itself.
const focusedName = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return '';
	if (e.labels && e.labels.length) return e.labels[0].innerText.trim();
	return (e.innerText || e.value || '').trim();
})()`

// focusShown is whether the focused element shows where the focus is: an outline,
// a box shadow or a background other than the page's (GOV.UK Frontend's yellow).
const focusShown = `(() => {
	const s = getComputedStyle(document.activeElement);
	return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none' ||
		s.backgroundColor === 'rgb(255, 221, 0)';
})()`

// TabTo presses Tab until the focus is on the field labelled name or the link or
// button whose text is name (the first line of a label, so a hint below it does not
// count), and checks that the focus is visible there. It fails, listing what the
// focus passed, when maxTabs presses never reach it.
func (b *Browser) TabTo(name string) {
	b.t.Helper()
	var passed []string
	for range maxTabs {
		b.Do(chromedp.KeyEvent(kb.Tab))
		got := Eval[string](b, focusedName)
		if first, _, _ := strings.Cut(got, "\n"); strings.TrimSpace(first) == name {
			if !Eval[bool](b, focusShown) {
				b.fail(fmt.Errorf("the focus on %q is not visible (no outline, box shadow or focus colour)", name))
			}
			return
		}
		passed = append(passed, got)
	}
	b.fail(fmt.Errorf("%d presses of Tab never reached %q; the focus passed %q", maxTabs, name, passed))
}

// Type types text into the focused element, key by key.
func (b *Browser) Type(text string) {
	b.t.Helper()
	b.Do(chromedp.KeyEvent(text))
}

// PressEnter presses Enter on the focused link or button and waits for the page
// it loads.
func (b *Browser) PressEnter() {
	b.t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		b.fail(fmt.Errorf("press Enter on %q: %w", Eval[string](b, focusedName), err))
	}
	b.Do(chromedp.WaitReady(chromedp.CSS("body")))
}
