package journey

import "fmt"

// handler applies one event at one step. It may change the state copy in t, add
// effects and field errors, and name a milestone for the dispatcher (advance); it
// never picks the next step of a finished stage itself.
type handler func(t *tx, e Event) error

// transitions is the whole journey: for each step, the events it accepts. Any other
// event is refused. MACHINE.md is its diagram, and doc.go's the moves a person makes;
// TestRandomWalks keeps both in step with it (go test -run TestRandomWalks -update
// rewrites MACHINE.md).
var transitions = map[Step]map[EventKind]handler{
	StepSignIn: {
		EventSubmitSignIn:        submitSignIn,
		EventPasswordChecked:     passwordChecked,
		EventStartSignUp:         startSignUp,
		EventStartForgotPassword: startForgotPassword,
	},
	StepSignUpEmail: {
		EventSubmitEmail:     submitEmail,
		EventAccountLookedUp: accountLookedUp,
		EventGoToSignIn:      goToSignIn,
	},
	StepSignUpEmailCode: {
		EventSubmitEmailCode:    submitEmailCode,
		EventCodeGuessesChecked: codeGuessesChecked,
		EventWrongCodeRecorded:  wrongCodeRecorded,
		EventResendEmailCode:    resendEmailCode,
		EventChangeEmail:        changeEmail,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepSignUpEmailVerified: {
		EventContinue: continueToDetails,
	},
	StepSignUpDetails: {
		EventSubmitDetails: submitDetails,
		EventUserCreated:   userCreated,
	},
	StepPhoneEnter: {
		EventSubmitPhone: submitPhone,
	},
	StepPhoneSMSCode: {
		EventSubmitSMSCode:      submitSMSCode,
		EventCodeGuessesChecked: codeGuessesChecked,
		EventWrongCodeRecorded:  wrongCodeRecorded,
		EventSMSNotSent:         smsNotSent,
		EventResendSMSCode:      resendSMSCode,
		EventChooseMethod:       chooseMethod,
		EventChangePhoneNumber:  changePhoneNumber,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepPhoneCallWait: {
		EventCallOutcome:       callOutcome,
		EventContinue:          waitForCall,
		EventChooseMethod:      chooseMethod,
		EventChangePhoneNumber: changePhoneNumber,
		EventSendBudgetChecked: sendBudgetChecked,
	},
	StepPhoneConfirm: {
		EventChooseMethod: chooseMethod,
	},
	StepPhoneConfirmSMSCode: {
		EventSubmitSMSCode:      submitSMSCode,
		EventCodeGuessesChecked: codeGuessesChecked,
		EventWrongCodeRecorded:  wrongCodeRecorded,
		EventSMSNotSent:         smsNotSent,
		EventResendSMSCode:      resendSMSCode,
		EventBackToPhoneChoice:  backToPhoneChoice,
		EventChooseMethod:       chooseMethod,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepPhoneConfirmCallWait: {
		EventCallOutcome:       callOutcome,
		EventContinue:          waitForCall,
		EventBackToPhoneChoice: backToPhoneChoice,
		EventChooseMethod:      chooseMethod,
		EventSendBudgetChecked: sendBudgetChecked,
	},
	StepChallenge: {
		EventChooseMethod:       chooseMethod,
		EventStartPhoneRecovery: startPhoneRecovery,
	},
	StepChallengeSMSCode: {
		EventStartPhoneRecovery: startPhoneRecovery,
		EventSubmitSMSCode:      submitSMSCode,
		EventCodeGuessesChecked: codeGuessesChecked,
		EventWrongCodeRecorded:  wrongCodeRecorded,
		EventSMSNotSent:         smsNotSent,
		EventResendSMSCode:      resendSMSCode,
		EventBackToPhoneChoice:  backToPhoneChoice,
		EventChooseMethod:       chooseMethod,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepChallengeCallWait: {
		EventStartPhoneRecovery: startPhoneRecovery,
		EventCallOutcome:        callOutcome,
		EventContinue:           waitForCall,
		EventBackToPhoneChoice:  backToPhoneChoice,
		EventChooseMethod:       chooseMethod,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepForgotEmail: {
		EventSubmitEmail:     submitEmail,
		EventAccountLookedUp: accountLookedUp,
		EventGoToSignIn:      goToSignIn,
	},
	StepForgotEmailCode: {
		EventSubmitEmailCode:    submitEmailCode,
		EventCodeGuessesChecked: codeGuessesChecked,
		EventWrongCodeRecorded:  wrongCodeRecorded,
		EventResendEmailCode:    resendEmailCode,
		EventChangeEmail:        changeEmail,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepForgotNewPassword: {
		EventSubmitNewPassword: submitNewPassword,
	},
	StepPasswordUnavailable: {
		EventStartForgotPassword: startForgotPassword,
		EventGoToSignIn:          goToSignIn,
	},
	StepNewService: {
		EventContinue:   setNewPassword,
		EventGoToSignIn: goToSignIn,
	},
	StepRecoveryEmailCode: {
		EventSubmitEmailCode:    submitEmailCode,
		EventCodeGuessesChecked: codeGuessesChecked,
		EventWrongCodeRecorded:  wrongCodeRecorded,
		EventResendEmailCode:    resendEmailCode,
		EventSendBudgetChecked:  sendBudgetChecked,
	},
	StepRecoveryPending: {
		EventGoToSignIn: goToSignIn,
	},
	StepDone: {},
}

// milestone is what a handler achieved; advance turns it into the next step.
type milestone int

const (
	passwordAccepted milestone = iota // sign-in: the password was right
	emailProven                       // the email code was right
	accountCreated                    // sign-up: CreateUser answered
	phoneProven                       // a code or a call proved the phone of the current stage
	passwordReset                     // a new password was set
)

// advance is the one dispatcher: it decides the next step from the milestone and the
// stored state (kind, stage, account facts, policy). Handlers never choose the step
// that follows a finished stage.
func (t *tx) advance(ms milestone) error {
	s := t.s
	switch ms {
	case passwordAccepted:
		if s.AccountPhone != "" {
			t.startChallenge()
		} else {
			t.startEnrolment() // an unfinished sign-up resumes here
		}
	case emailProven:
		switch s.Kind {
		case KindSignUp:
			t.goTo(StepSignUpEmailVerified)
		case KindRecoverPhone:
			t.startEnrolment()
		case KindForgotPassword:
			if s.AccountPhone != "" {
				t.startChallenge()
			} else {
				t.goTo(StepForgotNewPassword) // no phone yet: enrol after the reset
			}
		}
	case accountCreated:
		t.startEnrolment()
	case phoneProven:
		switch stageOf(s.Step) {
		case stageChallenge:
			switch s.Kind {
			case KindSignIn:
				if s.PhoneChangePending {
					// The person has the account's phone after all.
					t.effect(CancelPhoneChange{UserID: s.UserID, Reason: "signed in with the account's phone"})
					s.PhoneChangePending = false
				}
				return t.finish()
			case KindForgotPassword:
				t.goTo(StepForgotNewPassword)
			case KindChangePhone:
				t.startEnrolment()
			}
		case stageEnrol:
			if t.m.policy.PhoneConfirmTwice {
				t.startConfirmation()
			} else {
				return t.phoneEnrolled()
			}
		case stageConfirm:
			return t.phoneEnrolled()
		}
	case passwordReset:
		if s.phoneProven() {
			return t.finish()
		}
		t.startEnrolment()
	}
	return nil
}

func (t *tx) startChallenge() {
	t.s.Phone, t.s.PhoneType = t.s.AccountPhone, t.s.AccountPhoneType
	t.resetPhoneProof()
	t.goTo(StepChallenge)
}

func (t *tx) startEnrolment() {
	t.s.Phone, t.s.PhoneType = "", ""
	t.resetPhoneProof()
	t.goTo(StepPhoneEnter)
}

func (t *tx) startConfirmation() {
	t.resetPhoneProof()
	t.goTo(StepPhoneConfirm)
}

func (t *tx) resetPhoneProof() {
	t.s.PhoneCode, t.s.Call, t.s.StageSent = nil, nil, false
}

// phoneEnrolled stores the newly proven number and finishes.
func (t *tx) phoneEnrolled() error {
	s := t.s
	if s.Kind == KindRecoverPhone {
		return t.phoneRecoveryRequested()
	}
	kind := "phone.enrolled"
	if s.Kind == KindChangePhone {
		kind = "phone.changed"
	}
	t.effect(SetPhone{UserID: s.UserID, Number: s.Phone, Type: s.PhoneType},
		Audit{Kind: kind, UserID: s.UserID, Detail: "number ending " + PhoneEnding(s.Phone)})
	s.AccountPhone, s.AccountPhoneType = s.Phone, s.PhoneType
	return t.finish()
}

// finish ends the journey. It enforces the rule that no journey completes without a
// phone proven in it.
func (t *tx) finish() error {
	s := t.s
	if !s.phoneProven() || s.UserID == "" {
		return fmt.Errorf("journey: %s: cannot complete without a user and a phone verified in this journey", s.ID)
	}
	t.resetPhoneProof()
	s.EmailCode = nil
	t.goTo(StepDone)
	amr := s.amr()
	t.effect(
		Audit{Kind: "journey.completed", UserID: s.UserID, Detail: string(s.Kind) + " amr=" + joinAMR(amr)},
		CompleteAuth{AuthRequestID: s.AuthRequestID, UserID: s.UserID, AMR: amr, AuthTime: t.now},
	)
	return nil
}

func joinAMR(a []string) string {
	out := ""
	for i, v := range a {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
