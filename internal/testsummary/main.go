package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Output     string
}

// tally counts results; it is also the -tally file's format.
type tally struct {
	Passed, Failed, Skipped int
	FailedPackages          int
}

func main() {
	verbose := flag.Bool("v", false, "pass every line of output through, as go test -v")
	file := flag.String("tally", "", "add the counts to this file's and write them back; the last line counts them all")
	flag.Parse()

	var t tally
	if *file != "" {
		if b, err := os.ReadFile(*file); err == nil {
			if err := json.Unmarshal(b, &t); err != nil {
				fmt.Fprintf(os.Stderr, "testsummary: %s: %v\n", *file, err)
				os.Exit(2)
			}
		}
	}
	failed, err := summarise(os.Stdin, os.Stdout, *verbose, &t)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
		os.Exit(2)
	}
	if *file != "" {
		b, _ := json.Marshal(t)
		if err := os.WriteFile(*file, b, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "testsummary: %v\n", err)
			os.Exit(2)
		}
	}
	fmt.Println(t.line())
	if failed {
		os.Exit(1)
	}
}

func (t tally) line() string {
	s := fmt.Sprintf("tests: %d passed, %d failed, %d skipped", t.Passed, t.Failed, t.Skipped)
	if t.FailedPackages > 0 {
		s += fmt.Sprintf("; %d packages failed", t.FailedPackages)
	}
	return s
}

// summarise copies the run from r to w as go test writes it and counts its
// results into t. It reports whether anything failed.
func summarise(r io.Reader, w io.Writer, verbose bool, t *tally) (failed bool, err error) {
	out := bufio.NewWriter(w)
	defer out.Flush()
	// held is each running test's output, shown only if it fails (as go test
	// without -v shows it).
	held := map[string][]string{}
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		line := in.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go vet or a crashed binary writing directly): keep it.
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			out.WriteString(e.Output)
		case "build-fail":
			failed = true
		case "output":
			switch {
			case verbose:
				out.WriteString(e.Output)
			case e.Test != "":
				held[key] = append(held[key], e.Output)
			case e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== "):
				out.WriteString(e.Output) // "ok", "FAIL" and the package's own lines
			}
		case "pass", "fail", "skip":
			lines := held[key]
			delete(held, key)
			if e.Test == "" {
				if e.Action == "fail" {
					failed = true
					t.FailedPackages++
				}
				continue
			}
			switch e.Action {
			case "pass":
				t.Passed++
			case "skip", "fail":
				if e.Action == "skip" {
					t.Skipped++
				} else {
					t.Failed++
					failed = true
				}
				// A skip is shown with its reason too: with every service
				// provided, nothing should skip unseen.
				if !verbose {
					for _, l := range lines {
						if !strings.HasPrefix(l, "=== ") {
							out.WriteString(l)
						}
					}
				}
			}
		}
	}
	return failed, in.Err()
}
