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
//	*_call_wait             'press #' notice, refresh and 'Continue' Continue; ChooseMethod
//	phone_confirm,challenge MaskPhone(State.Phone); 'Send Code' (mobiles only:
//	                        State.PhoneType) / 'Call Me' ChooseMethod
//	forgot_email            email: SubmitEmail; back GoToSignIn
//	forgot_email_code       like signup_email_code
//	forgot_new_password     password, confirmation: SubmitNewPassword
//	password_unavailable    'We cannot check your password right now': 'Try again'
//	                        GoToSignIn, 'Forgot your password?' StartForgotPassword
//	new_service             'moved to a new sign-in service': 'Continue' Continue (a
//	                        code to the imported address, as a password reset); back
//	                        GoToSignIn
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
// # Steps and transitions
//
// Every transition of the table in table.go; a self-loop is a mistake shown on the
// page, a resend, or a query in progress. A test keeps this diagram and the table in
// step.
//
//	```mermaid
//	stateDiagram-v2
//	    [*] --> sign_in
//	    [*] --> challenge : NewChangePhone
//
//	    sign_in --> sign_in : submit_sign_in, password_checked
//	    sign_in --> challenge : password_checked
//	    sign_in --> phone_enter : password_checked
//	    sign_in --> signup_email : start_sign_up
//	    sign_in --> forgot_email : start_forgot_password
//	    sign_in --> password_unavailable : password_checked
//	    sign_in --> new_service : password_checked
//
//	    password_unavailable --> sign_in : go_to_sign_in
//	    password_unavailable --> forgot_email : start_forgot_password
//	    new_service --> forgot_email_code : continue
//	    new_service --> sign_in : go_to_sign_in
//
//	    signup_email --> signup_email : submit_email, account_looked_up
//	    signup_email --> signup_email_code : account_looked_up
//	    signup_email --> sign_in : go_to_sign_in
//	    signup_email_code --> signup_email_code : submit_email_code, code_guesses_checked, wrong_code_recorded, resend_email_code, send_budget_checked
//	    signup_email_code --> signup_email : change_email, send_budget_checked
//	    signup_email_code --> signup_email_verified : code_guesses_checked
//	    signup_email_verified --> signup_details : continue
//	    signup_details --> signup_details : submit_details
//	    signup_details --> phone_enter : user_created
//
//	    phone_enter --> phone_enter : submit_phone
//	    phone_enter --> phone_sms_code : submit_phone
//	    phone_enter --> phone_call_wait : submit_phone
//	    phone_sms_code --> phone_sms_code : submit_sms_code, code_guesses_checked, wrong_code_recorded, resend_sms_code, choose_method, send_budget_checked
//	    phone_sms_code --> phone_call_wait : choose_method, send_budget_checked
//	    phone_sms_code --> phone_enter : change_phone_number, send_budget_checked, sms_not_sent
//	    phone_sms_code --> phone_confirm : code_guesses_checked
//	    phone_sms_code --> done : code_guesses_checked
//	    phone_call_wait --> phone_call_wait : continue, choose_method, send_budget_checked
//	    phone_call_wait --> phone_sms_code : choose_method, send_budget_checked
//	    phone_call_wait --> phone_enter : call_outcome, continue, change_phone_number, send_budget_checked
//	    phone_call_wait --> phone_confirm : call_outcome
//	    phone_call_wait --> done : call_outcome
//
//	    phone_confirm --> phone_confirm : choose_method
//	    phone_confirm --> phone_confirm_sms_code : choose_method
//	    phone_confirm --> phone_confirm_call_wait : choose_method
//	    phone_confirm_sms_code --> phone_confirm_sms_code : submit_sms_code, code_guesses_checked, wrong_code_recorded, resend_sms_code, choose_method, send_budget_checked
//	    phone_confirm_sms_code --> phone_confirm_call_wait : choose_method, send_budget_checked
//	    phone_confirm_sms_code --> phone_confirm : send_budget_checked, sms_not_sent
//	    phone_confirm_sms_code --> done : code_guesses_checked
//	    phone_confirm_call_wait --> phone_confirm_call_wait : continue, choose_method, send_budget_checked
//	    phone_confirm_call_wait --> phone_confirm_sms_code : choose_method, send_budget_checked
//	    phone_confirm_call_wait --> phone_confirm : call_outcome, continue, send_budget_checked
//	    phone_confirm_call_wait --> done : call_outcome
//
//	    challenge --> challenge : choose_method
//	    challenge --> challenge_sms_code : choose_method
//	    challenge --> challenge_call_wait : choose_method
//	    challenge_sms_code --> challenge_sms_code : submit_sms_code, code_guesses_checked, wrong_code_recorded, resend_sms_code, choose_method, send_budget_checked
//	    challenge_sms_code --> challenge_call_wait : choose_method, send_budget_checked
//	    challenge_sms_code --> challenge : send_budget_checked, sms_not_sent
//	    challenge_sms_code --> done : code_guesses_checked
//	    challenge_sms_code --> forgot_new_password : code_guesses_checked
//	    challenge_sms_code --> phone_enter : code_guesses_checked
//	    challenge_call_wait --> challenge_call_wait : continue, choose_method, send_budget_checked
//	    challenge_call_wait --> challenge_sms_code : choose_method, send_budget_checked
//	    challenge_call_wait --> challenge : call_outcome, continue, send_budget_checked
//	    challenge_call_wait --> done : call_outcome
//	    challenge_call_wait --> forgot_new_password : call_outcome
//	    challenge_call_wait --> phone_enter : call_outcome
//
//	    forgot_email --> forgot_email : submit_email, account_looked_up
//	    forgot_email --> forgot_email_code : account_looked_up
//	    forgot_email --> sign_in : go_to_sign_in
//	    forgot_email_code --> forgot_email_code : submit_email_code, code_guesses_checked, wrong_code_recorded, resend_email_code, send_budget_checked
//	    forgot_email_code --> forgot_email : change_email, send_budget_checked
//	    forgot_email_code --> new_service : send_budget_checked
//	    forgot_email_code --> challenge : code_guesses_checked
//	    forgot_email_code --> forgot_new_password : code_guesses_checked
//	    forgot_new_password --> forgot_new_password : submit_new_password
//	    forgot_new_password --> done : submit_new_password
//	    forgot_new_password --> phone_enter : submit_new_password
//
//	    done --> [*]
//	```
package journey
