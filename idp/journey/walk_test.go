package journey

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/otp"
)

var (
	walkSeed = flag.Uint64("walk.seed", 1, "seed of TestRandomWalks (a failure prints the seed and walk to replay)")
	walkN    = flag.Int("walk.n", 1000, "journeys TestRandomWalks walks")
)

// walkSteps bounds one walk: long enough to lock codes, exhaust resends and
// wander back, short enough that most walks reach done.
const walkSteps = 80

// walker drives one journey at random: a person pressing any button of the page
// (and sometimes one of another page), typing right and wrong values, waiting,
// and a world answering queries and reporting calls at random. It records every
// transition the machine made and checks the invariants after each event.
type walker struct {
	t   *testing.T
	rng *rand.Rand
	m   *Machine
	now time.Time
	// where names this walk in failures: seed and walk number replay it.
	where string

	accounts map[string]*Account // by lower-case email
	pass     map[string]string   // user id -> password
	users    int

	emailCode, smsCode string // the last codes sent, as a person reads them
	callID             string // the last call placed

	found *walkFindings
}

// walkFindings are what all walks saw.
type walkFindings struct {
	edges map[edge]bool // every Apply: the full machine
	moves map[edge]bool // every person's event, from page to page (queries answered)
	steps map[Step]bool // every step reached
	done  int           // walks that completed
}

// personEvent reports whether a person (or the world reporting a call or a text
// not sent) causes k; the other events answer queries.
func personEvent(k EventKind) bool { return !isAnswer(k) }

var walkEmails = []string{"has-mobile@example.com", "has-landline@example.com", "no-phone@example.com",
	"new@example.com", "New@Example.com", "not an address", ""}

var walkNumbers = []string{mobile, mobile2, landline, "0900 000 0000", "12345", ""}

const walkPassword = "correct horse battery"

func newWalker(t *testing.T, rng *rand.Rand, found *walkFindings, where string) *walker {
	w := &walker{t: t, rng: rng, now: t0, where: where, found: found,
		accounts: map[string]*Account{}, pass: map[string]string{}}
	p := testPolicy()
	p.PhoneConfirmTwice = rng.IntN(2) == 0
	p.PhoneRecovery = rng.IntN(4) > 0
	p.NewCode = func() (string, error) { return fmt.Sprintf("%06d", rng.IntN(1000000)), nil }
	p.NewCallID = func() (string, error) { return fmt.Sprintf("call-%d", rng.Uint64()), nil }
	m, err := New(p, otp.NewHasher([]byte("test key: 32 bytes of not-random")))
	if err != nil {
		t.Fatal(err)
	}
	w.m = m
	w.addUser("has-mobile@example.com", mobile)
	w.addUser("has-landline@example.com", landline)
	w.addUser("no-phone@example.com", "")
	return w
}

func (w *walker) addUser(email, phone string) *Account {
	w.users++
	a := &Account{UserID: fmt.Sprintf("user-%d", w.users)}
	if phone != "" {
		n, err := w.m.Policy().Phone.Parse(phone)
		if err != nil {
			w.t.Fatal(err)
		}
		a.Phone, a.PhoneType, a.PhoneVerified = n.E164, n.Type, true
	}
	w.accounts[strings.ToLower(email)] = a
	w.pass[a.UserID] = walkPassword
	return a
}

func (w *walker) fail(s *State, format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("%s, at step %s (kind %s): %s", w.where, s.Step, s.Kind, fmt.Sprintf(format, args...))
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

// event is a random event: mostly one the step accepts, with values right or
// wrong; sometimes any event at all, which must be refused or handled.
func (w *walker) event(s *State) Event {
	row := transitions[s.Step]
	var kinds []EventKind
	for _, k := range EventKinds {
		if _, ok := row[k]; ok && personEvent(k) {
			kinds = append(kinds, k)
		}
	}
	k := pick(w.rng, EventKinds...)
	if len(kinds) > 0 && w.rng.IntN(10) > 0 {
		k = pick(w.rng, kinds...)
	}
	r := w.rng
	code := func(right string) string { return pick(r, right, right, right, "000000", "12 34 56", "abc", "") }
	password := func() (string, string) {
		pw := pick(r, "a new long password", "a new long password", "short", "password")
		if r.IntN(5) == 0 {
			return pw, "something else"
		}
		return pw, pw
	}
	switch k {
	case EventStartSignUp:
		return StartSignUp{}
	case EventStartForgotPassword:
		return StartForgotPassword{}
	case EventStartPhoneRecovery:
		return StartPhoneRecovery{}
	case EventGoToSignIn:
		return GoToSignIn{}
	case EventSubmitSignIn:
		return SubmitSignIn{Email: pick(r, walkEmails...), Password: pick(r, walkPassword, walkPassword, "wrong", "")}
	case EventSubmitEmail:
		return SubmitEmail{Email: pick(r, walkEmails...)}
	case EventSubmitEmailCode:
		return SubmitEmailCode{Code: code(w.emailCode)}
	case EventResendEmailCode:
		return ResendEmailCode{}
	case EventChangeEmail:
		return ChangeEmail{}
	case EventContinue:
		return Continue{}
	case EventSubmitDetails:
		pw, confirm := password()
		return SubmitDetails{GivenName: pick(r, "Ada", "Ada", ""), FamilyName: pick(r, "Lovelace", "Lovelace", " "), Password: pw, Confirm: confirm}
	case EventSubmitPhone:
		return SubmitPhone{Number: pick(r, walkNumbers...), Method: pick(r, MethodSMS, MethodCall, Method("fax"))}
	case EventChooseMethod:
		return ChooseMethod{Method: pick(r, MethodSMS, MethodCall, MethodSMS, MethodCall, Method(""))}
	case EventSubmitSMSCode:
		return SubmitSMSCode{Code: code(w.smsCode)}
	case EventResendSMSCode:
		return ResendSMSCode{}
	case EventChangePhoneNumber:
		return ChangePhoneNumber{}
	case EventBackToPhoneChoice:
		return BackToPhoneChoice{}
	case EventSubmitNewPassword:
		pw, confirm := password()
		return SubmitNewPassword{Password: pw, Confirm: confirm}
	case EventCallOutcome:
		id := w.callID
		if r.IntN(8) == 0 {
			id = "another-call"
		}
		return CallOutcome{CallID: id, Result: pick(r, factors.CallConfirmed, factors.CallConfirmed, factors.CallTimedOut,
			factors.CallBusy, factors.CallUnanswered, factors.CallRejected, factors.CallFailed, factors.CallCeilingReached)}
	case EventSMSNotSent:
		return SMSNotSent{Message: "We cannot send text messages at the moment. Select 'Call Me'"}
	}
	return sampleEvents[k] // an answer nobody asked for: refused
}

// answer is the world answering a query, at random where the world could go either way.
func (w *walker) answer(q Query) Event {
	r := w.rng
	switch q := q.(type) {
	case LookUpAccount:
		return AccountLookedUp{Account: w.accounts[strings.ToLower(q.Email)]}
	case CheckPassword:
		a := w.accounts[strings.ToLower(q.Email)]
		switch r.IntN(14) {
		case 0:
			return PasswordChecked{Result: PasswordLocked, LockedUntil: w.now.Add(time.Hour)}
		case 1:
			return PasswordChecked{Result: PasswordThrottled, RetryAfter: time.Minute}
		case 2: // an account imported from B2C, which cannot be asked now
			return PasswordChecked{Result: PasswordUnavailable}
		case 3: // an account imported with no old service to ask
			if a != nil {
				return PasswordChecked{Result: PasswordNewRequired, Account: a}
			}
		}
		if a == nil || w.pass[a.UserID] != q.Password {
			return PasswordChecked{Result: PasswordWrong}
		}
		return PasswordChecked{Result: PasswordOK, Account: a}
	case CreateUser:
		a := w.addUser(q.Email, "")
		w.pass[a.UserID] = q.Password
		return UserCreated{UserID: a.UserID}
	case CheckSendBudget:
		if r.IntN(8) == 0 {
			return SendBudgetChecked{RetryAfter: 30 * time.Minute,
				Reason: pick(r, RefusedBusy, RefusedNewNumbers, RefusedEnrolmentSends)}
		}
		return SendBudgetChecked{Allowed: true}
	case CheckCodeGuesses:
		if r.IntN(10) == 0 {
			return CodeGuessesChecked{LockedUntil: w.now.Add(time.Hour)}
		}
		return CodeGuessesChecked{}
	case RecordWrongCode:
		if r.IntN(6) == 0 {
			return WrongCodeRecorded{LockedUntil: w.now.Add(time.Hour)}
		}
		return WrongCodeRecorded{}
	}
	w.t.Fatalf("%s: unexpected query %T", w.where, q)
	return nil
}

// step applies one random event and the answers to its queries, one Apply at a
// time, and checks what came of it.
func (w *walker) step(s *State) *State {
	w.t.Helper()
	// Time passes: mostly seconds, sometimes past a call's or a code's life.
	w.now = w.now.Add(pick(w.rng, time.Second, 5*time.Second, 30*time.Second, 3*time.Minute, 11*time.Minute))
	page := s.Step
	e := w.event(s)
	person := e.Kind()
	var effects []Effect
	cur := s
	for i := 0; ; i++ {
		before := cur.clone()
		res, err := w.m.Apply(cur, e, w.now)
		if !reflect.DeepEqual(before, cur) {
			w.fail(cur, "Apply(%s) changed its input state", e.Kind())
		}
		if err != nil {
			if !isRefused(err) {
				w.fail(cur, "%s: %v", e.Kind(), err)
			}
			if i > 0 {
				w.fail(cur, "the answer %s to the machine's own query was refused: %v", e.Kind(), err)
			}
			return s // refused: nothing happened
		}
		if i == 0 && isAnswer(person) {
			w.fail(cur, "accepted the answer %s, which no query asked for", person)
		}
		to := res.State.Step
		if _, ok := transitions[to]; !ok {
			w.fail(cur, "%s led to %q, which is no step", e.Kind(), to)
		}
		w.found.edges[edge{cur.Step, e.Kind(), to}] = true
		cur = res.State
		var q Query
		for _, eff := range res.Effects {
			if qq, ok := eff.(Query); ok {
				if q != nil {
					w.fail(cur, "%s asked two queries", e.Kind())
				}
				q = qq
				continue
			}
			effects = append(effects, eff)
		}
		if q == nil {
			break
		}
		if cur.Awaiting != q.Answers() {
			w.fail(cur, "asked %T but awaits %q", q, cur.Awaiting)
		}
		if i == maxQueries {
			w.fail(cur, "more than %d chained queries", maxQueries)
		}
		e = w.answer(q)
	}
	w.found.moves[edge{page, person, cur.Step}] = true
	w.found.steps[cur.Step] = true
	w.perform(cur, effects)
	w.check(cur, effects)
	return cur
}

// perform plays the world's part in the effects: the person reads the codes, the
// account changes.
func (w *walker) perform(s *State, effects []Effect) {
	for _, eff := range effects {
		switch e := eff.(type) {
		case SendEmailCode:
			w.emailCode = e.Code
		case SendSMSCode:
			w.smsCode = e.Code
		case PlaceCall:
			w.callID = e.CallID
		case SetPassword:
			w.pass[e.UserID] = e.Password
		case SetPhone:
			for _, a := range w.accounts {
				if a.UserID == e.UserID {
					a.Phone, a.PhoneType, a.PhoneVerified = e.Number, e.Type, true
				}
			}
		}
	}
}

// check holds the promises of the machine after every event a person causes.
func (w *walker) check(s *State, effects []Effect) {
	w.t.Helper()
	if s.Awaiting != "" || s.guess != "" {
		w.fail(s, "left waiting for %q after its queries were answered", s.Awaiting)
	}
	if w.rng.IntN(8) == 0 { // a sample: the JSON costs most of a walk
		if b, err := s.Marshal(); err != nil {
			w.fail(s, "%v", err)
		} else if u, err := Unmarshal(b); err != nil || !equalState(u, s) {
			w.fail(s, "the state does not survive the store: %v", err)
		}
	}
	var completes []CompleteAuth
	for _, eff := range effects {
		switch c := eff.(type) {
		case CompleteAuth:
			completes = append(completes, c)
		case RequestPhoneChange:
			switch {
			case !w.m.Policy().PhoneRecovery:
				w.fail(s, "a phone change was asked for with PhoneRecovery off")
			case s.Step != StepRecoveryPending || s.Kind != KindRecoverPhone:
				w.fail(s, "a phone change was asked for outside the recovery route")
			case c.UserID == "" || c.UserID != s.UserID || c.Number == "" || c.Number == s.AccountPhone:
				w.fail(s, "phone change %+v for the journey's account %q (phone %q)", c, s.UserID, s.AccountPhone)
			case !c.EffectiveAt.Equal(w.now.Add(w.m.Policy().PhoneRecoveryWait)):
				w.fail(s, "phone change takes effect at %v, want the wait after %v", c.EffectiveAt, w.now)
			}
		case SetPhone:
			if s.Kind == KindRecoverPhone {
				w.fail(s, "the recovery route set the phone at once")
			}
		}
	}
	if s.Step != StepDone {
		if len(completes) > 0 {
			w.fail(s, "CompleteAuth before done")
		}
		return
	}
	if len(completes) != 1 {
		w.fail(s, "reached done with %d CompleteAuth effects, want 1", len(completes))
	}
	c := completes[0]
	switch {
	case c.UserID == "" || c.UserID != s.UserID:
		w.fail(s, "completed as %q, the journey's account is %q", c.UserID, s.UserID)
	case !s.phoneProven() || !(slices.Contains(c.AMR, AMRSMS) || slices.Contains(c.AMR, AMRTel)):
		w.fail(s, "completed without a phone proven (AMR %v)", c.AMR)
	case !slices.Equal(c.AMR, s.amr()):
		w.fail(s, "CompleteAuth AMR %v, the journey proved %v", c.AMR, s.amr())
	case s.Kind == KindSignIn && !slices.Contains(c.AMR, AMRPassword):
		w.fail(s, "a sign-in completed without its password (AMR %v)", c.AMR)
	}
}

// walk takes n random journeys from seed and returns what they found.
func walk(t *testing.T, seed uint64, n int) *walkFindings {
	found := &walkFindings{edges: map[edge]bool{}, moves: map[edge]bool{}, steps: map[Step]bool{}}
	for i := range n {
		// Each walk has its own stream, so one walk replays alone with its number.
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		w := newWalker(t, rng, found, fmt.Sprintf("walk %d of -walk.seed=%d", i, seed))
		var s *State
		if rng.IntN(4) == 0 {
			a := w.accounts[pick(rng, "has-mobile@example.com", "has-landline@example.com")]
			var err error
			if s, err = w.m.NewChangePhone("j", "", *a, w.now); err != nil {
				t.Fatal(err)
			}
		} else {
			s = w.m.NewSignIn("j", "ar", w.now)
		}
		found.steps[s.Step] = true
		for range walkSteps {
			if s = w.step(s); s.Step == StepDone {
				found.done++
				break
			}
		}
	}
	return found
}

// TestRandomWalks walks the machine at random (seeded: -walk.seed and -walk.n
// replay or widen it) and checks what it promises: no event changes the state it
// was given; every step it reaches is a step of the table; no query is left
// unanswered; done comes with one CompleteAuth for the journey's account and a
// proven phone; every step is reached, and from every step done can be reached
// (no dead ends). The transitions the walks made are the machine diagram in
// MACHINE.md (-update rewrites it) and must be every entry of the table; the
// moves a person made, page to page, are the diagram in doc.go.
func TestRandomWalks(t *testing.T) {
	found := walk(t, *walkSeed, *walkN)

	for _, s := range Steps {
		if !found.steps[s] {
			t.Errorf("no walk reached step %s", s)
		}
	}
	if found.done == 0 {
		t.Fatal("no walk reached done")
	}
	t.Logf("%d walks, %d completed; %d transitions, %d moves", *walkN, found.done, len(found.edges), len(found.moves))

	// No dead ends: done can be reached from every step reached.
	reaches := map[Step]bool{StepDone: true}
	for changed := true; changed; {
		changed = false
		for e := range found.moves {
			if reaches[e.to] && !reaches[e.from] {
				reaches[e.from], changed = true, true
			}
		}
	}
	for s := range found.steps {
		if !reaches[s] {
			t.Errorf("step %s is a dead end: no move the walks made leads from it to done", s)
		}
	}

	// The walks made every transition of the table.
	made := map[[2]string]bool{}
	for e := range found.edges {
		made[[2]string{string(e.from), string(e.event)}] = true
	}
	for step, row := range transitions {
		for k := range row {
			if !made[[2]string{string(step), string(k)}] {
				t.Errorf("no walk made %s at %s (raise -walk.n, or the entry is unreachable)", k, step)
			}
		}
	}

	checkMachineFile(t, found.edges)
	checkPersonDiagram(t, found.moves)
}
