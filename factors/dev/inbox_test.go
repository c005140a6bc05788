package dev

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/store/memory"
)

// fakeOutcomes records what the inbox reports, as the journey's call handling would.
type fakeOutcomes struct {
	mu      sync.Mutex
	results map[string][]factors.CallResult
	known   map[string]bool // nil: every call is known
	err     error           // returned instead of recording, when set
}

func (f *fakeOutcomes) RecordCallOutcome(_ context.Context, id string, r factors.CallResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.known != nil && !f.known[id] {
		return fmt.Errorf("fake: %s: %w", id, factors.ErrUnknownCall)
	}
	if f.results == nil {
		f.results = map[string][]factors.CallResult{}
	}
	f.results[id] = append(f.results[id], r)
	return nil
}

func (f *fakeOutcomes) got(id string) []factors.CallResult {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.results[id])
}

// memoryStore is an in-process store for one test.
func memoryStore(t *testing.T) Store {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestInbox is an inbox on its own in-process store.
func newTestInbox(t *testing.T, outcomes factors.CallOutcomes, opts ...Option) *Inbox {
	return NewInbox(memoryStore(t), outcomes, nil, opts...)
}

func itemsOf(t *testing.T, in *Inbox) []Item {
	t.Helper()
	items, err := in.Items(context.Background())
	if err != nil {
		t.Fatalf("Items: %v", err)
	}
	return items
}

func latestOf(t *testing.T, in *Inbox, channel factors.Channel, to string) (Item, bool) {
	t.Helper()
	it, ok, err := in.Latest(context.Background(), channel, to)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	return it, ok
}

func TestCapturesEachChannel(t *testing.T) {
	ctx := context.Background()
	in := newTestInbox(t, nil)
	if err := in.SendEmail(ctx, factors.Email{To: "ann@example.org", Subject: "Example Council account email verification code", Text: "Your code is 123456.\nIt expires in 10 minutes.", HTML: "<p>ignored</p>"}); err != nil {
		t.Fatal(err)
	}
	if err := in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "654321 is your Example Council code"}); err != nil {
		t.Fatal(err)
	}
	if err := in.PlaceCall(ctx, factors.Call{ID: "call-secret-1", To: "+442079460123", Script: "This is Example Council. Press the hash key to sign in."}); err != nil {
		t.Fatal(err)
	}
	if err := in.SendEmail(ctx, factors.Email{To: "bob@example.org", Subject: "You already have an account", HTML: "<p>Sign in or reset your password.</p>"}); err != nil {
		t.Fatal(err)
	}

	items := itemsOf(t, in)
	if len(items) != 4 {
		t.Fatalf("got %d items, want 4", len(items))
	}
	email, ok := latestOf(t, in, factors.ChannelEmail, "ann@example.org")
	if !ok || email.Subject != "Example Council account email verification code" || email.Code != "123456" ||
		!strings.HasPrefix(email.Body, "Your code is 123456.") || email.CallPending || email.ID == "" {
		t.Errorf("email item = %+v", email)
	}
	sms, ok := latestOf(t, in, factors.ChannelSMS, "+447700900123")
	if !ok || sms.Subject != "" || sms.Code != "654321" || sms.Body != "654321 is your Example Council code" || sms.CallPending {
		t.Errorf("sms item = %+v", sms)
	}
	call, ok := latestOf(t, in, factors.ChannelVoice, "+442079460123")
	if !ok || call.ID != "call-secret-1" || call.Subject != "" || call.Code != "" || !call.CallPending ||
		call.Body != "This is Example Council. Press the hash key to sign in." {
		t.Errorf("voice item = %+v", call)
	}
	html, _ := latestOf(t, in, factors.ChannelEmail, "bob@example.org")
	if html.Body != "<p>Sign in or reset your password.</p>" || html.Code != "" {
		t.Errorf("HTML-only email item = %+v", html)
	}
	if _, ok := latestOf(t, in, factors.ChannelSMS, "ann@example.org"); ok {
		t.Error("Latest matched the wrong channel")
	}
	if email.ID == sms.ID || email.ID == html.ID {
		t.Error("item ids repeat")
	}
	if err := in.PlaceCall(ctx, factors.Call{To: "+442079460123"}); err == nil {
		t.Error("a call without an id was accepted")
	}
}

func TestCodeExtraction(t *testing.T) {
	for body, want := range map[string]string{
		"Your code is 123456":                   "123456",
		"123456 is your code":                   "123456",
		"code: 000000.":                         "000000",
		"Call 01632 960001 if this was not you": "960001", // six digits standing alone are taken as a code
		"order 1234567 has seven digits":        "",
		"no code here":                          "",
		"12345 is five":                         "",
		"code 987654, then 123456":              "987654",
	} {
		in := newTestInbox(t, nil)
		_ = in.SendSMS(context.Background(), factors.SMS{To: "+447700900001", Text: body})
		if got := itemsOf(t, in)[0].Code; got != want {
			t.Errorf("code in %q = %q, want %q", body, got, want)
		}
	}
	in := newTestInbox(t, nil)
	_ = in.SendEmail(context.Background(), factors.Email{To: "a@example.org", Subject: "Your code is 246810", Text: "See the subject."})
	if got := itemsOf(t, in)[0].Code; got != "246810" {
		t.Errorf("code in subject = %q", got)
	}
}

func TestJSONShapeAndOrder(t *testing.T) {
	in := newTestInbox(t, nil)
	base := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	tick := 0
	in.now = func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Second) }
	ctx := context.Background()
	_ = in.SendEmail(ctx, factors.Email{To: "ann@example.org", Subject: "Subject", Text: "code 111111"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "code 222222"})
	_ = in.PlaceCall(ctx, factors.Call{ID: "call-1", To: "+447700900123", Script: "Press hash"})

	srv := httptest.NewServer(in.Handler(nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dev/inbox.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	var got []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"id": "call-1", "channel": "voice", "to": "+447700900123", "subject": "", "body": "Press hash", "code": "", "created_at": "2026-03-04T10:00:03Z"},
		{"channel": "sms", "to": "+447700900123", "subject": "", "body": "code 222222", "code": "222222", "created_at": "2026-03-04T10:00:02Z"},
		{"channel": "email", "to": "ann@example.org", "subject": "Subject", "body": "code 111111", "code": "111111", "created_at": "2026-03-04T10:00:01Z"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d items: %v", len(got), got)
	}
	wantKeys := []string{"body", "channel", "code", "created_at", "id", "subject", "to"}
	for i := range want {
		var keys []string
		for k := range got[i] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("item %d keys %v, want %v", i, keys, wantKeys)
		}
		for k, v := range want[i] {
			if got[i][k] != v {
				t.Errorf("item %d %s = %#v, want %#v", i, k, got[i][k], v)
			}
		}
		if id, _ := got[i]["id"].(string); id == "" {
			t.Errorf("item %d has no id", i)
		}
		if _, err := time.Parse(time.RFC3339, got[i]["created_at"].(string)); err != nil {
			t.Errorf("item %d created_at: %v", i, err)
		}
	}

	// An empty inbox is an empty array, not null.
	empty := httptest.NewRecorder()
	newTestInbox(t, nil).Handler(nil).ServeHTTP(empty, localRequest("GET", "/dev/inbox.json", nil))
	if strings.TrimSpace(empty.Body.String()) != "[]" {
		t.Errorf("empty inbox JSON = %q", empty.Body.String())
	}
}

func TestJSONFilterByRecipient(t *testing.T) {
	in := newTestInbox(t, nil)
	ctx := context.Background()
	_ = in.SendEmail(ctx, factors.Email{To: "ann@example.org", Subject: "Subject", Text: "code 111111"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "code 222222"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900456", Text: "code 333333"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "code 444444"})
	h := in.Handler(nil)
	codes := func(query string) []string {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, localRequest("GET", "/dev/inbox.json"+query, nil))
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: status %d, headers %v", query, rec.Code, rec.Header())
		}
		var items []jsonItem
		if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		out := []string{}
		for _, it := range items {
			out = append(out, it.Code)
		}
		return out
	}
	for query, want := range map[string][]string{
		"":                                       {"444444", "333333", "222222", "111111"},
		"?to=%2B447700900123":                    {"444444", "222222"},
		"?to=ANN@example.org":                    {"111111"},
		"?to=%2B447700900456&to=ann@example.org": {"333333", "111111"},
		"?to=nobody@example.org":                 {},
	} {
		if got := codes(query); !slices.Equal(got, want) {
			t.Errorf("inbox.json%s codes = %v, want %v", query, got, want)
		}
	}
	// Without a filter the body is byte for byte what it was before filters.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, localRequest("GET", "/dev/inbox.json", nil))
	items := itemsOf(t, in)
	all := make([]jsonItem, len(items))
	for i, it := range items {
		all[i] = jsonItem{ID: it.ID, Channel: string(it.Channel), To: it.To, Subject: it.Subject,
			Body: it.Body, Code: it.Code, CreatedAt: it.CreatedAt.UTC().Format(time.RFC3339Nano)}
	}
	want, _ := json.Marshal(all)
	if got := bytes.TrimSpace(rec.Body.Bytes()); !bytes.Equal(got, want) {
		t.Errorf("unfiltered inbox.json = %s, want %s", got, want)
	}
}

// post sends a form POST as a script would (no Accept header) or as the inbox page's
// form would (Accept: text/html).
func post(t *testing.T, h http.Handler, path string, form url.Values, fromPage bool) *httptest.ResponseRecorder {
	t.Helper()
	req := localRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if fromPage {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestKeypressAndHangup(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		digits url.Values
		want   factors.CallResult
	}{
		{"hash confirms", "keypress", url.Values{"digits": {"#"}}, factors.CallConfirmed},
		{"hash with spaces confirms", "keypress", url.Values{"digits": {" # "}}, factors.CallConfirmed},
		{"wrong key does not confirm", "keypress", url.Values{"digits": {"1"}}, factors.CallTimedOut},
		{"keys then hash do not confirm", "keypress", url.Values{"digits": {"1#"}}, factors.CallTimedOut},
		{"no key times out", "keypress", url.Values{"digits": {""}}, factors.CallTimedOut},
		{"no field times out", "keypress", url.Values{}, factors.CallTimedOut},
		{"hang up is unanswered", "hangup", url.Values{}, factors.CallUnanswered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			outcomes := &fakeOutcomes{}
			in := newTestInbox(t, nil)
			in.SetCallOutcomes(outcomes)
			h := in.Handler(nil)
			_ = in.PlaceCall(context.Background(), factors.Call{ID: "c1", To: "+447700900123", Script: "Press hash"})

			rec := post(t, h, "/dev/calls/c1/"+tc.path, tc.digits, false)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["id"] != "c1" || body["result"] != string(tc.want) {
				t.Errorf("response %q (%v)", rec.Body, err)
			}
			if got := outcomes.got("c1"); !slices.Equal(got, []factors.CallResult{tc.want}) {
				t.Errorf("recorded %v, want [%s]", got, tc.want)
			}
			if it, _ := latestOf(t, in, factors.ChannelVoice, "+447700900123"); it.CallPending {
				t.Error("call still pending after it ended")
			}

			// Any second action on the same call is refused and reports nothing.
			for _, again := range []string{"keypress", "hangup"} {
				rec = post(t, h, "/dev/calls/c1/"+again, url.Values{"digits": {"#"}}, false)
				if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already been answered") {
					t.Errorf("second %s: %d %s", again, rec.Code, rec.Body)
				}
			}
			if got := outcomes.got("c1"); len(got) != 1 {
				t.Errorf("recorded %v after repeats", got)
			}
		})
	}
}

func TestKeypressFromPageRedirectsToInbox(t *testing.T) {
	outcomes := &fakeOutcomes{}
	in := newTestInbox(t, outcomes)
	h := in.Handler(nil)
	_ = in.PlaceCall(context.Background(), factors.Call{ID: "c2", To: "+447700900123", Script: "Press hash"})
	rec := post(t, h, "/dev/calls/c2/keypress", url.Values{"digits": {"#"}}, true)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/dev/inbox" {
		t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if got := outcomes.got("c2"); !slices.Equal(got, []factors.CallResult{factors.CallConfirmed}) {
		t.Errorf("recorded %v", got)
	}
}

func TestKeypressRefusals(t *testing.T) {
	ctx := context.Background()

	t.Run("unknown id", func(t *testing.T) {
		outcomes := &fakeOutcomes{}
		in := newTestInbox(t, outcomes)
		_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "123456"})
		smsID := itemsOf(t, in)[0].ID
		for _, id := range []string{"nope", smsID} { // an sms is not a call
			rec := post(t, in.Handler(nil), "/dev/calls/"+id+"/keypress", url.Values{"digits": {"#"}}, false)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s: status %d", id, rec.Code)
			}
		}
	})

	t.Run("GET is not allowed", func(t *testing.T) {
		in := newTestInbox(t, &fakeOutcomes{})
		_ = in.PlaceCall(ctx, factors.Call{ID: "c", To: "+447700900123"})
		rec := httptest.NewRecorder()
		in.Handler(nil).ServeHTTP(rec, localRequest("GET", "/dev/calls/c/keypress?digits=%23", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("status %d", rec.Code)
		}
	})

	t.Run("no outcomes receiver", func(t *testing.T) {
		in := newTestInbox(t, nil)
		_ = in.PlaceCall(ctx, factors.Call{ID: "c", To: "+447700900123"})
		rec := post(t, in.Handler(nil), "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("status %d", rec.Code)
		}
		if it := itemsOf(t, in)[0]; !it.CallPending {
			t.Error("call ended although nothing recorded it")
		}
	})

	t.Run("journey no longer waiting", func(t *testing.T) {
		outcomes := &fakeOutcomes{known: map[string]bool{}}
		in := newTestInbox(t, outcomes)
		_ = in.PlaceCall(ctx, factors.Call{ID: "old", To: "+447700900123"})
		rec := post(t, in.Handler(nil), "/dev/calls/old/keypress", url.Values{"digits": {"#"}}, false)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "no longer waiting") {
			t.Errorf("status %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("recording fails then succeeds", func(t *testing.T) {
		outcomes := &fakeOutcomes{err: errors.New("redis down")}
		in := newTestInbox(t, outcomes)
		h := in.Handler(nil)
		_ = in.PlaceCall(ctx, factors.Call{ID: "c", To: "+447700900123"})
		if rec := post(t, h, "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusInternalServerError {
			t.Fatalf("status %d", rec.Code)
		}
		outcomes.mu.Lock()
		outcomes.err = nil
		outcomes.mu.Unlock()
		if rec := post(t, h, "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusOK {
			t.Fatalf("retry status %d %s", rec.Code, rec.Body)
		}
		if got := outcomes.got("c"); !slices.Equal(got, []factors.CallResult{factors.CallConfirmed}) {
			t.Errorf("recorded %v", got)
		}
	})
}

func TestInboxPage(t *testing.T) {
	in := newTestInbox(t, &fakeOutcomes{})
	ctx := context.Background()
	_ = in.SendEmail(ctx, factors.Email{To: "ann@example.org", Subject: "Verification <code>", Text: "Your code is 135790"})
	_ = in.PlaceCall(ctx, factors.Call{ID: "call-9", To: "+447700900123", Script: "Press hash"})
	h := in.Handler(nil)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, localRequest("GET", "/dev/inbox", nil))
	page := rec.Body.String()
	for _, want := range []string{"135790", "ann@example.org", "Verification &lt;code&gt;", `action="/dev/calls/call-9/keypress"`, "Press #", `action="/dev/calls/call-9/hangup"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("inbox page may be cached")
	}

	_ = post(t, h, "/dev/calls/call-9/keypress", url.Values{"digits": {"#"}}, true)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, localRequest("GET", "/dev/inbox", nil))
	if strings.Contains(rec.Body.String(), "Press #") || !strings.Contains(rec.Body.String(), "Call ended") {
		t.Error("answered call still offers the buttons")
	}

	// An injected renderer receives the items, newest first.
	var got []Item
	custom := in.Handler(func(w http.ResponseWriter, r *http.Request, items []Item) { got = items })
	custom.ServeHTTP(httptest.NewRecorder(), localRequest("GET", "/dev/inbox", nil))
	if len(got) != 2 || got[0].ID != "call-9" || got[0].CallPending || got[1].Code != "135790" {
		t.Errorf("renderer got %+v", got)
	}
}

func TestRingKeepsTheLatest(t *testing.T) {
	in := newTestInbox(t, nil, WithCapacity(5))
	ctx := context.Background()
	for i := range 12 {
		_ = in.SendSMS(ctx, factors.SMS{To: fmt.Sprintf("+4477009001%02d", i), Text: "hi"})
	}
	items := itemsOf(t, in)
	if len(items) != 5 {
		t.Fatalf("kept %d items, want 5", len(items))
	}
	for i, it := range items {
		if want := fmt.Sprintf("+4477009001%02d", 11-i); it.To != want {
			t.Errorf("item %d to %s, want %s", i, it.To, want)
		}
	}
	if _, ok := latestOf(t, in, factors.ChannelSMS, "+447700900106"); ok {
		t.Error("a dropped message is still found")
	}
	if newTestInbox(t, nil).capacity != DefaultCapacity {
		t.Error("default capacity not used")
	}

	// A call dropped from the ring can no longer be answered.
	in = newTestInbox(t, &fakeOutcomes{}, WithCapacity(2))
	_ = in.PlaceCall(ctx, factors.Call{ID: "gone", To: "+447700900123"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "a"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "b"})
	if rec := post(t, in.Handler(nil), "/dev/calls/gone/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusNotFound {
		t.Errorf("status %d", rec.Code)
	}
}

func TestConcurrentUse(t *testing.T) {
	outcomes := &fakeOutcomes{}
	in := newTestInbox(t, outcomes, WithCapacity(1000))
	h := in.Handler(nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				switch i % 4 {
				case 0:
					_ = in.SendEmail(ctx, factors.Email{To: "a@example.org", Subject: "s", Text: "123456"})
				case 1:
					_ = in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "123456"})
				case 2:
					id := fmt.Sprintf("call-%d-%d", g, i)
					_ = in.PlaceCall(ctx, factors.Call{ID: id, To: "+447700900123", Script: "Press hash"})
					post(t, h, "/dev/calls/"+id+"/keypress", url.Values{"digits": {"#"}}, false)
				case 3:
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, localRequest("GET", "/dev/inbox.json", nil))
					_, _, _ = in.Latest(ctx, factors.ChannelSMS, "+447700900123")
				}
			}
		}()
	}
	wg.Wait()
	if n := len(itemsOf(t, in)); n != 8*30 {
		t.Errorf("kept %d items, want 240", n)
	}
	outcomes.mu.Lock()
	defer outcomes.mu.Unlock()
	if len(outcomes.results) != 8*10 {
		t.Errorf("recorded %d calls, want 80", len(outcomes.results))
	}
}

// Two presses at the same moment report one outcome.
func TestSimultaneousPressesReportOnce(t *testing.T) {
	outcomes := &fakeOutcomes{}
	in := newTestInbox(t, outcomes)
	h := in.Handler(nil)
	_ = in.PlaceCall(context.Background(), factors.Call{ID: "race", To: "+447700900123"})
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(t, h, "/dev/calls/race/keypress", url.Values{"digits": {"#"}}, false).Code
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 1 || len(outcomes.got("race")) != 1 {
		t.Errorf("%d presses succeeded, %d outcomes recorded", ok, len(outcomes.got("race")))
	}
}

func TestLogsNeitherCodeNorBody(t *testing.T) {
	var buf bytes.Buffer
	in := NewInbox(memoryStore(t), &fakeOutcomes{}, slog.New(slog.NewTextHandler(&buf, nil)))
	ctx := context.Background()
	_ = in.SendEmail(ctx, factors.Email{To: "annabel@example.org", Subject: "Code 112233", Text: "Your code is 112233 secret-body"})
	_ = in.SendSMS(ctx, factors.SMS{To: "+447700900987", Text: "445566 secret-sms"})
	_ = in.PlaceCall(ctx, factors.Call{ID: "call-token-xyz", To: "+447700900555", Script: "secret-script"})
	post(t, in.Handler(nil), "/dev/calls/call-token-xyz/keypress", url.Values{"digits": {"#"}}, false)
	logs := buf.String()
	for _, secret := range []string{"112233", "445566", "secret-body", "secret-sms", "secret-script", "call-token-xyz", "annabel", "900987"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"channel=email", "a***@example.org", "channel=sms", "07*** ***987", "channel=voice", "result=confirmed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestRegisterBesideCatchAll(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	in := newTestInbox(t, &fakeOutcomes{})
	in.Register(mux, nil) // panics on a pattern conflict
	_ = in.PlaceCall(context.Background(), factors.Call{ID: "c", To: "+447700900123"})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, localRequest("GET", "/dev/inbox.json", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"id":"c"`) {
		t.Errorf("inbox.json: %d %s", rec.Code, rec.Body)
	}
	if rec := post(t, mux, "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusOK {
		t.Errorf("keypress: %d %s", rec.Code, rec.Body)
	}
}

// The inbox shows every code: only loopback peers and the given ranges are served,
// judged by the connection's address, never by a header the client writes.
func TestInboxAnswersOnlyItsPeers(t *testing.T) {
	in := newTestInbox(t, nil)
	if err := in.SendSMS(context.Background(), factors.SMS{To: "+447700900123", Text: "654321 is your code"}); err != nil {
		t.Fatal(err)
	}
	docker := netip.MustParsePrefix("172.16.0.0/12")
	for _, tc := range []struct {
		remote string
		peers  []netip.Prefix
		want   int
	}{
		{"127.0.0.1:5000", nil, http.StatusOK},
		{"127.3.4.5:5000", nil, http.StatusOK},
		{"[::1]:5000", nil, http.StatusOK},
		{"[::ffff:127.0.0.1]:5000", nil, http.StatusOK},
		{"172.18.0.1:5000", []netip.Prefix{docker}, http.StatusOK},
		{"172.18.0.1:5000", nil, http.StatusForbidden},
		{"192.168.1.20:5000", []netip.Prefix{docker}, http.StatusForbidden},
		{"[fe80::1%eth0]:5000", nil, http.StatusForbidden},
		{"203.0.113.9:5000", nil, http.StatusForbidden},
		{"not an address", nil, http.StatusForbidden},
	} {
		for _, path := range []string{"/dev/inbox", "/dev/inbox.json"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.RemoteAddr = tc.remote
			req.Header.Set("X-Forwarded-For", "127.0.0.1")
			rec := httptest.NewRecorder()
			in.Handler(nil, tc.peers...).ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("GET %s from %s (peers %v) = %d, want %d", path, tc.remote, tc.peers, rec.Code, tc.want)
			}
			if tc.want != http.StatusOK && strings.Contains(rec.Body.String(), "654321") {
				t.Errorf("GET %s from %s shows the code", path, tc.remote)
			}
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/dev/calls/x/keypress", strings.NewReader("digits=%23"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "203.0.113.9:5000"
	rec := httptest.NewRecorder()
	in.Handler(nil).ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden {
		t.Errorf("keypress from a remote peer = %d, want 403", rec.Code)
	}
}

// localRequest is httptest.NewRequest from this machine: the inbox answers only
// loopback peers, and httptest's default peer is 192.0.2.1.
func localRequest(method, target string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}
