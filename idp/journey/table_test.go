package journey

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/idp/password"
)

// sampleEvents has one event of every kind.
var sampleEvents = map[EventKind]Event{
	EventStartSignUp:         StartSignUp{},
	EventStartForgotPassword: StartForgotPassword{},
	EventStartPhoneRecovery:  StartPhoneRecovery{},
	EventGoToSignIn:          GoToSignIn{},
	EventSubmitSignIn:        SubmitSignIn{Email: "a@example.com", Password: "pw"},
	EventSubmitEmail:         SubmitEmail{Email: "a@example.com"},
	EventSubmitEmailCode:     SubmitEmailCode{Code: "123456"},
	EventResendEmailCode:     ResendEmailCode{},
	EventChangeEmail:         ChangeEmail{},
	EventContinue:            Continue{},
	EventSubmitDetails:       SubmitDetails{GivenName: "A", FamilyName: "B", Password: "long enough", Confirm: "long enough"},
	EventSubmitPhone:         SubmitPhone{Number: mobile, Method: MethodSMS},
	EventChooseMethod:        ChooseMethod{Method: MethodSMS},
	EventSubmitSMSCode:       SubmitSMSCode{Code: "123456"},
	EventResendSMSCode:       ResendSMSCode{},
	EventChangePhoneNumber:   ChangePhoneNumber{},
	EventBackToPhoneChoice:   BackToPhoneChoice{},
	EventSubmitNewPassword:   SubmitNewPassword{Password: "long enough", Confirm: "long enough"},
	EventAccountLookedUp:     AccountLookedUp{},
	EventPasswordChecked:     PasswordChecked{Result: PasswordWrong},
	EventUserCreated:         UserCreated{UserID: "u"},
	EventSendBudgetChecked:   SendBudgetChecked{Allowed: true},
	EventCodeGuessesChecked:  CodeGuessesChecked{},
	EventWrongCodeRecorded:   WrongCodeRecorded{},
	EventCallOutcome:         CallOutcome{CallID: "call-1", Result: factors.CallConfirmed},
	EventSMSNotSent:          SMSNotSent{Message: "We cannot send text messages at the moment. Select 'Call Me'"},
}

// stateAt is a plausible state at step s, with a code and a call in flight.
func stateAt(s Step) *State {
	return &State{Schema: StateSchema, ID: "j", AuthRequestID: "ar", Kind: KindSignUp, Step: s,
		CreatedAt: t0, Email: "a@example.com", UserID: "u", Phone: "+447700900123", PhoneType: "mobile",
		EmailCode: &Code{Hash: "00", ExpiresAt: t0.Add(time.Hour)},
		PhoneCode: &Code{Hash: "00", ExpiresAt: t0.Add(time.Hour)},
		Call:      &Call{ID: "call-1", ExpiresAt: t0.Add(time.Hour)},
		AMR:       []string{"pwd"}}
}

// Every event a step does not list is refused, and the state is left as it was.
// Answers are refused unless the state awaits exactly them.
func TestRefusedTransitions(t *testing.T) {
	m := newMachine(t, nil)
	if len(sampleEvents) != len(EventKinds) {
		t.Fatalf("sampleEvents has %d kinds, EventKinds %d", len(sampleEvents), len(EventKinds))
	}
	for _, step := range Steps {
		for _, k := range EventKinds {
			e := sampleEvents[k]
			_, allowed := transitions[step][k]
			var awaits []EventKind
			switch {
			case !allowed:
				awaits = []EventKind{"", EventAccountLookedUp, k}
			case isAnswer(k):
				awaits = []EventKind{""}
				for _, other := range EventKinds {
					if isAnswer(other) && other != k {
						awaits = append(awaits, other)
					}
				}
			default:
				continue
			}
			for _, aw := range awaits {
				s := stateAt(step)
				s.Awaiting = aw
				before := s.clone()
				res, err := m.Apply(s, e, t0)
				var r *Refused
				if !errors.As(err, &r) || !errors.Is(err, ErrRefused) || r.Step != step || r.Event != k {
					t.Errorf("%s at %s awaiting %q: err %v, want *Refused", k, step, aw, err)
				}
				if res.State != nil || res.Effects != nil || res.Errors != nil {
					t.Errorf("%s at %s: refused event returned a result %+v", k, step, res)
				}
				if !equalState(before, s) {
					t.Errorf("%s at %s: refused event changed the state", k, step)
				}
			}
		}
	}
}

func TestDoneRefusesEverything(t *testing.T) {
	if len(transitions[StepDone]) != 0 {
		t.Fatal("done must accept no event")
	}
}

// The machine diagram (MACHINE.md) and the table describe the same machine.
func TestDiagramMatchesTable(t *testing.T) {
	edges, err := diagramEdges()
	if err != nil {
		t.Fatal(err)
	}
	fromEvent := map[[2]string]bool{}
	for e := range edges {
		fromEvent[[2]string{string(e.from), string(e.event)}] = true
		if _, ok := transitions[e.from][e.event]; !ok {
			t.Errorf("diagram edge %s --%s--> %s is not in the table", e.from, e.event, e.to)
		}
		if _, ok := transitions[e.to]; !ok {
			t.Errorf("diagram edge to unknown step %s", e.to)
		}
	}
	for step, row := range transitions {
		for k := range row {
			if !fromEvent[[2]string{string(step), string(k)}] {
				t.Errorf("table entry %s at %s has no edge in the diagram", k, step)
			}
		}
	}
	if len(transitions) != len(Steps) {
		t.Errorf("table has %d steps, Steps lists %d", len(transitions), len(Steps))
	}
	for _, s := range Steps {
		if _, ok := transitions[s]; !ok {
			t.Errorf("step %s has no row in the table", s)
		}
	}
}

func TestStateJSON(t *testing.T) {
	w := newWorld(t, nil)
	s := w.toPhoneEnter("ada.lovelace@some-council.example.gov.uk")
	s = w.must(s, SubmitPhone{Number: mobile, Method: MethodSMS})
	s = w.must(s, ResendSMSCode{})
	s = w.must(s, ChooseMethod{Method: MethodCall})
	s = w.must(s, ChooseMethod{Method: MethodSMS})
	s.AuthRequestID = strings.Repeat("a", 36)
	s.ClientID, s.ClientName = strings.Repeat("c", 64), "Make a social care referral"
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) >= 1024 {
		t.Fatalf("state is %d bytes, want < 1 KB: %s", len(b), b)
	}
	for _, secret := range []string{w.lastSMS().Code, "correct horse", "Ada", "Lovelace"} {
		if strings.Contains(string(b), `"`+secret) || strings.Contains(string(b), secret+`"`) {
			t.Fatalf("state JSON holds %q: %s", secret, b)
		}
	}
	back, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalState(s, back) {
		t.Fatalf("round trip changed the state:\n%+v\n%+v", s, back)
	}
	// The restored state behaves the same.
	back = w.must(back, SubmitSMSCode{Code: w.lastSMS().Code})
	wantStep(t, back, StepPhoneConfirm)

	var raw map[string]any
	json.Unmarshal(b, &raw)
	raw["v"] = StateSchema + 1
	b2, _ := json.Marshal(raw)
	if _, err := Unmarshal(b2); err == nil {
		t.Fatal("a state of another schema was accepted")
	}
	if _, err := Unmarshal([]byte("{")); err == nil {
		t.Fatal("malformed JSON accepted")
	}
}

func TestDrive(t *testing.T) {
	w := newWorld(t, nil)
	s := w.m.NewSignIn("j-1", "ar-1", w.now)
	s = w.must(s, StartSignUp{})
	var asked []string
	answer := func(q Query) (Event, error) {
		asked = append(asked, strings.TrimPrefix(fmt.Sprintf("%T", q), "journey."))
		return w.answer(q)
	}
	res, err := w.m.Drive(s, SubmitEmail{Email: "ada@example.com"}, w.now, answer)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []string{"LookUpAccount", "CheckSendBudget"}) {
		t.Fatalf("queries %v", asked)
	}
	if res.State.Step != StepSignUpEmailCode || res.State.Awaiting != "" || len(res.Effects) != 1 {
		t.Fatalf("result %+v", res)
	}
	if _, ok := res.Effects[0].(SendEmailCode); !ok {
		t.Fatalf("effect %#v", res.Effects[0])
	}
	// A wrong answer kind is an error, not a silent success.
	_, err = w.m.Drive(s, SubmitEmail{Email: "ada@example.com"}, w.now, func(Query) (Event, error) { return UserCreated{UserID: "x"}, nil })
	if err == nil {
		t.Fatal("mismatched answer accepted")
	}
	// An error from the store comes back wrapped.
	boom := errors.New("boom")
	_, err = w.m.Drive(s, SubmitEmail{Email: "ada@example.com"}, w.now, func(Query) (Event, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	// Refused events come back as *Refused.
	if _, err := w.m.Drive(s, Continue{}, w.now, answer); !isRefused(err) {
		t.Fatalf("err %v", err)
	}
	// Field errors come back without queries.
	res, err = w.m.Drive(s, SubmitEmail{Email: "nope"}, w.now, func(Query) (Event, error) { t.Fatal("asked"); return nil, nil })
	if err != nil || len(res.Errors) != 1 || res.State.Step != StepSignUpEmail {
		t.Fatalf("result %+v %v", res, err)
	}
}

// Secrets never show when effects and events are printed or logged.
func TestSecretsDoNotPrint(t *testing.T) {
	for _, v := range []any{
		CheckPassword{Email: "a@example.com", Password: "hunter22"},
		CreateUser{Email: "a@example.com", Password: "hunter22"},
		SetPassword{UserID: "u", Password: "hunter22"},
		SendEmailCode{To: "a@example.com", Code: "hunter22"},
		SendSMSCode{To: "+44", Code: "hunter22"},
		SubmitSignIn{Email: "a@example.com", Password: "hunter22"},
		SubmitDetails{Password: "hunter22", Confirm: "hunter22"},
		SubmitNewPassword{Password: "hunter22", Confirm: "hunter22"},
	} {
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("effect", "v", v)
		for _, s := range []string{fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprint(v), logged.String()} {
			if strings.Contains(s, "hunter22") {
				t.Errorf("%T prints its secret: %s", v, s)
			}
		}
	}
}

func TestNew(t *testing.T) {
	h := newMachine(t, nil).hasher
	if _, err := New(DefaultPolicy(), h); err == nil {
		t.Fatal("New without NewPasswordRule accepted")
	}
	if _, err := New(testPolicy(), nil); err == nil {
		t.Fatal("New without a hasher accepted")
	}
	m, err := New(Policy{NewPasswordRule: password.Check}, h)
	if err != nil {
		t.Fatal(err)
	}
	p, d := m.Policy(), DefaultPolicy()
	if p.EmailCodeTTL != d.EmailCodeTTL || p.MaxAttempts != 5 || p.ResendLimit != 5 || p.LockoutThreshold != 10 || p.NewCode == nil {
		t.Fatalf("defaults not filled: %+v", p)
	}
	// A zero Policy leaves confirm-twice off: it is a boolean the caller sets.
	if p.PhoneConfirmTwice {
		t.Fatal("PhoneConfirmTwice turned on by New")
	}
	id1, _ := NewID()
	id2, _ := NewID()
	if len(id1) != 43 || id1 == id2 {
		t.Fatalf("ids %q %q", id1, id2)
	}
}
