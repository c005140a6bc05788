package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// recorder collects the latency of every operation of one scenario and its
// errors, safely from many goroutines.
type recorder struct {
	mu        sync.Mutex
	latencies []time.Duration
	errors    int
	messages  map[string]int // distinct error messages and how often each occurred
}

func newRecorder() *recorder { return &recorder{messages: map[string]int{}} }

func (r *recorder) record(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errors++
		if len(r.messages) < 20 || r.messages[err.Error()] > 0 {
			r.messages[err.Error()]++
		}
		return
	}
	r.latencies = append(r.latencies, d)
}

// result is a scenario's outcome.
type result struct {
	name     string
	ops      int // successful operations
	errors   int
	messages map[string]int
	wall     time.Duration // how long the scenario ran
	p50, p95 time.Duration
	p99, max time.Duration
	mean     time.Duration
	usage    cpuUsage // CPU used while it ran (zero when not measured)
	note     string
}

func (r *recorder) result(name string, wall time.Duration) result {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := slices.Clone(r.latencies)
	slices.Sort(l)
	res := result{name: name, ops: len(l), errors: r.errors, wall: wall, messages: map[string]int{}}
	for k, v := range r.messages {
		res.messages[k] = v
	}
	if len(l) > 0 {
		res.p50, res.p95, res.p99, res.max = quantile(l, 0.50), quantile(l, 0.95), quantile(l, 0.99), l[len(l)-1]
		var sum time.Duration
		for _, d := range l {
			sum += d
		}
		res.mean = sum / time.Duration(len(l))
	}
	return res
}

// quantile of sorted latencies, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// rate is successful operations per second of wall time.
func (r result) rate() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.ops) / r.wall.Seconds()
}

func printResults(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tops\terrors\tops/s\tp50\tp95\tp99\tmax\tserver CPU/op\tdriver CPU/op\tmachine busy\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.ops, r.errors, r.rate(),
			ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max),
			r.usage.perOp(r.usage.server, r.ops), r.usage.perOp(r.usage.driver, r.ops), r.usage.busy())
	}
	tw.Flush()
	for _, r := range results {
		if r.note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.name, r.note)
		}
	}
	for _, r := range results {
		keys := make([]string, 0, len(r.messages))
		for k := range r.messages {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  error in %s (%d×): %s\n", r.name, r.messages[k], oneLine(k))
		}
	}
}

// printMarkdown writes the results as a Markdown table, for BENCHMARKS.md.
func printMarkdown(w io.Writer, results []result) {
	fmt.Fprintln(w, "| scenario | ops | errors | ops/s | p50 | p95 | p99 | server CPU/op | driver CPU/op | machine busy |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s | %s | %s | %s | %s | %s |\n", r.name, r.ops, r.errors, r.rate(),
			ms(r.p50), ms(r.p95), ms(r.p99), r.usage.perOp(r.usage.server, r.ops), r.usage.perOp(r.usage.driver, r.ops), r.usage.busy())
	}
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
