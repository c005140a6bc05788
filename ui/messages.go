package ui

import (
	"strings"
	"time"
)

// The standard wordings of pages that end or interrupt a journey. Handlers
// use these rather than writing their own, so a person sees the same words
// for the same situation wherever it arises.

// InvalidClientMessage is shown when /authorize names a client or redirect
// URI that is not registered. The person is not redirected anywhere: the
// address cannot be trusted.
func InvalidClientMessage() MessagePage {
	return MessagePage{
		Page: Page{Title: "There is a problem with the link you followed"},
		Paragraphs: []string{
			"The online form that sent you here is not set up to use this sign in service, or the link to it is wrong.",
			"Go back to the online form and try again. If the problem continues, contact the team that runs the form.",
		},
	}
}

// AccountLockedMessage is shown after too many wrong attempts. until is
// formatted in its own location, so pass it in the organisation's time zone.
func AccountLockedMessage(until time.Time, resetPasswordURL string) MessagePage {
	return MessagePage{
		Page: Page{Title: "Your account is locked", Contact: true},
		Paragraphs: []string{
			"Your account is locked because of too many unsuccessful attempts to sign in.",
			"You can try again after " + FormatTime(until) + " or reset your password.",
		},
		LinkText: "Reset your password",
		LinkURL:  resetPasswordURL,
	}
}

// SessionTimedOutMessage is shown when a journey has expired; startURL
// begins again (usually the online form's own address).
func SessionTimedOutMessage(startURL string) MessagePage {
	p := MessagePage{
		Page: Page{Title: "Your session has timed out"},
		Paragraphs: []string{
			"We have cleared the information you entered because you did not do anything for a while. This is to protect your information.",
			"Go back to the online form and sign in again.",
		},
	}
	if startURL != "" {
		p.ButtonText, p.ButtonURL = "Start again", startURL
		p.Paragraphs[1] = "You need to start again."
	}
	return p
}

// NotFoundMessage is the 404 page.
func NotFoundMessage() MessagePage {
	return MessagePage{
		Page: Page{Title: "Page not found"},
		Paragraphs: []string{
			"If you typed the web address, check it is correct.",
			"If you pasted the web address, check you copied the entire address.",
		},
	}
}

// ServerErrorMessage is the page for a request the service could not finish
// (a database or the journey store failing: a 503). Nothing the person did
// before this step is lost, so trying the same thing again is the way on.
func ServerErrorMessage() MessagePage {
	return MessagePage{
		Page: Page{Title: "Sorry, there is a problem with the service", Contact: true},
		Paragraphs: []string{
			"We could not finish that just now.",
			"Try again in a few minutes. What you did before this step has been kept.",
		},
	}
}

// FormatTime writes t, in its own location, in GOV.UK style: "2:05pm on 3 March
// 2026", "midday on 3 March 2026". The journeys' messages use it too
// (journey.Policy.FormatTime), so a time reads the same on every page.
func FormatTime(t time.Time) string {
	clock := strings.ToLower(t.Format("3:04PM"))
	switch {
	case t.Hour() == 12 && t.Minute() == 0:
		clock = "midday"
	case t.Hour() == 0 && t.Minute() == 0:
		clock = "midnight"
	}
	return clock + " on " + t.Format("2 January 2006")
}

// NoPrivacyNoticeMessage is the footer's 'Privacy' page when the council has
// not configured its privacy notice (IDP_PRIVACY_URL).
func NoPrivacyNoticeMessage(orgName string) MessagePage {
	return MessagePage{
		Page: Page{Title: "Privacy", Contact: true},
		Paragraphs: []string{
			orgName + " is responsible for the personal information you give this sign in service: your name, email address and phone number, and a record of when you sign in.",
			"Its privacy notice explains how it uses your information and what your rights are. Ask " + orgName + " for a copy.",
		},
	}
}

// NoAccessibilityStatementMessage is the footer's 'Accessibility statement'
// page when the council has not configured one (IDP_ACCESSIBILITY_URL).
func NoAccessibilityStatementMessage(orgName string) MessagePage {
	return MessagePage{
		Page: Page{Title: "Accessibility statement", Contact: true},
		Paragraphs: []string{
			"This sign in service is designed to be used by as many people as possible. You should be able to use it with a keyboard alone, a screen reader or speech recognition software, and zoom in up to 400% without the text spilling off the screen.",
			"Ask " + orgName + " for its accessibility statement, or contact it if you find a problem with this service or need information in a different format.",
		},
	}
}
