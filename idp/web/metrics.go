package web

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/councilforms/idp/idp/journey"
)

// metrics count what the journeys do, for dashboards and alarms (a burst of
// lockouts or refused sends is an attack or an outage).
type metrics struct {
	started   prometheus.Counter
	completed *prometheus.CounterVec // kind, amr
	passwords *prometheus.CounterVec // result: ok, wrong, locked
	refused   *prometheus.CounterVec // budget: sends refused by the durable budgets
	created   prometheus.Counter
	// migrated counts imported accounts given a password here, by how:
	// b2c_password (checked by B2C at the first sign-in) or new_password.
	migrated *prometheus.CounterVec
	// codeLocks counts factors locked by too many wrong codes, by channel.
	codeLocks *prometheus.CounterVec
}

// sendBudgets are the budget label values of checkSendBudget's refusals.
var sendBudgets = []string{"enrol_numbers", "enrol_sends", "recipient_hour", "recipient_day", "client_hour"}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "idp_journeys_started_total", Help: "Sign-in journeys started from a form app.",
		}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_journeys_completed_total", Help: "Journeys completed, by kind (sign_in, sign_up, forgot_password, change_phone) and what was proven (amr).",
		}, []string{"kind", "amr"}),
		passwords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_password_checks_total", Help: "Password checks at sign-in, by result (ok, wrong, locked, throttled; for imported accounts unavailable, new_password).",
		}, []string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_sends_refused_total", Help: "Codes and calls refused by the durable send budgets, by budget (recipient_hour, recipient_day, client_hour, enrol_numbers, enrol_sends).",
		}, []string{"budget"}),
		created: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "idp_accounts_created_total", Help: "Accounts created at 'Create'.",
		}),
		migrated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_accounts_migrated_total", Help: "Imported accounts given a password here, by how: b2c_password (checked by Azure AD B2C at the first sign-in) or new_password (set anew).",
		}, []string{"how"}),
		codeLocks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idp_code_locks_total", Help: "Email addresses, numbers or accounts whose codes (email, sms) were locked by too many wrong codes.",
		}, []string{"channel"}),
	}
	// The results and channels alerts watch exist at zero from the start, so that
	// increase() sees the first lockout.
	for _, r := range []journey.PasswordResult{journey.PasswordOK, journey.PasswordWrong, journey.PasswordLocked, journey.PasswordThrottled} {
		m.passwords.WithLabelValues(string(r))
	}
	for _, ch := range []string{"email", "sms"} {
		m.codeLocks.WithLabelValues(ch)
	}
	for _, budget := range sendBudgets {
		m.refused.WithLabelValues(budget)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.started, m.completed, m.passwords, m.refused, m.created, m.migrated, m.codeLocks} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) complete(kind journey.Kind, amr []string) {
	m.completed.WithLabelValues(string(kind), strings.Join(amr, "+")).Inc()
}

func (m *metrics) password(r journey.PasswordResult) {
	m.passwords.WithLabelValues(string(r)).Inc()
}
