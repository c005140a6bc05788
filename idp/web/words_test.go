package web

import (
	"testing"

	"github.com/councilforms/idp/ui"
)

// The handlers' own error messages are in the pages' catalogue, word for
// word, so they are shown in the person's language.
func TestHandlerErrorsHaveTheirWords(t *testing.T) {
	for _, m := range []string{msgEmailNotSent, msgTextsDown, msgTextNotAllowed, msgAccountTaken} {
		if !ui.IsCatalogued(m) || ui.Translate("cy", m) == m {
			t.Errorf("no catalogue entry in English and Welsh for %q", m)
		}
	}
}
