package app_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The monitoring files in deploy/monitoring, as Prometheus and Grafana read them.
const (
	alertsFile    = "../../deploy/monitoring/alerts.yaml"
	dashboardFile = "../../deploy/monitoring/grafana-dashboard.json"
	runbookFile   = "../../deploy/RUNBOOK.md"
)

type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		GridPos *struct {
			H, W, X, Y int
		} `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// scrapedFamilies reads a Prometheus text exposition: every sample's metric name
// (histograms as name_bucket, name_sum, name_count) with the label names it carries.
func scrapedFamilies(t *testing.T, exposition string) map[string][]string {
	t.Helper()
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? `)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)
	families := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(exposition))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := sample.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		names := families[m[1]]
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			if !slices.Contains(names, l[1]) {
				names = append(names, l[1])
			}
		}
		families[m[1]] = names
	}
	return families
}

// selectorRe finds the idp's metric selectors in a PromQL expression: a name and
// its label matchers, if any.
var (
	selectorRe = regexp.MustCompile(`\b(idp_[a-zA-Z0-9_]+)\b(\{[^}]*\})?`)
	matcherRe  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"`)
)

// checkExpr fails t unless every metric expr selects is in the scrape, with the
// labels it matches on, and returns those metric names.
func checkExpr(t *testing.T, where, expr string, families map[string][]string) []string {
	t.Helper()
	var used []string
	for _, m := range selectorRe.FindAllStringSubmatch(expr, -1) {
		name := m[1]
		used = append(used, name)
		labels, ok := families[name]
		if !ok {
			t.Errorf("%s: metric %s is not served by the idp (renamed or removed?)\n  expr: %s", where, name, expr)
			continue
		}
		for _, mm := range matcherRe.FindAllStringSubmatch(m[2], -1) {
			if !slices.Contains(labels, mm[1]) {
				t.Errorf("%s: %s has no label %q (it has %q)", where, name, mm[1], labels)
			}
		}
	}
	if len(used) == 0 {
		t.Errorf("%s: expression names no idp metric: %s", where, expr)
	}
	return used
}

// runbookAnchors are the GitHub anchors of the runbook's headings.
func runbookAnchors(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	var anchors []string
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			anchors = append(anchors, strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-"))
		}
	}
	return anchors
}

// Issue 18 item 5: the alert rules and the Grafana dashboard in deploy/monitoring
// parse as Prometheus and Grafana read them, and every metric (and label) they
// query is in the running idp's /metrics, so renaming a metric fails here rather
// than silently blanking a panel or an alert. Each alert links to a section of
// the runbook that exists, and the dashboard graphs everything an alert watches.
func TestMonitoringQueriesServedMetrics(t *testing.T) {
	d := startIdP(t, embedded, nil)
	b := d.browser()
	signUp(d, b, newPerson(t, true)) // journeys, messages, password hashes
	families := scrapedFamilies(t, d.metrics())

	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	anchors := runbookAnchors(t)
	var alerted []string
	seen := map[string]bool{}
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("%s: a group without a name or rules", alertsFile)
		}
		for _, r := range g.Rules {
			where := alertsFile + ": " + r.Alert
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("%s: rule without a name, or a name used twice", where)
			}
			seen[r.Alert] = true
			alerted = append(alerted, checkExpr(t, where, r.Expr, families)...)
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", where, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", where, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", where)
			}
			_, anchor, ok := strings.Cut(r.Annotations["runbook_url"], "/deploy/RUNBOOK.md#")
			if !ok || !slices.Contains(anchors, anchor) {
				t.Errorf("%s: runbook_url %q is not a section of deploy/RUNBOOK.md", where, r.Annotations["runbook_url"])
			}
		}
	}
	for _, topic := range []string{
		"idp_http_requests_total", "idp_journeys_completed_total", "idp_send_share_count",
		"idp_send_ceiling_refused_total", "idp_password_checks_total", "idp_refresh_reuse_total",
		"idp_outbox_retries_total", "idp_messages_failed_total", "idp_outbox_jobs_total",
	} {
		if !slices.Contains(alerted, topic) {
			t.Errorf("no alert watches %s", topic)
		}
	}

	raw, err = os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash dashboard
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.Title == "" || dash.UID == "" {
		t.Errorf("%s: want a title and a uid", dashboardFile)
	}
	var graphed []string
	ids := map[int]bool{}
	for _, p := range dash.Panels {
		where := filepath.Base(dashboardFile) + ": panel " + p.Title
		if p.Title == "" || p.GridPos == nil || ids[p.ID] {
			t.Errorf("%s: want a title, a gridPos and an id of its own (id %d)", where, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, q := range p.Targets {
			if q.RefID == "" {
				t.Errorf("%s: a query without a refId", where)
			}
			graphed = append(graphed, checkExpr(t, where, q.Expr, families)...)
		}
	}
	for _, m := range alerted {
		if !slices.Contains(graphed, m) {
			t.Errorf("an alert watches %s but no dashboard panel shows it", m)
		}
	}
}
