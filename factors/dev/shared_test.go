package dev

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/store"
	"github.com/councilforms/idp/store/memory"
	"github.com/councilforms/idp/store/redis"
	"github.com/councilforms/idp/store/storetest"
)

// The inbox's messages live in the store, so several processes (one Inbox each)
// sharing it behave as one inbox: the tests run on both stores the server uses.
func sharedStores(t *testing.T, run func(t *testing.T, open func() Store)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		run(t, func() Store { return s })
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		u, prefix := storetest.Redis(t)
		// Each process has its own connection to the one Redis.
		run(t, func() Store {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := redis.Open(ctx, u, prefix)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func getJSON(t *testing.T, h http.Handler) []jsonItem {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, localRequest("GET", "/dev/inbox.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("inbox.json: %d %s", rec.Code, rec.Body)
	}
	var items []jsonItem
	if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil {
		t.Fatal(err)
	}
	return items
}

func TestSharedStoreIsOneInbox(t *testing.T) {
	sharedStores(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		outA, outB := &fakeOutcomes{}, &fakeOutcomes{}
		a, b := NewInbox(open(), outA, nil), NewInbox(open(), outB, nil)
		ha, hb := a.Handler(nil), b.Handler(nil)

		if err := a.SendEmail(ctx, factors.Email{To: "ann@example.org", Subject: "Code", Text: "Your code is 111111"}); err != nil {
			t.Fatal(err)
		}
		if err := b.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "222222 is your code"}); err != nil {
			t.Fatal(err)
		}
		if err := a.PlaceCall(ctx, factors.Call{ID: "call-a", To: "+447700900123", Script: "Press hash"}); err != nil {
			t.Fatal(err)
		}
		// Every process shows every message, newest first, in the same JSON.
		fromA, fromB := getJSON(t, ha), getJSON(t, hb)
		if !slices.Equal(fromA, fromB) {
			t.Errorf("A shows %+v\nB shows %+v", fromA, fromB)
		}
		var got []string
		for _, it := range fromB {
			got = append(got, it.Channel+":"+it.Code)
		}
		if want := []string{"voice:", "sms:222222", "email:111111"}; !slices.Equal(got, want) {
			t.Errorf("B's inbox %v, want %v", got, want)
		}
		if fromB[0].ID != "call-a" || fromB[0].Body != "Press hash" {
			t.Errorf("call item %+v", fromB[0])
		}

		// The call A placed is answered at B; B reports it, and A shows it ended and
		// refuses to end it again.
		if rec := post(t, hb, "/dev/calls/call-a/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusOK {
			t.Fatalf("keypress at B: %d %s", rec.Code, rec.Body)
		}
		if got := outB.got("call-a"); !slices.Equal(got, []factors.CallResult{factors.CallConfirmed}) {
			t.Errorf("B reported %v", got)
		}
		if it, _ := latestOf(t, a, factors.ChannelVoice, "+447700900123"); it.CallPending {
			t.Error("A still shows the call pending")
		}
		for _, path := range []string{"keypress", "hangup"} {
			if rec := post(t, ha, "/dev/calls/call-a/"+path, url.Values{"digits": {"#"}}, false); rec.Code != http.StatusConflict {
				t.Errorf("%s at A after B answered: %d %s", path, rec.Code, rec.Body)
			}
		}
		if len(outA.got("call-a")) != 0 {
			t.Error("A reported the call too")
		}
	})
}

// Presses at two processes at once end a call once.
func TestSharedStoreSimultaneousPresses(t *testing.T) {
	sharedStores(t, func(t *testing.T, open func() Store) {
		outcomes := &fakeOutcomes{}
		a, b := NewInbox(open(), outcomes, nil), NewInbox(open(), outcomes, nil)
		ha, hb := a.Handler(nil), b.Handler(nil)
		for round := range 3 {
			id := "race-" + string(rune('a'+round))
			if err := a.PlaceCall(context.Background(), factors.Call{ID: id, To: "+447700900123"}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			codes := make([]int, 10)
			for i := range codes {
				h := ha
				if i%2 == 1 {
					h = hb
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = post(t, h, "/dev/calls/"+id+"/keypress", url.Values{"digits": {"#"}}, false).Code
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
			if ok != 1 || len(outcomes.got(id)) != 1 {
				t.Errorf("%s: %d presses succeeded, %d outcomes recorded; want 1 and 1", id, ok, len(outcomes.got(id)))
			}
		}
	})
}

// A report that fails at one process leaves the call pending for any process.
func TestSharedStoreFailedReportReopensTheCall(t *testing.T) {
	sharedStores(t, func(t *testing.T, open func() Store) {
		broken := &fakeOutcomes{err: errors.New("redis down")}
		working := &fakeOutcomes{}
		a, b := NewInbox(open(), working, nil), NewInbox(open(), broken, nil)
		if err := a.PlaceCall(context.Background(), factors.Call{ID: "c", To: "+447700900123"}); err != nil {
			t.Fatal(err)
		}
		if rec := post(t, b.Handler(nil), "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusInternalServerError {
			t.Fatalf("keypress at B: %d %s", rec.Code, rec.Body)
		}
		if it, _ := latestOf(t, a, factors.ChannelVoice, "+447700900123"); !it.CallPending {
			t.Fatal("the call is not pending again after B failed to report it")
		}
		if rec := post(t, a.Handler(nil), "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusOK {
			t.Fatalf("keypress at A: %d %s", rec.Code, rec.Body)
		}
		if got := working.got("c"); !slices.Equal(got, []factors.CallResult{factors.CallConfirmed}) {
			t.Errorf("A reported %v", got)
		}
	})
}

// The processes keep the latest messages together, and what falls off the end is
// deleted, not only hidden.
func TestSharedStoreKeepsTheLatest(t *testing.T) {
	sharedStores(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		s := open()
		a, b := NewInbox(s, &fakeOutcomes{}, nil, WithCapacity(3)), NewInbox(open(), &fakeOutcomes{}, nil, WithCapacity(3))
		if err := a.PlaceCall(ctx, factors.Call{ID: "old-call", To: "+447700900123"}); err != nil {
			t.Fatal(err)
		}
		for i, in := range []*Inbox{b, a, b, a} {
			if err := in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: strings.Repeat(string(rune('1'+i)), 6)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, in := range []*Inbox{a, b} {
			var codes []string
			for _, it := range itemsOf(t, in) {
				codes = append(codes, it.Code)
			}
			if want := []string{"444444", "333333", "222222"}; !slices.Equal(codes, want) {
				t.Errorf("kept %v, want %v", codes, want)
			}
		}
		if _, _, err := s.Get(ctx, itemKeyPrefix+"old-call"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a dropped call is still stored: %v", err)
		}
		if rec := post(t, b.Handler(nil), "/dev/calls/old-call/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusNotFound {
			t.Errorf("keypress on a dropped call: %d", rec.Code)
		}
	})
}

// Messages hold codes: they expire from the store with the inbox's TTL, and a call
// that has expired cannot be answered.
func TestSharedStoreMessagesExpire(t *testing.T) {
	sharedStores(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		const ttl = 300 * time.Millisecond
		s := open()
		in := NewInbox(s, &fakeOutcomes{}, nil, WithTTL(ttl))
		start := time.Now()
		if err := in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "123456"}); err != nil {
			t.Fatal(err)
		}
		if err := in.PlaceCall(ctx, factors.Call{ID: "c", To: "+447700900123"}); err != nil {
			t.Fatal(err)
		}
		items := itemsOf(t, in)
		if time.Since(start) < ttl/2 && len(items) != 2 {
			t.Fatalf("before expiry: %d items", len(items))
		}
		smsKey := itemKeyPrefix + items[len(items)-1].ID
		time.Sleep(time.Until(start.Add(ttl + 100*time.Millisecond)))
		if items := itemsOf(t, in); len(items) != 0 {
			t.Errorf("after the TTL the inbox shows %+v", items)
		}
		for _, k := range []string{smsKey, itemKeyPrefix + "c"} {
			if _, _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s still stored after the TTL: %v", k, err)
			}
		}
		if ids, err := s.List(ctx, indexKey); err != nil || len(ids) != 0 {
			t.Errorf("index after the TTL: %q, %v", ids, err)
		}
		if rec := post(t, in.Handler(nil), "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusNotFound {
			t.Errorf("keypress on an expired call: %d", rec.Code)
		}
	})
}

// failingStore fails every operation, as Redis does while it is down.
type failingStore struct{ Store }

var errDown = errors.New("store down")

func (failingStore) Put(context.Context, string, []byte, time.Duration) error { return errDown }
func (failingStore) Get(context.Context, string) ([]byte, int64, error)       { return nil, 0, errDown }
func (failingStore) List(context.Context, string) ([][]byte, error)           { return nil, errDown }

func TestStoreDown(t *testing.T) {
	in := NewInbox(failingStore{memoryStore(t)}, &fakeOutcomes{}, nil)
	ctx := context.Background()
	if err := in.SendSMS(ctx, factors.SMS{To: "+447700900123", Text: "123456"}); !errors.Is(err, errDown) {
		t.Errorf("SendSMS with the store down: %v", err)
	}
	if err := in.PlaceCall(ctx, factors.Call{ID: "c", To: "+447700900123"}); !errors.Is(err, errDown) {
		t.Errorf("PlaceCall with the store down: %v", err)
	}
	h := in.Handler(nil)
	for _, path := range []string{"/dev/inbox", "/dev/inbox.json"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, localRequest("GET", path, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s with the store down: %d", path, rec.Code)
		}
	}
	if rec := post(t, h, "/dev/calls/c/keypress", url.Values{"digits": {"#"}}, false); rec.Code != http.StatusInternalServerError {
		t.Errorf("keypress with the store down: %d", rec.Code)
	}
}
