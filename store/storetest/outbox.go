package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/councilforms/idp/store"
)

// outboxEmail is a queued email created at created.
func outboxEmail(n int, created time.Time) *store.OutboxMessage {
	return &store.OutboxMessage{
		Channel:   "email",
		Recipient: fmt.Sprintf("person%d@example.org", n),
		Subject:   "Norfolk County Council account email verification code",
		Text:      fmt.Sprintf("Your verification code is %06d", n),
		HTML:      fmt.Sprintf("<p>Your verification code is <b>%06d</b></p>", n),
		CreatedAt: created,
	}
}

func outboxIDs(ms []*store.OutboxMessage) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func outboxGet(t *testing.T, s store.Outbox, id int64) *store.OutboxMessage {
	t.Helper()
	ms, err := s.ListOutbox(context.Background(), "", 1000)
	durableOK(t, "ListOutbox", err)
	for _, m := range ms {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d not listed", id)
	return nil
}

func durableOutboxLifecycle(t *testing.T, s store.Durable) {
	ctx := context.Background()
	a, b := outboxEmail(1, durableBase), outboxEmail(2, durableBase.Add(time.Second))
	durableOK(t, "EnqueueOutbox a", s.EnqueueOutbox(ctx, a))
	durableOK(t, "EnqueueOutbox b", s.EnqueueOutbox(ctx, b))
	if a.ID == 0 || b.ID == 0 || a.ID == b.ID {
		t.Fatalf("ids %d and %d, want distinct non-zero", a.ID, b.ID)
	}
	if a.Status != store.OutboxQueued || !a.NextAttemptAt.Equal(a.CreatedAt) {
		t.Errorf("after enqueue: status %q, next attempt %v; want queued, due at creation", a.Status, a.NextAttemptAt)
	}
	durableEqual(t, "queued message", outboxGet(t, s, a.ID), a)

	now := durableBase.Add(2 * time.Second)
	lease := time.Minute
	claimed, err := s.ClaimOutbox(ctx, "email", now, 10, lease)
	durableOK(t, "ClaimOutbox", err)
	if len(claimed) != 2 || claimed[0].ID != a.ID || claimed[1].ID != b.ID {
		t.Fatalf("claimed %v, want [%d %d]", outboxIDs(claimed), a.ID, b.ID)
	}
	want := *a
	want.Status, want.Attempts, want.NextAttemptAt = store.OutboxSending, 1, now.Add(lease)
	durableEqual(t, "claimed message", claimed[0], &want)

	again, err := s.ClaimOutbox(ctx, "email", now, 10, lease)
	durableOK(t, "ClaimOutbox again", err)
	if len(again) != 0 {
		t.Fatalf("claimed %v again while their lease runs", outboxIDs(again))
	}

	sentAt := now.Add(time.Second)
	durableOK(t, "MarkOutboxSent", s.MarkOutboxSent(ctx, a.ID, sentAt))
	got := outboxGet(t, s, a.ID)
	want.Status, want.SentAt, want.Text, want.HTML = store.OutboxSent, sentAt, "", ""
	durableEqual(t, "sent message (bodies cleared, subject and recipient kept)", got, &want)

	retryAt := now.Add(10 * time.Second)
	durableOK(t, "MarkOutboxRetry", s.MarkOutboxRetry(ctx, b.ID, retryAt, "dial tcp: connection refused"))
	got = outboxGet(t, s, b.ID)
	if got.Status != store.OutboxQueued || got.LastError != "dial tcp: connection refused" || got.Attempts != 1 ||
		got.Text != b.Text || got.HTML != b.HTML {
		t.Errorf("after retry: %+v", got)
	}
	early, err := s.ClaimOutbox(ctx, "email", retryAt.Add(-time.Millisecond), 10, lease)
	durableOK(t, "ClaimOutbox before retry is due", err)
	if len(early) != 0 {
		t.Fatalf("claimed %v before it was due", outboxIDs(early))
	}
	due, err := s.ClaimOutbox(ctx, "email", retryAt, 10, lease)
	durableOK(t, "ClaimOutbox when retry is due", err)
	if len(due) != 1 || due[0].ID != b.ID || due[0].Attempts != 2 || due[0].LastError != "dial tcp: connection refused" {
		t.Fatalf("claimed %+v, want message %d on its second attempt", due, b.ID)
	}

	durableOK(t, "MarkOutboxFailed", s.MarkOutboxFailed(ctx, b.ID, "550 mailbox unavailable"))
	got = outboxGet(t, s, b.ID)
	if got.Status != store.OutboxFailed || got.LastError != "550 mailbox unavailable" || got.Text != "" || got.HTML != "" ||
		got.Subject != b.Subject || got.Recipient != b.Recipient || !got.SentAt.IsZero() {
		t.Errorf("after failure: %+v", got)
	}
	none, err := s.ClaimOutbox(ctx, "email", now.Add(24*time.Hour), 10, lease)
	durableOK(t, "ClaimOutbox after all settled", err)
	if len(none) != 0 {
		t.Errorf("claimed settled messages %v", outboxIDs(none))
	}

	durableWantErr(t, "MarkOutboxSent missing", s.MarkOutboxSent(ctx, 999999, now), store.ErrNotFound)
	durableWantErr(t, "MarkOutboxRetry missing", s.MarkOutboxRetry(ctx, 999999, now, "x"), store.ErrNotFound)
	durableWantErr(t, "MarkOutboxFailed missing", s.MarkOutboxFailed(ctx, 999999, "x"), store.ErrNotFound)
	if _, err := s.ClaimOutbox(ctx, "email", now, 0, lease); err == nil {
		t.Error("ClaimOutbox with limit 0 succeeded")
	}
}

func durableOutboxNotDue(t *testing.T, s store.Durable) {
	ctx := context.Background()
	later := outboxEmail(1, durableBase)
	later.NextAttemptAt = durableBase.Add(time.Hour)
	durableOK(t, "EnqueueOutbox later", s.EnqueueOutbox(ctx, later))
	first := outboxEmail(2, durableBase.Add(time.Second))
	second := outboxEmail(3, durableBase.Add(2*time.Second))
	third := outboxEmail(4, durableBase.Add(3*time.Second))
	for _, m := range []*store.OutboxMessage{third, first, second} { // inserted out of order
		durableOK(t, "EnqueueOutbox", s.EnqueueOutbox(ctx, m))
	}
	now := durableBase.Add(time.Minute)
	lease := 2 * time.Hour // outlasts the rest of the test
	got, err := s.ClaimOutbox(ctx, "email", now, 2, lease)
	durableOK(t, "ClaimOutbox", err)
	ids := map[int64]bool{}
	for _, m := range got {
		ids[m.ID] = true
	}
	if len(got) != 2 || !ids[first.ID] || !ids[second.ID] {
		t.Fatalf("claimed %v, want the two due earliest: %d and %d", outboxIDs(got), first.ID, second.ID)
	}
	got, err = s.ClaimOutbox(ctx, "email", now, 10, lease)
	durableOK(t, "ClaimOutbox rest", err)
	if len(got) != 1 || got[0].ID != third.ID {
		t.Fatalf("claimed %v, want only %d (the other is not due)", outboxIDs(got), third.ID)
	}
	got, err = s.ClaimOutbox(ctx, "email", durableBase.Add(time.Hour), 10, lease)
	durableOK(t, "ClaimOutbox when due", err)
	if len(got) != 1 || got[0].ID != later.ID {
		t.Fatalf("claimed %v, want %d once due", outboxIDs(got), later.ID)
	}
}

// A worker that crashed while sending leaves its message claimed; once the lease
// ends another worker takes it over.
func durableOutboxLeaseExpiry(t *testing.T, s store.Durable) {
	ctx := context.Background()
	m := outboxEmail(1, durableBase)
	durableOK(t, "EnqueueOutbox", s.EnqueueOutbox(ctx, m))
	lease := 2 * time.Minute
	got, err := s.ClaimOutbox(ctx, "email", durableBase, 10, lease)
	durableOK(t, "ClaimOutbox", err)
	if len(got) != 1 {
		t.Fatalf("claimed %d, want 1", len(got))
	}
	got, err = s.ClaimOutbox(ctx, "email", durableBase.Add(lease-time.Second), 10, lease)
	durableOK(t, "ClaimOutbox during the lease", err)
	if len(got) != 0 {
		t.Fatalf("reclaimed during the lease")
	}
	got, err = s.ClaimOutbox(ctx, "email", durableBase.Add(lease), 10, lease)
	durableOK(t, "ClaimOutbox after the lease", err)
	if len(got) != 1 || got[0].ID != m.ID || got[0].Attempts != 2 || got[0].Status != store.OutboxSending ||
		got[0].Text != m.Text {
		t.Fatalf("after the lease claimed %+v, want the message again on attempt 2 with its body", got)
	}
}

func durableOutboxList(t *testing.T, s store.Durable) {
	ctx := context.Background()
	ms, err := s.ListOutbox(ctx, "", 0)
	durableOK(t, "ListOutbox empty", err)
	if len(ms) != 0 {
		t.Fatalf("ListOutbox on an empty store = %d", len(ms))
	}
	var all []*store.OutboxMessage
	for i := 0; i < 5; i++ {
		m := outboxEmail(i, durableBase.Add(time.Duration(i)*time.Second))
		durableOK(t, "EnqueueOutbox", s.EnqueueOutbox(ctx, m))
		all = append(all, m)
	}
	claimed, err := s.ClaimOutbox(ctx, "email", durableBase.Add(time.Minute), 3, time.Minute)
	durableOK(t, "ClaimOutbox", err)
	if len(claimed) != 3 {
		t.Fatalf("claimed %d", len(claimed))
	}
	durableOK(t, "MarkOutboxSent", s.MarkOutboxSent(ctx, all[0].ID, durableBase.Add(time.Minute)))
	durableOK(t, "MarkOutboxFailed", s.MarkOutboxFailed(ctx, all[1].ID, "refused"))

	for _, tc := range []struct {
		status store.OutboxStatus
		limit  int
		want   []int64
	}{
		{"", 0, []int64{all[4].ID, all[3].ID, all[2].ID, all[1].ID, all[0].ID}},
		{"", 2, []int64{all[4].ID, all[3].ID}},
		{store.OutboxQueued, 0, []int64{all[4].ID, all[3].ID}},
		{store.OutboxSending, 0, []int64{all[2].ID}},
		{store.OutboxSent, 0, []int64{all[0].ID}},
		{store.OutboxFailed, 10, []int64{all[1].ID}},
	} {
		ms, err := s.ListOutbox(ctx, tc.status, tc.limit)
		durableOK(t, "ListOutbox", err)
		if fmt.Sprint(outboxIDs(ms)) != fmt.Sprint(tc.want) {
			t.Errorf("ListOutbox(%q, %d) = %v, want %v", tc.status, tc.limit, outboxIDs(ms), tc.want)
		}
	}
}

func durableOutboxClaimRace(t *testing.T, s store.Durable) {
	OutboxClaimRace(t, s, []store.Outbox{s, s, s, s})
}

// OutboxClaimRace enqueues messages through seed and has every claimer (stores on
// one database, standing for server processes; or one store shared by goroutines)
// claim concurrently until none are left: each message must be claimed exactly once.
func OutboxClaimRace(t *testing.T, seed store.Outbox, claimers []store.Outbox) {
	t.Helper()
	ctx := context.Background()
	const n = 60
	for i := 0; i < n; i++ {
		durableOK(t, "EnqueueOutbox", seed.EnqueueOutbox(ctx, outboxEmail(i, durableBase)))
	}
	now := durableBase.Add(time.Minute)
	var (
		mu    sync.Mutex
		count = map[int64]int{}
		wg    sync.WaitGroup
		errs  = make([]error, len(claimers))
	)
	start := make(chan struct{})
	for i, c := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				ms, err := c.ClaimOutbox(ctx, "email", now, 3, time.Hour)
				if err != nil {
					errs[i] = err
					return
				}
				if len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					count[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("claimer %d: %v", i, err)
		}
	}
	if len(count) != n {
		t.Errorf("%d distinct messages claimed, want %d", len(count), n)
	}
	for id, c := range count {
		if c != 1 {
			t.Errorf("message %d claimed %d times", id, c)
		}
	}
}

// durableOutboxChannels: a claim takes only its own channel's messages.
func durableOutboxChannels(t *testing.T, s store.Durable) {
	ctx := context.Background()
	email := outboxEmail(1, durableBase)
	notice := &store.OutboxMessage{Channel: "backchannel_logout", Recipient: "referral",
		Text: `{"sub":"u1","sid":"s1"}`, CreatedAt: durableBase}
	durableOK(t, "EnqueueOutbox email", s.EnqueueOutbox(ctx, email))
	durableOK(t, "EnqueueOutbox notice", s.EnqueueOutbox(ctx, notice))
	got, err := s.ClaimOutbox(ctx, "backchannel_logout", durableBase, 10, time.Minute)
	durableOK(t, "ClaimOutbox backchannel_logout", err)
	if ids := outboxIDs(got); len(ids) != 1 || ids[0] != notice.ID || got[0].Recipient != "referral" || got[0].Text != notice.Text {
		t.Fatalf("claimed %v, want only the notice %d with its recipient and text", ids, notice.ID)
	}
	got, err = s.ClaimOutbox(ctx, "email", durableBase, 10, time.Minute)
	durableOK(t, "ClaimOutbox email", err)
	if ids := outboxIDs(got); len(ids) != 1 || ids[0] != email.ID {
		t.Fatalf("claimed %v, want only the email %d", ids, email.ID)
	}
}
