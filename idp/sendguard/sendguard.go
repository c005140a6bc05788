// Package sendguard is the last check before any text message or call leaves,
// whatever its provider: the number must be one the council allows
// (IDP_PHONE_COUNTRIES, no premium rate and the like, checked again here so that a
// number enrolled before the setting changed is not sent to), and the day's count
// of texts and calls across every server process (store.Counters, per UTC day)
// must be within IDP_SEND_DAILY_CEILING (limits.Ceiling). The ceiling is split:
// texts and calls to numbers being enrolled (factors.SMS.Verified false) may use
// only the share IDP_SEND_CEILING_VERIFIED_SHARE leaves them, so enrolment spam
// cannot stop people with a verified number signing in. Past its share a message
// is refused with an error wrapping factors.ErrSendCeiling and
// factors.ErrProviderUnavailable, and idp_send_ceiling_refused_total{share}
// rises. A warning is logged once a day when 80% of a share is spent, and once
// when it runs out. Without the counts (the database down) it refuses: the
// ceiling fails closed.
//
// The guard also keeps the durable daily counts the cost report is made of
// (store.DailyCounts): every text and call, per UTC day, form app, channel and
// outcome: sent (the provider accepted it), failed (the provider refused it or
// could not be reached) or refused (stopped here, never reaching a provider).
// Each is counted once, after the provider's answer; a count that cannot be
// written is logged and idp_send_counts_lost_total rises, and the message is
// neither held back nor sent again for it: the person's send matters more than
// the report, and retrying it could send twice.
package sendguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/councilforms/idp/factors"
	"github.com/councilforms/idp/factors/phone"
	"github.com/councilforms/idp/idp/limits"
	"github.com/councilforms/idp/store"
	"github.com/prometheus/client_golang/prometheus"
)

// shareKeyPrefix + share counts the day's text messages and calls of that share
// of the daily ceiling (store.Counters, limits.Day windows).
const shareKeyPrefix = store.KeySendShare

// Guard is checked before every text message and call: allowed destination and
// the global daily ceiling with its shares.
type Guard struct {
	counters store.Counters
	daily    store.DailyCounts
	ceiling  limits.Ceiling
	numbers  phone.Rules
	log      *slog.Logger
	now      func() time.Time

	limit      prometheus.Gauge
	count      prometheus.Gauge
	shareLimit *prometheus.GaugeVec
	shareCount *prometheus.GaugeVec
	refused    *prometheus.CounterVec
	lost       prometheus.Counter
}

// Config is what a Guard checks against.
type Config struct {
	// Counters hold the day's counts of every server process (durable, so a
	// flush of the ephemeral store resets nothing).
	Counters store.Counters
	// Daily receives the day's count of every text and call by form app,
	// channel and outcome; nil counts nothing.
	Daily   store.DailyCounts
	Ceiling limits.Ceiling // IDP_SEND_DAILY_CEILING and its shares
	Numbers phone.Rules    // IDP_PHONE_COUNTRIES and the kinds of number allowed
	// Registerer receives the ceiling's metrics; nil means none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger // nil discards
}

// New makes a Guard and registers its metrics.
func New(cfg Config) (*Guard, error) {
	if cfg.Counters == nil {
		return nil, errors.New("sendguard: counters are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registerer
	g := &Guard{
		counters: cfg.Counters, daily: cfg.Daily, ceiling: cfg.Ceiling, numbers: cfg.Numbers,
		log: log, now: time.Now,
		limit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "idp_send_daily_ceiling", Help: "Text messages and calls all servers may send in one UTC day (IDP_SEND_DAILY_CEILING).",
		}),
		count: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "idp_send_daily_count", Help: "Text messages and calls asked for so far this UTC day by all servers, both shares, as last seen by this one.",
		}),
		shareLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "idp_send_share_limit", Help: "Text messages and calls each share of the daily ceiling is given (share: verified numbers, enrolment of new numbers; IDP_SEND_CEILING_VERIFIED_SHARE).",
		}, []string{"share"}),
		shareCount: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "idp_send_share_count", Help: "Text messages and calls asked for so far this UTC day in each share of the daily ceiling, as last seen by this server.",
		}, []string{"share"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_send_ceiling_refused_total", Help: "Text messages and calls refused because the daily ceiling, or its share for them, was reached; by channel and share.",
		}, []string{"channel", "share"}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "idp_send_counts_lost_total", Help: "Texts and calls whose daily count (the cost report) could not be written.",
		}),
	}
	g.limit.Set(float64(g.ceiling.Daily))
	for _, sh := range limits.Shares {
		g.shareLimit.WithLabelValues(string(sh)).Set(float64(g.ceiling.Size(sh)))
		g.shareCount.WithLabelValues(string(sh))
		// Present at zero from the start, so that an alert on increase() sees the
		// first refusal (a series that appears at 1 has no increase).
		for _, ch := range []factors.Channel{factors.ChannelSMS, factors.ChannelVoice} {
			g.refused.WithLabelValues(string(ch), string(sh))
		}
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{g.limit, g.count, g.shareLimit, g.shareCount, g.refused, g.lost} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("sendguard: register metrics: %w", err)
			}
		}
	}
	return g, nil
}

// shareNames are the shares as the log says them.
var shareNames = map[limits.Share]string{
	limits.ShareVerified:  "numbers already verified",
	limits.ShareEnrolment: "numbers being enrolled",
}

// SetClock replaces the clock (tests).
func (g *Guard) SetClock(now func() time.Time) { g.now = now }

// Admit checks a text message or call to number on channel before it is sent;
// verified says the number is already verified on an account.
func (g *Guard) Admit(ctx context.Context, ch factors.Channel, number string, verified bool) error {
	if _, err := g.numbers.Parse(number); err != nil {
		// Checked again here, not only at enrolment, so that a number enrolled before
		// IDP_PHONE_COUNTRIES changed is not sent to.
		reason := "not a personal landline or mobile number"
		if errors.Is(err, phone.ErrRegion) {
			reason = "outside IDP_PHONE_COUNTRIES"
		}
		return fmt.Errorf("delivery: %s to %s refused, %s: %w", ch, phone.Mask(number), reason, factors.ErrUndeliverable)
	}
	share, other := limits.ShareEnrolment, limits.ShareVerified
	if verified {
		share, other = limits.ShareVerified, limits.ShareEnrolment
	}
	now := g.now()
	// Without the counts the ceiling cannot be kept: refuse rather than risk pumping.
	n, err := g.counters.Hit(ctx, shareKeyPrefix+string(share), limits.Day, now)
	if err != nil {
		return fmt.Errorf("sendguard: count the day's sends: %w", err)
	}
	m, err := g.counters.Count(ctx, shareKeyPrefix+string(other), limits.Day, now)
	if err != nil {
		return fmt.Errorf("sendguard: count the day's sends: %w", err)
	}
	g.shareCount.WithLabelValues(string(share)).Set(float64(n))
	g.shareCount.WithLabelValues(string(other)).Set(float64(m))
	g.count.Set(float64(n + m))
	v, e := n, m
	if !verified {
		v, e = m, n
	}
	size := g.ceiling.Size(share)
	// Hit is atomic, so exactly one process sees each count: one warning a day.
	if n == g.ceiling.WarnAt(share) {
		g.log.WarnContext(ctx, fmt.Sprintf("delivery: %d%% of the daily share of text messages and calls for %s is spent", limits.ShareWarningPercent, shareNames[share]),
			slog.String("share", string(share)), slog.Int("count", n), slog.Int("share_size", size), slog.Int("ceiling", g.ceiling.Daily))
	}
	if g.ceiling.Allow(share, v, e) {
		return nil
	}
	g.refused.WithLabelValues(string(ch), string(share)).Inc()
	if share == limits.ShareEnrolment && n == size+1 {
		g.log.WarnContext(ctx, "delivery: the daily share of text messages and calls for numbers being enrolled is spent; refusing them until the next UTC day",
			slog.Int("share_size", size), slog.Int("ceiling", g.ceiling.Daily), slog.String("channel", string(ch)))
	}
	if share == limits.ShareVerified && v+min(e, g.ceiling.Size(limits.ShareEnrolment)) == g.ceiling.Daily+1 {
		g.log.WarnContext(ctx, "delivery: daily ceiling of text messages and calls reached; refusing more until the next UTC day",
			slog.Int("ceiling", g.ceiling.Daily), slog.String("channel", string(ch)))
	}
	return fmt.Errorf("delivery: daily ceiling of %d text messages and calls (%d for %s) reached: %w, %w",
		g.ceiling.Daily, size, shareNames[share], factors.ErrSendCeiling, factors.ErrProviderUnavailable)
}

// SMS is next behind the guard.
func (g *Guard) SMS(next factors.SMSSender) factors.SMSSender { return guardedSMS{g, next} }

// Caller is next behind the guard.
func (g *Guard) Caller(next factors.Caller) factors.Caller { return guardedCaller{g, next} }

type guardedSMS struct {
	g    *Guard
	next factors.SMSSender
}

func (s guardedSMS) SendSMS(ctx context.Context, m factors.SMS) error {
	if err := s.g.Admit(ctx, factors.ChannelSMS, m.To, m.Verified); err != nil {
		s.g.countSend(ctx, factors.ChannelSMS, m.ClientID, store.SendRefused)
		return err
	}
	err := s.next.SendSMS(ctx, m)
	s.g.countSend(ctx, factors.ChannelSMS, m.ClientID, outcome(err))
	return err
}

type guardedCaller struct {
	g    *Guard
	next factors.Caller
}

func (c guardedCaller) PlaceCall(ctx context.Context, call factors.Call) error {
	if err := c.g.Admit(ctx, factors.ChannelVoice, call.To, call.Verified); err != nil {
		c.g.countSend(ctx, factors.ChannelVoice, call.ClientID, store.SendRefused)
		return err
	}
	err := c.next.PlaceCall(ctx, call)
	c.g.countSend(ctx, factors.ChannelVoice, call.ClientID, outcome(err))
	return err
}

// outcome is the daily count's outcome of a provider's answer.
func outcome(err error) string {
	if err != nil {
		return store.SendFailed
	}
	return store.SendSent
}

// countSend adds one text or call to the day's durable counts. A failure to
// write is logged and counted, never returned: the message has had its answer.
func (g *Guard) countSend(ctx context.Context, ch factors.Channel, clientID, outcome string) {
	if g.daily == nil {
		return
	}
	// The send has happened; the count is written even if the request ends now.
	ctx = context.WithoutCancel(ctx)
	if err := g.daily.AddDailyCount(ctx, g.now(), clientID, store.SendCountKind(string(ch), outcome), 1); err != nil {
		g.lost.Inc()
		g.log.ErrorContext(ctx, "delivery: could not count a text or call for the cost report",
			slog.String("channel", string(ch)), slog.String("outcome", outcome), slog.String("client", clientID), slog.Any("err", err))
	}
}
