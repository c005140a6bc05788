package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A run of a package with a passing, a failing and a skipped test (and subtests)
// reads as go test writes it, and ends counted.
func TestSummariseRealRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.test/sample\n\ngo 1.24\n")
	write("sample_test.go", `package sample

import "testing"

func TestPasses(t *testing.T) { t.Log("quiet when it passes") }

func TestFails(t *testing.T) {
	t.Run("inner", func(t *testing.T) { t.Error("the reason it failed") })
	t.Run("fine", func(t *testing.T) {})
}

func TestSkipped(t *testing.T) { t.Skip("not here") }
`)
	cmd := exec.Command("go", "test", "-json", "-count=1", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	run, _ := cmd.Output() // exit status 1: a test fails
	var out strings.Builder
	var got tally
	failed, err := summarise(strings.NewReader(string(run)), &out, false, &got)
	if err != nil {
		t.Fatal(err)
	}
	want := tally{Passed: 2, Failed: 2, Skipped: 1, FailedPackages: 1}
	if !failed || got != want {
		t.Errorf("failed %v, counts %+v; want true, %+v", failed, got, want)
	}
	text := out.String()
	for _, s := range []string{"--- FAIL: TestFails/inner", "the reason it failed", "FAIL\texample.test/sample", "--- SKIP: TestSkipped", "not here"} {
		if !strings.Contains(text, s) {
			t.Errorf("output lacks %q:\n%s", s, text)
		}
	}
	for _, s := range []string{"quiet when it passes", "=== RUN", "--- PASS"} {
		if strings.Contains(text, s) {
			t.Errorf("output has %q, which go test without -v leaves out:\n%s", s, text)
		}
	}
	if line := got.line(); line != "tests: 2 passed, 2 failed, 1 skipped; 1 packages failed" {
		t.Errorf("line %q", line)
	}
}

// A build failure is shown and fails the run.
func TestSummariseBuildFailure(t *testing.T) {
	run := `{"ImportPath":"x/broken","Action":"build-output","Output":"# x/broken\n"}
{"ImportPath":"x/broken","Action":"build-output","Output":"./a.go:3:1: syntax error\n"}
{"ImportPath":"x/broken","Action":"build-fail"}
{"Action":"start","Package":"x/broken"}
{"Action":"output","Package":"x/broken","Output":"FAIL\tx/broken [build failed]\n"}
{"Action":"fail","Package":"x/broken","Elapsed":0}
`
	var out strings.Builder
	var got tally
	failed, err := summarise(strings.NewReader(run), &out, false, &got)
	if err != nil || !failed || got.FailedPackages != 1 {
		t.Fatalf("failed %v err %v counts %+v", failed, err, got)
	}
	if !strings.Contains(out.String(), "syntax error") || !strings.Contains(out.String(), "[build failed]") {
		t.Errorf("output:\n%s", out.String())
	}
}
