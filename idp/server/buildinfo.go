package server

import (
	"runtime"
	"runtime/debug"
)

// BuildInfo is what the running binary says about itself: `idp version` prints it
// and the idp_build_info gauge carries it, so a dashboard shows which version each
// replica runs during a rollout.
type BuildInfo struct {
	// Version is the main module's version as the go command stamped it: the git
	// tag, a pseudo-version (v0.0.0-20261202160847-bd25cd4abcde) for an untagged
	// commit, or "(devel)" when built without version control information (a
	// `go run`, a test, or a Docker build whose context left out .git).
	Version string
	// Revision is the commit (vcs.revision), "" when unknown.
	Revision string
	// GoVersion is the toolchain that built the binary (go1.27.3).
	GoVersion string
}

// Build reads the binary's build information.
func Build() BuildInfo {
	b := BuildInfo{Version: "(devel)", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				b.Revision = s.Value
			}
		}
	}
	return b
}
