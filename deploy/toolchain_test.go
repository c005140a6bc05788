package deploy_test

import (
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestToolchainPinned checks that every place that builds or tests names the Go toolchain
// of go.mod's go line, and that this test itself was built by it: the machines start on
// an older Go with GOTOOLCHAIN=local, so a script that forgot the export would fail there
// (or, on a machine with a newer Go, quietly build with another one).
func TestToolchainPinned(t *testing.T) {
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+\.\d+)$`).FindStringSubmatch(read("../go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line naming a release (go X.Y.Z)")
	}
	toolchain := "go" + m[1]

	for path, want := range map[string]string{
		"../Makefile":      "\nexport GOTOOLCHAIN := " + toolchain + "\n",
		"../.ci/run":       "\nexport GOTOOLCHAIN=" + toolchain + "\n",
		"../.ci/test":      "\nexport GOTOOLCHAIN=" + toolchain + "\n",
		"../.ci/bench":     "\nexport GOTOOLCHAIN=" + toolchain + "\n",
		"../.ci/vulncheck": "\nexport GOTOOLCHAIN=" + toolchain + "\n",
		"../Dockerfile":    "\nENV GOTOOLCHAIN=" + toolchain + "\n",
		"../README.md":     "```sh\nexport GOTOOLCHAIN=" + toolchain + "\ngo run ./cmd/idp\n```",
		"README.md":        "export GOTOOLCHAIN=" + toolchain + "\n",
	} {
		if !strings.Contains(read(path), want) {
			t.Errorf("%s lacks %q (go.mod says go %s)", path, strings.TrimSpace(want), m[1])
		}
	}

	// make test and .ci/test export it, and `go test` builds with it.
	if v := strings.Fields(runtime.Version())[0]; v != toolchain {
		t.Errorf("this test was built by %s, not by %s: GOTOOLCHAIN did not reach go test", v, toolchain)
	}
}
