package journey

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/otp"
)

// Machine applies events to journeys under a Policy. It is safe for concurrent use:
// it holds no journey state itself.
type Machine struct {
	policy Policy
	hasher *otp.Hasher
}

// New returns a Machine. Zero durations and counts in p take DefaultPolicy's values,
// nil NewCode, NewCallID and FormatTime take the defaults; PhoneConfirmTwice is taken
// as given (start from DefaultPolicy to have it on); NewPasswordRule and the hasher are
// required.
func New(p Policy, hasher *otp.Hasher) (*Machine, error) {
	if hasher == nil {
		return nil, errors.New("journey: a code hasher is required")
	}
	if p.NewPasswordRule == nil {
		return nil, errors.New("journey: Policy.NewPasswordRule is required")
	}
	d := DefaultPolicy()
	fill := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	fill(&p.EmailCodeTTL, d.EmailCodeTTL)
	fill(&p.SMSCodeTTL, d.SMSCodeTTL)
	fill(&p.CallTimeout, d.CallTimeout)
	fill(&p.ResendWindow, d.ResendWindow)
	fill(&p.LockoutBase, d.LockoutBase)
	fill(&p.LockoutMax, d.LockoutMax)
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.ResendLimit <= 0 {
		p.ResendLimit = d.ResendLimit
	}
	if p.LockoutThreshold <= 0 {
		p.LockoutThreshold = d.LockoutThreshold
	}
	if p.NewCode == nil {
		p.NewCode = otp.NewCode
	}
	if p.NewCallID == nil {
		p.NewCallID = NewID
	}
	if p.FormatTime == nil {
		p.FormatTime = DefaultFormatTime
	}
	return &Machine{policy: p, hasher: hasher}, nil
}

// Policy returns the rules in force, defaults filled in.
func (m *Machine) Policy() Policy { return m.policy }

// NewID returns a random, unguessable id (256 bits, URL-safe) for a journey or a call.
func NewID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("journey: random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// NewSignIn starts a journey at the 'Sign In' page for the authorization request.
func (m *Machine) NewSignIn(id, authRequestID string, now time.Time) *State {
	return &State{Schema: StateSchema, ID: id, AuthRequestID: authRequestID,
		Kind: KindSignIn, Step: StepSignIn, CreatedAt: now.UTC()}
}

// NewChangePhone starts a change of phone number for a signed-in person: a challenge
// on the account's current number, then enrolment of the new one. authRequestID is
// empty when the change starts from the account pages.
func (m *Machine) NewChangePhone(id, authRequestID string, a Account, now time.Time) (*State, error) {
	if a.UserID == "" || !a.hasPhone() {
		return nil, errors.New("journey: change of phone needs an account with a verified phone")
	}
	s := &State{Schema: StateSchema, ID: id, AuthRequestID: authRequestID,
		Kind: KindChangePhone, Step: StepChallenge, CreatedAt: now.UTC(),
		UserID: a.UserID, AccountPhone: a.Phone, AccountPhoneType: a.PhoneType,
		Phone: a.Phone, PhoneType: a.PhoneType}
	return s, nil
}

// Result is what an accepted event did.
type Result struct {
	// State is the new state: a copy; the state passed to Apply is never changed.
	State *State
	// Effects the caller must perform, in order. A Query, if any, is last.
	Effects []Effect
	// Errors are mistakes to show on the page (the step is usually unchanged).
	Errors []FieldError
	// Sent is the channel a code or call just went out on (email, sms, voice), for a
	// 'We have sent you a new code' notice; empty when nothing was sent. It is set
	// also when the message was silently withheld (an address with no account asking
	// for a password reset), so pages built from it reveal nothing: never infer it
	// from Effects.
	Sent factors.Channel
}

// ErrRefused matches (errors.Is) every *Refused.
var ErrRefused = errors.New("journey: event refused")

// Refused is the error for an event the journey does not accept now: not in the
// step's row of the transition table (a skipped step, a back button, a second tab),
// an answer nobody asked for, or a call outcome for another call. Nothing changed.
type Refused struct {
	Step   Step
	Event  EventKind
	Reason string
}

func (e *Refused) Error() string {
	return fmt.Sprintf("journey: %s refused at step %s: %s", e.Event, e.Step, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *Refused) Is(target error) bool { return target == ErrRefused }

// Apply applies e to s at time now. It returns the new state and the effects to
// perform, or an error: a *Refused (matching ErrRefused) when the event is not
// allowed now, or an internal failure (randomness). Either way s is unchanged.
//
// A person's mistakes (a wrong code, a malformed email) are not errors: they come
// back in Result.Errors, with the state updated (attempt counters).
func (m *Machine) Apply(s *State, e Event, now time.Time) (Result, error) {
	if s == nil || e == nil {
		return Result{}, errors.New("journey: Apply needs a state and an event")
	}
	k := e.Kind()
	h, ok := transitions[s.Step][k]
	if !ok {
		return Result{}, &Refused{Step: s.Step, Event: k, Reason: "not allowed at this step"}
	}
	if isAnswer(k) && s.Awaiting != k {
		return Result{}, &Refused{Step: s.Step, Event: k, Reason: "no query is waiting for it"}
	}
	t := &tx{m: m, s: s.clone(), now: now.UTC()}
	// Any accepted event ends the wait for an answer: a person acting on the page
	// abandons the query (it was never answered, so nothing happened).
	t.s.Awaiting = ""
	if k != EventSendBudgetChecked {
		t.s.SendFrom = ""
	}
	if k != EventCodeGuessesChecked {
		t.s.guess = ""
	}
	if err := h(t, e); err != nil {
		return Result{}, err
	}
	return Result{State: t.s, Effects: t.effects, Errors: t.errors, Sent: t.sent}, nil
}

// Answer performs a Query and returns the event that answers it.
type Answer func(Query) (Event, error)

// maxQueries bounds the queries one Drive may chain (at most two happen today:
// LookUpAccount then CheckSendBudget, or CheckCodeGuesses then RecordWrongCode).
const maxQueries = 4

// Drive applies e, then performs each Query through answer and applies its answer,
// until no query is left. It returns the final state, the remaining effects (never a
// Query) for the caller to perform after saving the state, and the errors to show.
// An error from answer is returned wrapped, with nothing to save.
func (m *Machine) Drive(s *State, e Event, now time.Time, answer Answer) (Result, error) {
	res, err := m.Apply(s, e, now)
	if err != nil {
		return Result{}, err
	}
	out := Result{State: res.State, Errors: res.Errors, Sent: res.Sent}
	for i := 0; ; i++ {
		var q Query
		for _, eff := range res.Effects {
			if qq, ok := eff.(Query); ok {
				q = qq
				continue
			}
			out.Effects = append(out.Effects, eff)
		}
		if q == nil {
			return out, nil
		}
		if i == maxQueries {
			return Result{}, fmt.Errorf("journey: %s: more than %d chained queries", s.ID, maxQueries)
		}
		ev, err := answer(q)
		if err != nil {
			return Result{}, fmt.Errorf("journey: %s: answer %T: %w", s.ID, q, err)
		}
		if ev == nil || ev.Kind() != q.Answers() {
			return Result{}, fmt.Errorf("journey: %s: %T answered with %T, want %s", s.ID, q, ev, q.Answers())
		}
		res, err = m.Apply(out.State, ev, now)
		if err != nil {
			return Result{}, err
		}
		out.State = res.State
		out.Errors = append(out.Errors, res.Errors...)
		if res.Sent != "" {
			out.Sent = res.Sent
		}
	}
}

// tx is one event being applied: the copy of the state being changed and what the
// transition asks for.
type tx struct {
	m       *Machine
	s       *State
	now     time.Time
	effects []Effect
	errors  []FieldError
	sent    factors.Channel
}

func (t *tx) effect(e ...Effect) { t.effects = append(t.effects, e...) }

func (t *tx) fieldError(field, msg string) {
	t.errors = append(t.errors, FieldError{Field: field, Message: msg})
}

func (t *tx) hasErrors() bool { return len(t.errors) > 0 }

// ask emits a query and makes the state wait for its answer.
func (t *tx) ask(q Query) {
	t.s.Awaiting = q.Answers()
	t.effect(q)
}

func (t *tx) goTo(s Step) { t.s.Step = s }

func refuse(s *State, k EventKind, reason string) error {
	return &Refused{Step: s.Step, Event: k, Reason: reason}
}
