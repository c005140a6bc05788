package ui

import (
	"time"
)

// sample is one page rendered in the tests: a representative model and
// the same model with errors.
type sample struct {
	page       string
	model      any
	withErrors any
	// labels that the council's guide (or the page's contract) fixes.
	labels []string
}

var sampleTime = time.Date(2026, 3, 3, 14, 5, 0, 0, time.UTC)

// sampleSets are more samples, each area's from its own file (the console's:
// admin_samples_test.go), added by an init there.
var sampleSets []func() []sample

func samples() []sample {
	all := baseSamples()
	for _, set := range sampleSets {
		all = append(all, set()...)
	}
	return all
}

func baseSamples() []sample {
	return []sample{
		{
			page: PageSignIn,
			model: SignInPage{
				Action: "/login/sign-in", Email: "sam.jones@example.org",
				SignUpURL: "/login/sign-up", ForgotPasswordURL: "/login/forgot",
				ClientName: "Make a social care referral",
			},
			withErrors: SignInPage{
				Page: Page{Errors: []FieldError{
					{Field: FieldEmail, Message: "Enter an email address in the correct format, like name@example.com"},
					{Field: FieldPassword, Message: "Enter your password"},
				}},
				Action: "/login/sign-in", Email: "sam.jones", SignUpURL: "/login/sign-up", ForgotPasswordURL: "/login/forgot",
			},
			labels: []string{">Sign In</h1>", "Email address", "Password", "Sign in", "Sign up now", "Forgot your password?"},
		},
		{
			page:  PageSignUpEmail,
			model: SignUpEmailPage{Page: Page{BackURL: "/login"}, Action: "/login/sign-up"},
			withErrors: SignUpEmailPage{
				Page:   Page{BackURL: "/login", Errors: []FieldError{{Field: FieldEmail, Message: "Enter your email address"}}},
				Action: "/login/sign-up",
			},
			labels: []string{">Sign up</h1>", "Email address", "Send verification code"},
		},
		{
			page: PageEmailCode,
			model: EmailCodePage{
				Page: Page{Notice: "We have sent a new code to sam.jones@example.org",
					TimeoutSeconds: 3600, TimeoutWarnSeconds: 120, KeepAliveURL: "/login/keep-alive"},
				Action: "/login/email-code", Email: "sam.jones@example.org",
				ResendAction: "/login/email-code/resend", ChangeEmailURL: "/login/sign-up", ValidMinutes: 10,
			},
			withErrors: EmailCodePage{
				Page:   Page{Errors: []FieldError{{Field: FieldCode, Message: "The code you entered is not correct, or may have expired"}}},
				Action: "/login/email-code", Email: "sam.jones@example.org",
				ResendAction: "/login/email-code/resend", ChangeEmailURL: "/login/sign-up",
			},
			labels: []string{">Check your email</h1>", "Verification code", "Verify code", "Send a new code", "Change email address",
				"6-digit code", "The code expires after 10 minutes.", "could take a few minutes to arrive", "spam or junk folder", "Problems signing in",
				"for 60 minutes, we will clear what you have entered", `data-app-keep-alive-url="/login/keep-alive"`, `<template id="app-timeout"`},
		},
		{
			page:       PageEmailVerified,
			model:      EmailVerifiedPage{Action: "/login/email-verified"},
			withErrors: EmailVerifiedPage{Page: Page{Errors: []FieldError{{Message: "Something went wrong. Try again."}}}, Action: "/login/email-verified"},
			labels:     []string{"Your email address has now been verified", "Continue"},
		},
		{
			page:       PageResume,
			model:      ResumePage{Action: "/login/resume", Request: "req-1", MaskedEmail: "s***@example.org"},
			withErrors: ResumePage{Page: Page{Errors: []FieldError{{Message: "Something went wrong. Try again."}}}, Action: "/login/resume", Request: "req-1"},
			labels:     []string{"You have already started signing in", "s***@example.org", "Continue", "Start again"},
		},
		{
			page:  PageSignUpDetails,
			model: SignUpDetailsPage{Action: "/login/details", GivenName: "Sam", Surname: "Jones"},
			withErrors: SignUpDetailsPage{
				Page: Page{Errors: []FieldError{
					{Field: FieldGivenName, Message: "Enter your given name"},
					{Field: FieldPassword, Message: "Password must be 8 characters or more"},
					{Field: FieldConfirmPassword, Message: "Passwords must match"},
				}},
				Action: "/login/details", Surname: "Jones",
			},
			labels: []string{">Create your account</h1>", "Given name", "Family name", "Password", "Confirm password", "Create"},
		},
		{
			page:  PagePhoneEnter,
			model: PhoneEnterPage{Action: "/login/phone"},
			withErrors: PhoneEnterPage{
				Page:   Page{Errors: []FieldError{{Field: FieldPhone, Message: "This is a landline number. Choose 'Call Me' to get an automated call"}}},
				Action: "/login/phone", PhoneNumber: "01603 222222",
			},
			labels: []string{">Enter your phone number</h1>", "Phone number", "Send Code", "Call Me", "landline", "every time"},
		},
		{
			page:       PagePhoneChallenge,
			model:      PhoneChallengePage{Action: "/login/phone-challenge", MaskedPhone: "07*** ***789", Mobile: true, LostPhoneURL: PathLostPhone},
			withErrors: PhoneChallengePage{Page: Page{Title: "Confirm your phone number", Errors: []FieldError{{Message: "You have asked for too many codes. Wait 15 minutes, then try again."}}}, Action: "/login/phone-challenge", MaskedPhone: "01*** ***222"},
			labels:     []string{">Confirm it is you</h1>", "07*** ***789", "Send Code", "Call Me", `href="/help/lost-phone">I cannot use this phone number</a>`},
		},
		{
			page: PageSMSCode,
			model: SMSCodePage{
				Action: "/login/sms-code", MaskedPhone: "07700 900789",
				ResendAction: "/login/phone-challenge", CallAction: "/login/phone-challenge", ValidMinutes: 1,
			},
			withErrors: SMSCodePage{
				Page:   Page{Errors: []FieldError{{Field: FieldCode, Message: "The code you entered is not correct, or may have expired"}}},
				Action: "/login/sms-code", MaskedPhone: "07*** ***789",
				ResendAction: "/login/phone-challenge", CallAction: "/login/phone-challenge",
			},
			labels: []string{">Check your phone</h1>", "Verification code", "Verify code", "Send a new code", "Call Me instead", "Not received a text message?",
				"07700 900789", "The code expires after 1 minute."},
		},
		{
			page:  PageCallWait,
			model: CallWaitPage{Action: "/login/call", MaskedPhone: "01*** ***222", StatusURL: "/login/call/status"},
			withErrors: CallWaitPage{
				Action: "/login/call", MaskedPhone: "07*** ***789", Mobile: true,
				Failure: "The call was not answered", RetryAction: "/login/phone-challenge",
			},
			labels: []string{">We are calling you</h1>", "Answer the call to <strong>01*** ***222</strong> and press the hash key (#) on your phone", "Continue", "When you have pressed the hash key, select 'Continue'.",
				`role="status"`, "Waiting for you to answer the call", "Problems signing in"},
		},
		{
			page:  PageForgotEmail,
			model: ForgotEmailPage{Page: Page{BackURL: "/login"}, Action: "/login/forgot"},
			withErrors: ForgotEmailPage{
				Page:   Page{Errors: []FieldError{{Field: FieldEmail, Message: "Enter your email address"}}},
				Action: "/login/forgot",
			},
			labels: []string{">Reset your password</h1>", "Email address", "Send verification code"},
		},
		{
			page:  PageForgotNewPassword,
			model: ForgotNewPasswordPage{Action: "/login/forgot/password"},
			withErrors: ForgotNewPasswordPage{
				Page:   Page{Errors: []FieldError{{Field: FieldPassword, Message: "Enter a new password"}, {Field: FieldConfirmPassword, Message: "Passwords must match"}}},
				Action: "/login/forgot/password",
			},
			labels: []string{">Create a new password</h1>", "New password", "Confirm password", "Continue"},
		},
		{
			page: PageAccount,
			model: AccountPage{
				Page: Page{SignedInAs: "Sam Jones", Notice: "Your phone number has been changed"},
				Name: "Sam Jones", Email: "sam.jones@example.org", MaskedPhone: "07*** ***789", ChangePhoneURL: "/account/phone",
			},
			withErrors: AccountPage{
				Page: Page{SignedInAs: "Sam Jones", Errors: []FieldError{{Message: "We could not change your phone number. Try again."}}},
				Name: "Sam Jones", Email: "sam.jones@example.org", MaskedPhone: "07*** ***789", ChangePhoneURL: "/account/phone",
			},
			labels: []string{"Signed in as <strong>Sam Jones</strong>", "Sign out", "sam.jones@example.org", "07*** ***789", "Change phone number"},
		},
		{
			page:  PageMessage,
			model: AccountLockedMessage("", sampleTime, "/login/forgot"),
			withErrors: func() MessagePage {
				m := SessionTimedOutMessage("", "/login")
				m.Errors = []FieldError{{Message: "Your session has timed out"}}
				return m
			}(),
			labels: []string{">Your account is locked</h1>", "try again after 2:05pm on 3 March 2026 or reset your password"},
		},
		{
			page:       PageHelp,
			model:      HelpPage{CodeMinutes: 10, ResetPasswordURL: "/login/forgot-password"},
			withErrors: HelpPage{Page: Page{Errors: []FieldError{{Message: "Something went wrong. Try again."}}}},
			labels: []string{">Problems signing in</h1>", "A code works for 10 minutes", `href="/help/lost-phone"`,
				`href="/login/forgot-password">reset your password</a>`, "You have changed your email address", "Contact Norfolk County Council"},
		},
		{
			page: PageCookies,
			model: CookiesPage{Cookies: []CookieInfo{
				{Name: "__Host-idp_journey", Purpose: "Remembers where you are in signing in.", Expires: "When you close your browser"},
				{Name: "__Host-idp_device", Purpose: "Recognises a browser you have signed in with before.", Expires: "1 year"},
			}},
			withErrors: CookiesPage{Page: Page{Errors: []FieldError{{Message: "Something went wrong. Try again."}}}},
			labels:     []string{">Cookies</h1>", "<code>__Host-idp_journey</code>", "1 year", "Strictly necessary cookies"},
		},
		{
			page:       PageContact,
			model:      ContactPage{},
			withErrors: ContactPage{Page: Page{Errors: []FieldError{{Message: "Something went wrong. Try again."}}}},
			labels:     []string{">Contact Norfolk County Council</h1>", "You can find their details on the council's website"},
		},
		{
			page: PageLostPhone,
			// With IDP_PHONE_RECOVERY, in a sign-in after the password; with
			// errors, as without it.
			model:      LostPhonePage{Page: Page{BackURL: "/login"}, RecoveryAction: "/login/phone-recovery", RecoveryWait: "72 hours"},
			withErrors: LostPhonePage{Page: Page{Errors: []FieldError{{Message: "Something went wrong. Try again."}}}},
			labels: []string{">If you cannot use your phone number</h1>", "What we will check", "can remove the old phone number",
				"Change your phone number yourself", "only after 72 hours"},
		},
		{
			page: PageDevInbox,
			model: DevInboxPage{Items: []DevItem{
				{ID: "v1", Channel: "voice", To: "+441603222222", Body: "This is Norfolk County Council. Press the hash key to confirm your phone number.", CreatedAt: sampleTime.Add(2 * time.Minute), CallPending: true},
				{ID: "s1", Channel: "sms", To: "+447700900789", Body: "123456 is your Norfolk County Council verification code.", Code: "123456", CreatedAt: sampleTime.Add(time.Minute)},
				{ID: "e1", Channel: "email", To: "sam.jones@example.org", Subject: "Norfolk County Council account email verification code", Body: "Your verification code is 654321.\n\nIt expires in 1 hour.", Code: "654321", CreatedAt: sampleTime},
			}},
			withErrors: DevInboxPage{Page: Page{Errors: []FieldError{{Message: "That call has already ended"}}}},
			labels:     []string{">Dev inbox</h1>", "Press # on the call", `action="/dev/calls/v1/keypress"`, `name="digits" value="#"`, "123456", "Norfolk County Council account email verification code"},
		},
	}
}
