package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAllowFormTargetWidensOnlyFormAction(t *testing.T) {
	w := httptest.NewRecorder()
	AllowFormTarget(w, "https://forms.example.gov.uk")
	got := w.Header().Get("Content-Security-Policy")
	want := strings.Replace(ContentSecurityPolicy, "form-action 'self'", "form-action 'self' https://forms.example.gov.uk", 1)
	if got != want || got == ContentSecurityPolicy {
		t.Errorf("policy = %q, want %q", got, want)
	}
}
