package formapp

import (
	"net/mail"
	"regexp"
	"strings"
)

// Answers are everything typed into the referral form.
type Answers struct {
	// About the person being referred.
	PersonName     string
	PersonDOBOrAge string
	PersonAddress  string
	PersonPostcode string
	// About the concern.
	Concern       string
	ImmediateRisk string // "yes" or "no"
	// About the referrer.
	ReferrerName  string
	ReferrerEmail string
	Organisation  string
	Role          string
}

// Form field names, also the ids that error summary links point to.
const (
	fieldPersonName     = "person-name"
	fieldPersonDOBOrAge = "person-dob-or-age"
	fieldPersonAddress  = "person-address"
	fieldPersonPostcode = "person-postcode"
	fieldConcern        = "concern"
	fieldImmediateRisk  = "immediate-risk"
	fieldReferrerName   = "referrer-name"
	fieldReferrerEmail  = "referrer-email"
	fieldOrganisation   = "organisation"
	fieldRole           = "role"
)

// FieldError is one problem with an answer, in GOV.UK error-message style.
type FieldError struct {
	Field   string // field id, for the error summary link
	Message string
}

// step is one question page of the form.
type step struct {
	Path     string
	Template string
	Title    string
	// NeedsSignIn: the page is only shown to a signed-in person.
	NeedsSignIn bool
	// read copies the page's posted fields into a.
	read func(a *Answers, get func(string) string)
	// check returns the page's problems, in page order.
	check func(a *Answers) []FieldError
}

// Paths of the pages. Only these are accepted as a place to return to after
// signing in, so the return address cannot send a person elsewhere.
const (
	pathPerson    = "/person"
	pathConcern   = "/concern"
	pathReferrer  = "/referrer"
	pathCheck     = "/check"
	pathSubmitted = "/submitted"
)

// steps are the question pages in order; check answers and submitted follow.
var steps = []step{
	{
		Path: pathPerson, Template: "person", Title: "About the person you are referring",
		read: func(a *Answers, get func(string) string) {
			a.PersonName = get(fieldPersonName)
			a.PersonDOBOrAge = get(fieldPersonDOBOrAge)
			a.PersonAddress = get(fieldPersonAddress)
			a.PersonPostcode = normalisePostcode(get(fieldPersonPostcode))
		},
		check: func(a *Answers) []FieldError {
			var errs []FieldError
			if a.PersonName == "" {
				errs = append(errs, FieldError{fieldPersonName, "Enter the full name of the person you are referring"})
			}
			if a.PersonDOBOrAge == "" {
				errs = append(errs, FieldError{fieldPersonDOBOrAge, "Enter their date of birth or age"})
			}
			if a.PersonAddress == "" {
				errs = append(errs, FieldError{fieldPersonAddress, "Enter their address"})
			}
			switch {
			case a.PersonPostcode == "":
				errs = append(errs, FieldError{fieldPersonPostcode, "Enter their postcode"})
			case !postcodePattern.MatchString(a.PersonPostcode):
				errs = append(errs, FieldError{fieldPersonPostcode, "Enter a real postcode, like NR1 2DH"})
			}
			return errs
		},
	},
	{
		Path: pathConcern, Template: "concern", Title: "About your concern", NeedsSignIn: true,
		read: func(a *Answers, get func(string) string) {
			a.Concern = get(fieldConcern)
			a.ImmediateRisk = get(fieldImmediateRisk)
		},
		check: func(a *Answers) []FieldError {
			var errs []FieldError
			if a.Concern == "" {
				errs = append(errs, FieldError{fieldConcern, "Enter what your concern is"})
			}
			if a.ImmediateRisk != "yes" && a.ImmediateRisk != "no" {
				errs = append(errs, FieldError{fieldImmediateRisk, "Select yes if the person is at immediate risk"})
			}
			return errs
		},
	},
	{
		Path: pathReferrer, Template: "referrer", Title: "About you (the referrer)", NeedsSignIn: true,
		read: func(a *Answers, get func(string) string) {
			a.ReferrerName = get(fieldReferrerName)
			a.ReferrerEmail = get(fieldReferrerEmail)
			a.Organisation = get(fieldOrganisation)
			a.Role = get(fieldRole)
		},
		check: func(a *Answers) []FieldError {
			var errs []FieldError
			if a.ReferrerName == "" {
				errs = append(errs, FieldError{fieldReferrerName, "Enter your full name"})
			}
			switch {
			case a.ReferrerEmail == "":
				errs = append(errs, FieldError{fieldReferrerEmail, "Enter your email address"})
			case !validEmail(a.ReferrerEmail):
				errs = append(errs, FieldError{fieldReferrerEmail, "Enter an email address in the correct format, like name@example.com"})
			}
			if a.Organisation == "" {
				errs = append(errs, FieldError{fieldOrganisation, "Enter your organisation"})
			}
			if a.Role == "" {
				errs = append(errs, FieldError{fieldRole, "Enter your role"})
			}
			return errs
		},
	},
}

// stepAt returns the step served at path.
func stepAt(path string) (int, *step) {
	for i := range steps {
		if steps[i].Path == path {
			return i, &steps[i]
		}
	}
	return -1, nil
}

// firstIncomplete returns the path of the first question page with a
// problem, or "" when every page is complete.
func firstIncomplete(a *Answers) string {
	for i := range steps {
		if len(steps[i].check(a)) > 0 {
			return steps[i].Path
		}
	}
	return ""
}

// returnPath accepts only the form's own pages as a place to go back to.
func returnPath(p string) string {
	switch p {
	case pathPerson, pathConcern, pathReferrer, pathCheck:
		return p
	}
	return pathConcern
}

// postcodePattern is the shape of a UK postcode after normalisation
// (upper case, one space before the inward code).
var postcodePattern = regexp.MustCompile(`^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$`)

// normalisePostcode upper-cases and puts the single space where it belongs,
// so 'nr12dh' and 'NR1  2DH' are both kept as 'NR1 2DH'.
func normalisePostcode(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) < 5 || len(s) > 7 {
		return s
	}
	return s[:len(s)-3] + " " + s[len(s)-3:]
}

func validEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	return err == nil && addr.Address == s && strings.Contains(s[strings.LastIndex(s, "@")+1:], ".")
}

// prefillReferrer fills the referrer's name and email from the ID token
// claims where the person has not typed them.
func prefillReferrer(a *Answers, p *Person) {
	if p == nil {
		return
	}
	if a.ReferrerName == "" {
		switch {
		case p.GivenName != "" || p.FamilyName != "":
			a.ReferrerName = strings.TrimSpace(p.GivenName + " " + p.FamilyName)
		default:
			a.ReferrerName = p.Name
		}
	}
	if a.ReferrerEmail == "" {
		a.ReferrerEmail = p.Email
	}
}
