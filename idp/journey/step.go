package journey

// Step is where a journey stands: each step is one page the person sees.
type Step string

const (
	// Sign in: email and password ('Sign In' page).
	StepSignIn Step = "sign_in"

	// Sign up (guide steps 3-7).
	StepSignUpEmail         Step = "signup_email"          // email, 'Send verification code'
	StepSignUpEmailCode     Step = "signup_email_code"     // 'Verification code', 'Verify code'
	StepSignUpEmailVerified Step = "signup_email_verified" // 'Continue'
	StepSignUpDetails       Step = "signup_details"        // names and password, 'Create'

	// Phone enrolment (guide steps 8-11), also the second half of an unfinished sign-up
	// resumed at sign-in, and of a change of phone number.
	StepPhoneEnter           Step = "phone_enter"             // number, 'Send Code' / 'Call Me'
	StepPhoneSMSCode         Step = "phone_sms_code"          // code sent by text
	StepPhoneCallWait        Step = "phone_call_wait"         // waiting for # on the call
	StepPhoneConfirm         Step = "phone_confirm"           // 'repeat this process': choose a method
	StepPhoneConfirmSMSCode  Step = "phone_confirm_sms_code"  // second code by text
	StepPhoneConfirmCallWait Step = "phone_confirm_call_wait" // second call

	// Phone challenge on the enrolled number (every sign-in, password reset, change of number).
	StepChallenge         Step = "challenge"           // masked number, 'Send Code' / 'Call Me'
	StepChallengeSMSCode  Step = "challenge_sms_code"  // code sent by text
	StepChallengeCallWait Step = "challenge_call_wait" // waiting for # on the call

	// Forgot your password.
	StepForgotEmail       Step = "forgot_email"        // email
	StepForgotEmailCode   Step = "forgot_email_code"   // code sent by email
	StepForgotNewPassword Step = "forgot_new_password" // new password and confirmation

	// An account imported from another sign-in service (Azure AD B2C, or another
	// instance's export) that has no password here yet.
	StepPasswordUnavailable Step = "password_unavailable" // 'We cannot check your password right now'
	StepNewService          Step = "new_service"          // 'moved to a new sign-in service': set a new password

	// Changing a lost phone number oneself (Policy.PhoneRecovery), from the
	// phone challenge of a sign-in after the password: a code to the account's
	// email address, then the new number enrolled (StepPhoneEnter...), then the
	// page saying when it takes effect. The sign-in does not complete.
	StepRecoveryEmailCode Step = "recovery_email_code" // code sent by email
	StepRecoveryPending   Step = "recovery_pending"    // 'Your phone number will change on ...'

	// Done: the journey has ended; the caller acts on the CompleteAuth effect.
	StepDone Step = "done"
)

// Steps lists every step, in the order a reader meets them.
var Steps = []Step{
	StepSignIn,
	StepSignUpEmail, StepSignUpEmailCode, StepSignUpEmailVerified, StepSignUpDetails,
	StepPhoneEnter, StepPhoneSMSCode, StepPhoneCallWait,
	StepPhoneConfirm, StepPhoneConfirmSMSCode, StepPhoneConfirmCallWait,
	StepChallenge, StepChallengeSMSCode, StepChallengeCallWait,
	StepForgotEmail, StepForgotEmailCode, StepForgotNewPassword,
	StepPasswordUnavailable, StepNewService,
	StepRecoveryEmailCode, StepRecoveryPending,
	StepDone,
}

// Kind is what the person set out to do. A journey begins as KindSignIn (or
// KindChangePhone from the account pages) and becomes KindSignUp or
// KindForgotPassword when the person follows 'Sign up now' or 'Forgot your password?'.
type Kind string

const (
	KindSignIn         Kind = "sign_in"
	KindSignUp         Kind = "sign_up"
	KindForgotPassword Kind = "forgot_password"
	KindChangePhone    Kind = "change_phone"
	// KindRecoverPhone: a sign-in whose phone is lost, changing the number
	// through the account's email address (Policy.PhoneRecovery).
	KindRecoverPhone Kind = "recover_phone"
)

// stage is which phone proof a step belongs to; the dispatcher uses it to pick the
// code and call steps for a method and the next step after a proof.
type stage int

const (
	stageNone stage = iota
	stageEnrol
	stageConfirm
	stageChallenge
)

func stageOf(s Step) stage {
	switch s {
	case StepPhoneEnter, StepPhoneSMSCode, StepPhoneCallWait:
		return stageEnrol
	case StepPhoneConfirm, StepPhoneConfirmSMSCode, StepPhoneConfirmCallWait:
		return stageConfirm
	case StepChallenge, StepChallengeSMSCode, StepChallengeCallWait:
		return stageChallenge
	}
	return stageNone
}

// stageSteps gives, for each stage, its choose, code and call-wait steps.
var stageSteps = map[stage]struct{ choose, smsCode, callWait Step }{
	stageEnrol:     {StepPhoneEnter, StepPhoneSMSCode, StepPhoneCallWait},
	stageConfirm:   {StepPhoneConfirm, StepPhoneConfirmSMSCode, StepPhoneConfirmCallWait},
	stageChallenge: {StepChallenge, StepChallengeSMSCode, StepChallengeCallWait},
}

// IsSMSCodeStep reports whether s is a page where the person types a code sent by text.
func (s Step) IsSMSCodeStep() bool {
	return s == StepPhoneSMSCode || s == StepPhoneConfirmSMSCode || s == StepChallengeSMSCode
}

// IsCallWaitStep reports whether s is a page that waits for the person to press # on a call.
func (s Step) IsCallWaitStep() bool {
	return s == StepPhoneCallWait || s == StepPhoneConfirmCallWait || s == StepChallengeCallWait
}

// IsEmailCodeStep reports whether s is a page where the person types a code sent by email.
func (s Step) IsEmailCodeStep() bool {
	return s == StepSignUpEmailCode || s == StepForgotEmailCode || s == StepRecoveryEmailCode
}
