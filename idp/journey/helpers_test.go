package journey

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/otp"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/idp/password"
	"github.com/councilforms/idp/store"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	mobile   = "07700 900123"
	mobile2  = "07700 900456"
	landline = "020 7946 0123"
)

func testPolicy() Policy {
	p := DefaultPolicy()
	p.Phone = phone.Rules{DevRanges: true} // the numbers below are Ofcom drama numbers
	p.NewPasswordRule = password.Check
	return p
}

func newMachine(t *testing.T, change func(*Policy)) *Machine {
	t.Helper()
	p := testPolicy()
	n, c := 100000, 0
	p.NewCode = func() (string, error) { n++; return fmt.Sprint(n), nil }
	p.NewCallID = func() (string, error) { c++; return fmt.Sprintf("call-%d", c), nil }
	if change != nil {
		change(&p)
	}
	m, err := New(p, otp.NewHasher([]byte("test key: 32 bytes of not-random")))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// world is a fake of everything around the machine: accounts, the send budget, the
// mailbox and phone; it answers queries and performs effects.
type world struct {
	t        *testing.T
	m        *Machine
	now      time.Time
	accounts map[string]*Account // by lower-case email
	pass     map[string]string   // user id -> password
	locked   map[string]time.Time
	deny     bool              // durable send budget refuses
	budgets  []CheckSendBudget // asked, in order
	// wrongCodes are the durable runs of wrong codes, by factorKeys, as the
	// caller keeps them, under the rule codeRule.
	wrongCodes map[string]codeRun
	codeRule   limits.CodeGuesses
	users      int
	// imported answers CheckPassword for these accounts (by user id): an
	// account imported from another service without a password here yet.
	imported map[string]PasswordResult
	effects  []Effect // performed (non-query) effects, in order
	created  []CreateUser
}

func newWorld(t *testing.T, change func(*Policy)) *world {
	return &world{t: t, m: newMachine(t, change), now: t0,
		accounts: map[string]*Account{}, pass: map[string]string{}, locked: map[string]time.Time{},
		imported:   map[string]PasswordResult{},
		wrongCodes: map[string]codeRun{}, codeRule: limits.DefaultCodeGuesses()}
}

type codeRun struct {
	n    int
	last time.Time
}

// factorKeys are the runs a wrong code for f counts in: its destination and,
// when known, its account.
func factorKeys(f CodeFactor) []string {
	keys := []string{"dest:" + string(f.Channel) + ":" + strings.ToLower(f.To)}
	if f.UserID != "" {
		keys = append(keys, "account:"+string(f.Channel)+":"+f.UserID)
	}
	return keys
}

// codesLockedUntil is when f's codes unlock, zero when they are not locked.
func (w *world) codesLockedUntil(f CodeFactor) time.Time {
	var until time.Time
	for _, k := range factorKeys(f) {
		r := w.wrongCodes[k]
		if u := w.codeRule.LockedUntil(r.n, r.last); w.now.Before(u) && u.After(until) {
			until = u
		}
	}
	return until
}

// addUser makes an account; phone "" means an unfinished enrolment.
func (w *world) addUser(email, password, phone string) *Account {
	w.users++
	a := &Account{UserID: fmt.Sprintf("user-%d", w.users)}
	if phone != "" {
		n, err := testPolicy().Phone.Parse(phone)
		if err != nil {
			w.t.Fatal(err)
		}
		a.Phone, a.PhoneType, a.PhoneVerified = n.E164, n.Type, true
	}
	w.accounts[strings.ToLower(email)] = a
	w.pass[a.UserID] = password
	return a
}

var errConflict = fmt.Errorf("fake: %w", store.ErrConflict)

func (w *world) answer(q Query) (Event, error) {
	switch q := q.(type) {
	case LookUpAccount:
		return AccountLookedUp{Account: w.accounts[strings.ToLower(q.Email)]}, nil
	case CheckPassword:
		a := w.accounts[strings.ToLower(q.Email)]
		if a == nil {
			return PasswordChecked{Result: PasswordWrong}, nil
		}
		if until := w.locked[a.UserID]; w.now.Before(until) {
			return PasswordChecked{Result: PasswordLocked, LockedUntil: until}, nil
		}
		switch r, ok := w.imported[a.UserID]; {
		case !ok:
		case r == PasswordNewRequired:
			return PasswordChecked{Result: r, Account: a}, nil
		default:
			return PasswordChecked{Result: r}, nil
		}
		if w.pass[a.UserID] != q.Password {
			return PasswordChecked{Result: PasswordWrong}, nil
		}
		return PasswordChecked{Result: PasswordOK, Account: a}, nil
	case CreateUser:
		if w.accounts[strings.ToLower(q.Email)] != nil {
			return nil, errConflict
		}
		w.created = append(w.created, q)
		a := w.addUser(q.Email, q.Password, "")
		return UserCreated{UserID: a.UserID}, nil
	case CheckSendBudget:
		w.budgets = append(w.budgets, q)
		if w.deny {
			return SendBudgetChecked{RetryAfter: 30 * time.Minute}, nil
		}
		return SendBudgetChecked{Allowed: true}, nil
	case CheckCodeGuesses:
		return CodeGuessesChecked{LockedUntil: w.codesLockedUntil(q.Factor)}, nil
	case RecordWrongCode:
		for _, k := range factorKeys(q.Factor) {
			w.wrongCodes[k] = codeRun{n: w.wrongCodes[k].n + 1, last: w.now}
		}
		return WrongCodeRecorded{LockedUntil: w.codesLockedUntil(q.Factor)}, nil
	}
	return nil, fmt.Errorf("unexpected query %T", q)
}

// do applies e as Drive would, one Apply at a time so that every transition is
// checked against the diagram, and performs the effects.
func (w *world) do(s *State, e Event) (*State, Result) {
	w.t.Helper()
	res, err := w.apply(s, e)
	if err != nil {
		w.t.Fatalf("%s at %s: %v", e.Kind(), s.Step, err)
	}
	out := Result{State: res.State, Errors: res.Errors, Sent: res.Sent}
	for {
		var q Query
		for _, eff := range res.Effects {
			if qq, ok := eff.(Query); ok {
				q = qq
			} else {
				out.Effects = append(out.Effects, eff)
			}
		}
		if q == nil {
			break
		}
		ev, err := w.answer(q)
		if err != nil {
			w.t.Fatalf("answer %T: %v", q, err)
		}
		res, err = w.apply(out.State, ev)
		if err != nil {
			w.t.Fatalf("%s at %s: %v", ev.Kind(), out.State.Step, err)
		}
		out.State = res.State
		out.Errors = append(out.Errors, res.Errors...)
		if res.Sent != "" {
			out.Sent = res.Sent
		}
	}
	for _, eff := range out.Effects {
		if r, ok := eff.(ResetWrongCodes); ok {
			for _, k := range factorKeys(r.Factor) {
				delete(w.wrongCodes, k)
			}
		}
	}
	w.effects = append(w.effects, out.Effects...)
	return out.State, out
}

// apply is Machine.Apply that records the transition and checks the diagram has it.
func (w *world) apply(s *State, e Event) (Result, error) {
	w.t.Helper()
	before := s.clone()
	res, err := w.m.Apply(s, e, w.now)
	if !equalState(before, s) {
		w.t.Fatalf("Apply changed its input state")
	}
	if err != nil {
		return res, err
	}
	observe(w.t, s.Step, e.Kind(), res.State.Step)
	return res, nil
}

// must applies an event expected to succeed without field errors.
func (w *world) must(s *State, e Event) *State {
	w.t.Helper()
	n, res := w.do(s, e)
	if len(res.Errors) > 0 {
		w.t.Fatalf("%s at %s: unexpected errors %v", e.Kind(), s.Step, res.Errors)
	}
	return n
}

// wantErr applies an event expected to give exactly one field error with message msg.
func (w *world) wantErr(s *State, e Event, field, msg string) *State {
	w.t.Helper()
	n, res := w.do(s, e)
	if len(res.Errors) != 1 || res.Errors[0].Field != field || res.Errors[0].Message != msg {
		w.t.Fatalf("%s at %s: errors %v, want [%s: %s]", e.Kind(), s.Step, res.Errors, field, msg)
	}
	return n
}

func (w *world) lastEmailCode() SendEmailCode {
	w.t.Helper()
	for i := len(w.effects) - 1; i >= 0; i-- {
		if e, ok := w.effects[i].(SendEmailCode); ok {
			return e
		}
	}
	w.t.Fatal("no email code sent")
	return SendEmailCode{}
}

func (w *world) lastSMS() SendSMSCode {
	w.t.Helper()
	for i := len(w.effects) - 1; i >= 0; i-- {
		if e, ok := w.effects[i].(SendSMSCode); ok {
			return e
		}
	}
	w.t.Fatal("no text sent")
	return SendSMSCode{}
}

func (w *world) lastCall() PlaceCall {
	w.t.Helper()
	for i := len(w.effects) - 1; i >= 0; i-- {
		if e, ok := w.effects[i].(PlaceCall); ok {
			return e
		}
	}
	w.t.Fatal("no call placed")
	return PlaceCall{}
}

func (w *world) count(match func(Effect) bool) int {
	n := 0
	for _, e := range w.effects {
		if match(e) {
			n++
		}
	}
	return n
}

func (w *world) completion() CompleteAuth {
	w.t.Helper()
	for i := len(w.effects) - 1; i >= 0; i-- {
		if e, ok := w.effects[i].(CompleteAuth); ok {
			return e
		}
	}
	w.t.Fatal("journey did not complete")
	return CompleteAuth{}
}

func wantStep(t *testing.T, s *State, want Step) {
	t.Helper()
	if s.Step != want {
		t.Fatalf("step %s, want %s", s.Step, want)
	}
}

func equalState(a, b *State) bool {
	x, err1 := a.Marshal()
	y, err2 := b.Marshal()
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// answer is the confirmation of a call.
func confirmCall(id string) CallOutcome {
	return CallOutcome{CallID: id, Result: factors.CallConfirmed}
}

// The machine diagram in MACHINE.md, parsed.

type edge struct {
	from  Step
	event EventKind
	to    Step
}

var edgeLine = regexp.MustCompile(`^\s+(\w+) --> (\w+) : ([a-z_, ]+)$`)

func diagramEdges() (map[edge]bool, error) {
	b, err := os.ReadFile(machineFile)
	if err != nil {
		return nil, err
	}
	edges := map[edge]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		m := edgeLine.FindStringSubmatch(strings.TrimRight(line, " "))
		if m == nil {
			continue
		}
		for _, ev := range strings.Split(m[3], ",") {
			edges[edge{Step(m[1]), EventKind(strings.TrimSpace(ev)), Step(m[2])}] = true
		}
	}
	if len(edges) == 0 {
		return nil, errors.New("no transitions found in " + machineFile)
	}
	return edges, nil
}

var (
	observedMu sync.Mutex
	observed   = map[edge]bool{}
	diagram    map[edge]bool
)

// observe records a transition a test made and fails when the diagram lacks it.
func observe(t *testing.T, from Step, k EventKind, to Step) {
	t.Helper()
	observedMu.Lock()
	defer observedMu.Unlock()
	if diagram == nil {
		d, err := diagramEdges()
		if err != nil {
			t.Fatal(err)
		}
		diagram = d
	}
	e := edge{from, k, to}
	if !diagram[e] {
		t.Errorf("transition %s --%s--> %s is missing from the diagram in %s", from, k, to, machineFile)
	}
	observed[e] = true
}

// TestMain checks, after a full run, that the tests exercised every transition of
// the diagram.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		edges, err := diagramEdges()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var missing []string
		for e := range edges {
			if !observed[e] {
				missing = append(missing, fmt.Sprintf("%s --%s--> %s", e.from, e.event, e.to))
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "transitions in the diagram no test exercised:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func isRefused(err error) bool {
	var r *Refused
	return errors.Is(err, ErrRefused) && errors.As(err, &r)
}

func errorsIsConflict(err error) bool { return errors.Is(err, store.ErrConflict) }
