// Package journey owns the sign-in, sign-up, password-reset and change-of-phone
// journeys as one explicit state machine: the steps (pages), the events that move
// between them, the rules on codes (expiry, attempts, resends) and what each
// transition asks the caller to do (Effects).
//
// It is pure Go: it must not import net/http, database/sql, pgx, go-redis, the OIDC
// library, the ui package or any store backend. It does no I/O: the caller loads the
// State from the ephemeral store, applies an event, saves the new State with
// compare-and-set, then performs the effects.
//
// # Driving it
//
// A page handler turns the form post into an Event and calls Machine.Drive with an
// Answer function. Drive applies the event and, whenever a transition needs a fact
// from the store, hands a Query to Answer and applies the event it returns:
//
//	LookUpAccount   -> AccountLookedUp   (is there an account with this email?)
//	CheckPassword   -> PasswordChecked   (the caller counts failures and locks accounts)
//	CreateUser      -> UserCreated       ('Create')
//	CheckSendBudget -> SendBudgetChecked (durable per-recipient, per-network and per-account budgets)
//	CheckCodeGuesses -> CodeGuessesChecked (are this address's, number's or account's codes locked?)
//	RecordWrongCode  -> WrongCodeRecorded  (count a wrong code: did it lock them?)
//
// The caller then saves Result.State (compare-and-set on the version it loaded: a
// double click, a back button or a second tab loses with store.ErrConflict and
// reloads) and performs Result.Effects in order: send messages, set the phone or
// password, end counts of wrong codes, revoke tokens, audit, and CompleteAuth.
// Result.Errors are the messages to show. An event the current step does not
// accept gives a *Refused error and changes nothing: the handler shows the page of
// the current step.
//
// Call outcomes arrive from the call simulator or the voice webhook; the handler of
// a waiting page applies CallOutcome when one has been recorded for State.Call.ID,
// and Continue otherwise (which notices a call never answered in time).
//
// # Pages
//
// One page per step; what it shows comes from the State, its buttons send events:
//
//	sign_in                 email, password: 'Sign in' SubmitSignIn, 'Sign up now' StartSignUp,
//	                        'Forgot your password?' StartForgotPassword
//	signup_email            email: 'Send verification code' SubmitEmail; back GoToSignIn
//	signup_email_code       'Verification code': 'Verify code' SubmitEmailCode; ResendEmailCode,
//	                        ChangeEmail (State.Email says where the code went)
//	signup_email_verified   'Continue' Continue
//	signup_details          given name, surname, password, confirmation: 'Create' SubmitDetails
//	phone_enter             number: 'Send Code' / 'Call Me' SubmitPhone (State.Phone refills it)
//	*_sms_code              code: SubmitSMSCode; ResendSMSCode; 'Call me instead' ChooseMethod
//	*_call_wait             'press #' notice, 'Continue' (or a reload) Continue; ChooseMethod
//	phone_confirm,challenge MaskPhone(State.Phone); 'Send Code' (mobiles only:
//	                        State.PhoneType) / 'Call Me' ChooseMethod
//	challenge*              in a sign-in after the password, with Policy.PhoneRecovery:
//	                        'I cannot use this phone number', then on the lost-phone
//	                        page 'Change your phone number yourself' StartPhoneRecovery
//	forgot_email            email: SubmitEmail; back GoToSignIn
//	forgot_email_code       like signup_email_code
//	forgot_new_password     password, confirmation: SubmitNewPassword
//	password_unavailable    'We cannot check your password right now': 'Try again'
//	                        GoToSignIn, 'Forgot your password?' StartForgotPassword
//	new_service             'moved to a new sign-in service': 'Continue' Continue (a
//	                        code to the imported address, as a password reset); back
//	                        GoToSignIn
//	recovery_email_code     like forgot_email_code, the code sent to the account's address
//	recovery_pending        'Your phone number will change on' State.RecoveryAt: 'Sign in
//	                        again' GoToSignIn
//	done                    none: the caller acts on CompleteAuth
//
// Result.Sent says a code or call just went out (show 'We have sent a code');
// State.Call.ID is the key under which the call's outcome is reported.
//
// # Rules
//
// Codes are 6 digits from crypto/rand, kept only as keyed hashes bound to the
// journey, channel and destination; email and text codes last 10 minutes; a new code
// supersedes the old; a few wrong entries kill a code, and a journey may resend only
// a few times per channel in a while (email; phone: texts and calls): the numbers
// are idp/limits' (DefaultCodeAttempts, DefaultResends). Every message is first
// asked of the caller's durable budgets (CheckSendBudget), which say whose account
// it is and whether the number is being enrolled (it is not the account's verified
// number); texts and calls to a verified number say so (Verified), for the share of
// the daily ceiling kept for them. Wrong codes are also counted by the caller
// across journeys, per email address or number and per account: before a code is
// checked the journey asks whether they are locked (CheckCodeGuesses), and a locked
// factor refuses every code, even the right one, saying until when; a wrong code is
// counted (RecordWrongCode), a right one ends the count (ResetWrongCodes). The typed
// code waits for the answer in memory only (codes.go). Sending to an
// address that already has an account at sign-up sends SendAccountExistsEmail
// instead, and a password reset for an unknown address sends nothing: the pages are
// the same either way. The account is created at 'Create'; no journey completes
// before a phone is proven in it; sign-in always ends with a phone challenge; an
// account without a verified phone resumes at phone_enter after its password; with
// Policy.PhoneConfirmTwice a newly enrolled number is proven a second time. AMR in
// CompleteAuth lists what was proven in the journey ("pwd", "sms", "tel").
//
// An account imported from Azure AD B2C (or another instance's export) has no
// password here until its first sign-in. The caller checks the typed password
// with B2C then (after the same throttles and lockout as any password); accepted,
// it is stored and the sign-in goes on as any other (PasswordOK); when B2C cannot
// be asked the journey shows password_unavailable (PasswordUnavailable), and when
// there is no B2C to ask, new_service (PasswordNewRequired), from which the person
// sets a new password as in a password reset of that account.
//
// A person who has lost the account's phone may change the number themselves
// when the council allows it (Policy.PhoneRecovery): from the challenge of a
// sign-in whose password was accepted, a code to the account's email address
// (EmailRecoverPhone), then the new number enrolled as any other (not the
// account's own); it is not set but asked for (RequestPhoneChange) to take
// effect Policy.PhoneRecoveryWait later, announced by email, and the journey
// ends at recovery_pending without signing in: the account's phone was not
// proven. A sign-in proving the account's phone while a change is pending
// (Account.PhoneChangePending) cancels it (CancelPhoneChange).
//
// # The journey for people
//
// The moves a person makes from page to page, and when each is taken. Every page
// also stays where it is on a mistake (shown on the page), a resend ('Send a new
// code', 'Call Me again'), a message the send budgets refuse, or a locked code;
// those moves are left out here. The queries in between (account look-ups, password
// checks, budgets, code locks) are the machine's business: MACHINE.md has every
// transition of the table in table.go, answers included, generated from the random
// walks of walk_test.go, which also keep this diagram in step with the machine.
//
//	```mermaid
//	stateDiagram-v2
//	    [*] --> sign_in : a form app's sign-in link
//	    [*] --> challenge : 'Change phone number' on the account page (NewChangePhone)
//
//	    sign_in --> signup_email : 'Sign up now'
//	    sign_in --> phone_enter : 'Sign in' with the right password, the account has no phone yet
//	    sign_in --> challenge : 'Sign in' with the right password, the account has a phone
//	    sign_in --> forgot_email : 'Forgot your password?'
//	    sign_in --> password_unavailable : 'Sign in' by an account imported from B2C, while B2C cannot check its password
//	    sign_in --> new_service : 'Sign in' by an account imported with no old service to check its password
//	    password_unavailable --> sign_in : 'Try again'
//	    password_unavailable --> forgot_email : 'Forgot your password?'
//	    new_service --> sign_in : 'Back'
//	    new_service --> forgot_email_code : 'Continue' (a code to the account's address, as in a password reset)
//
//	    signup_email --> sign_in : 'Back'
//	    signup_email --> signup_email_code : 'Send verification code' with an address (a code, or an account-exists email)
//	    signup_email_code --> signup_email : 'Change email address'
//	    signup_email_code --> signup_email_verified : 'Verify code' with the right code in time
//	    signup_email_verified --> signup_details : 'Continue'
//	    signup_details --> phone_enter : 'Create' with both names and a password the rule accepts, typed twice
//
//	    phone_enter --> phone_sms_code : 'Send Code' with a mobile number
//	    phone_enter --> phone_call_wait : 'Call Me' with a mobile or landline number
//	    phone_sms_code --> phone_enter : 'Back', or the text is not sent
//	    phone_sms_code --> phone_call_wait : 'Call Me instead'
//	    phone_sms_code --> phone_confirm : 'Verify code' with the right code, and the number is verified twice
//	    phone_sms_code --> done : 'Verify code' with the right code, and the number is verified once
//	    phone_call_wait --> phone_enter : 'Back', or the call ends without the hash key, or 'Continue' after the call is overdue
//	    phone_call_wait --> phone_sms_code : 'Send Code instead' (a mobile)
//	    phone_call_wait --> phone_confirm : the hash key pressed on the call, and the number is verified twice
//	    phone_call_wait --> done : the hash key pressed on the call, and the number is verified once
//
//	    phone_confirm --> phone_confirm_sms_code : 'Send Code' (a mobile)
//	    phone_confirm --> phone_confirm_call_wait : 'Call Me'
//	    phone_confirm_sms_code --> phone_confirm : 'Back', or the text is not sent
//	    phone_confirm_sms_code --> phone_confirm_call_wait : 'Call Me instead'
//	    phone_confirm_sms_code --> done : 'Verify code' with the right code
//	    phone_confirm_call_wait --> phone_confirm : 'Back', or the call ends without the hash key, or 'Continue' after the call is overdue
//	    phone_confirm_call_wait --> phone_confirm_sms_code : 'Send Code instead' (a mobile)
//	    phone_confirm_call_wait --> done : the hash key pressed on the call
//
//	    challenge --> challenge_sms_code : 'Send Code' (the account's number is a mobile)
//	    challenge --> challenge_call_wait : 'Call Me'
//	    challenge_sms_code --> phone_enter : 'Verify code' with the right code, changing the phone
//	    challenge_sms_code --> challenge : 'Back', or the text is not sent
//	    challenge_sms_code --> challenge_call_wait : 'Call Me instead'
//	    challenge_sms_code --> forgot_new_password : 'Verify code' with the right code, resetting the password
//	    challenge_sms_code --> done : 'Verify code' with the right code, signing in
//	    challenge_call_wait --> phone_enter : the hash key pressed on the call, changing the phone
//	    challenge_call_wait --> challenge : 'Back', or the call ends without the hash key, or 'Continue' after the call is overdue
//	    challenge_call_wait --> challenge_sms_code : 'Send Code instead' (a mobile)
//	    challenge_call_wait --> forgot_new_password : the hash key pressed on the call, resetting the password
//	    challenge_call_wait --> done : the hash key pressed on the call, signing in
//
//	    challenge --> recovery_email_code : 'Change your phone number yourself' on the lost-phone page, signing in
//	    challenge_sms_code --> recovery_email_code : 'Change your phone number yourself' on the lost-phone page, signing in
//	    challenge_call_wait --> recovery_email_code : 'Change your phone number yourself' on the lost-phone page, signing in
//	    recovery_email_code --> phone_enter : 'Verify code' with the right code (then the new number, not the account's)
//	    phone_sms_code --> recovery_pending : 'Verify code' with the right code, changing a lost phone, and the number is verified once
//	    phone_call_wait --> recovery_pending : the hash key pressed on the call, changing a lost phone, and the number is verified once
//	    phone_confirm_sms_code --> recovery_pending : 'Verify code' with the right code, changing a lost phone
//	    phone_confirm_call_wait --> recovery_pending : the hash key pressed on the call, changing a lost phone
//	    recovery_pending --> sign_in : 'Sign in again'
//
//	    forgot_email --> sign_in : 'Back'
//	    forgot_email --> forgot_email_code : 'Send verification code' with an address (a code only if it has an account)
//	    forgot_email_code --> forgot_email : 'Change email address'
//	    forgot_email_code --> challenge : 'Verify code' with the right code, the account has a phone
//	    forgot_email_code --> forgot_new_password : 'Verify code' with the right code, the account has no phone
//	    forgot_new_password --> phone_enter : 'Continue' with a new password the rule accepts, the account has no phone yet
//	    forgot_new_password --> done : 'Continue' with a new password the rule accepts, the phone proven in this journey
//
//	    done --> [*]
//	```
package journey
