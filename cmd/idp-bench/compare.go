package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
)

// peerScenarios are the scenarios a peer runs too; the others need the
// idp's own pages (sign-up, SMS codes, the dev inbox).
var peerScenarios = []string{"discovery", "jwks", "code", "refresh", "userinfo"}

// peerReport is what one peer's run measured.
type peerReport struct {
	name, title string
	backend     string // what the peer stores data in
	note        string // what else differs from the idp
	skipped     string // why the peer was not measured; empty when it was
	results     []result
}

// runPeer installs and starts p in a temporary directory (removed
// afterwards), runs the selected scenarios it shares with the idp against it
// with the settings of d, the idp's driver, and stops it. A peer that cannot
// be installed or started is reported as not measured, not as an error; one
// that starts but cannot be signed in to is an error.
func runPeer(ctx context.Context, d *driver, p peer, o options, want func(string) bool) (peerReport, error) {
	pr := peerReport{name: p.name, title: p.title(), note: p.note}
	if !slices.ContainsFunc(peerScenarios, want) {
		pr.skipped = "none of its scenarios (" + strings.Join(peerScenarios, ", ") + ") was selected"
		return pr, nil
	}
	fmt.Fprintf(d.out, "peer: %s, same scenarios and settings...\n", pr.title)
	dir, err := os.MkdirTemp("", "idp-bench-peer-")
	if err != nil {
		return pr, err
	}
	defer os.RemoveAll(dir)
	pt, err := p.start(ctx, o, dir, d.out)
	if err != nil {
		pr.skipped = err.Error()
		fmt.Fprintf(d.out, "  peer not measured: %s\n", oneLine(pr.skipped))
		return pr, nil
	}
	defer func() {
		if err := pt.stop(); err != nil {
			fmt.Fprintf(d.out, "  stopping the peer: %v\n", err)
		}
	}()
	pr.backend = pt.backend
	pd := &driver{
		t: pt, transport: d.transport, client: d.client, redirectURI: d.redirectURI,
		workers: d.workers, duration: d.duration, iterations: d.iterations, rate: d.rate,
		run: d.run, steps: map[string]*recorder{}, out: d.out,
		authzName: p.authzName,
		login:     func(ctx context.Context, b *browser) error { return p.login(ctx, pt, b) },
	}
	defer pd.closePeople()
	pd.rp, err = newRelyingParty(ctx, d.client, pt.issuer, p.clientID, d.redirectURI)
	if err != nil {
		return pr, fmt.Errorf("relying party: %w", err)
	}
	if want("discovery") {
		pr.results = append(pr.results, pd.scenario(ctx, "discovery", pd.fetch(discoveryURL(pt.issuer), checkDiscovery(pt.issuer))))
	}
	if want("jwks") {
		pr.results = append(pr.results, pd.scenario(ctx, "JWKS", pd.fetch(pd.rp.meta.JWKSURI, checkJWKS)))
	}
	if want("code") || want("refresh") || want("userinfo") {
		setup, err := pd.signInWorkers(ctx)
		printProgress(d.out, setup)
		pr.results = append(pr.results, setup)
		if err != nil {
			return pr, err
		}
		pr.results = append(pr.results, pd.tokenScenarios(ctx, want, o.codeBatch)...)
	}
	return pr, nil
}

// printPeer writes the side-by-side table of one peer: each scenario both
// ran, the idp's and the peer's throughput, their ratio, p99 and server CPU
// per operation; then the peer's own full table.
func (r *report) printPeer(w io.Writer, p peerReport) {
	fmt.Fprintf(w, "\nside by side with %s", p.title)
	if p.skipped != "" {
		fmt.Fprintf(w, ": peer not measured: %s\n", oneLine(p.skipped))
		return
	}
	fmt.Fprintln(w, ": same workers, duration and code batches, run right after the idp's scenarios; ratio = idp ops/s ÷ peer ops/s")
	fmt.Fprintf(w, "  what differs: the idp stores in %s, the peer %s; %s\n", r.backend, p.backend, p.note)
	type row struct{ idp, peer result }
	var rows []row
	for _, pres := range p.results {
		for _, ires := range r.results {
			if ires.name == pres.name {
				rows = append(rows, row{ires, pres})
			}
		}
	}
	ratio := func(x row) string {
		if x.peer.rate() <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", x.idp.rate()/x.peer.rate())
	}
	cpu := func(res result) string { return res.usage.perOp(res.usage.server, res.ops) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tidp ops/s\tpeer ops/s\tratio\tidp p99\tpeer p99\tidp CPU/op\tpeer CPU/op\t")
	for _, x := range rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", x.idp.name, x.idp.rate(), x.peer.rate(), ratio(x),
			ms(x.idp.p99), ms(x.peer.p99), cpu(x.idp), cpu(x.peer))
	}
	tw.Flush()
	if r.markdown {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| scenario | idp ops/s | peer ops/s | ratio | idp p99 | peer p99 | idp CPU/op | peer CPU/op |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
		for _, x := range rows {
			fmt.Fprintf(w, "| %s | %.1f | %.1f | %s | %s | %s | %s | %s |\n", x.idp.name, x.idp.rate(), x.peer.rate(), ratio(x),
				ms(x.idp.p99), ms(x.peer.p99), cpu(x.idp), cpu(x.peer))
		}
	}
	fmt.Fprintf(w, "\n%s, every scenario it ran:\n", p.title)
	printResults(w, p.results)
	if r.markdown {
		fmt.Fprintln(w)
		printMarkdown(w, p.results)
	}
}
