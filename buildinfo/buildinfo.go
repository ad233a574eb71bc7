package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped at build time by scripts/build.sh:
//
//	go build -ldflags "-X github.com/sonic-go/portsyncd/buildinfo.version=1.2.3 ..."
//
// Empty in a plain "go build" or "go test": Get then falls back on the
// build information Go records (module version, VCS revision and time).
var (
	version string // git describe, or the VERSION file
	commit  string // full commit hash, "-dirty" appended when the tree had changes
	date    string // the commit's date, RFC 3339 UTC
)

// Info describes one build.
type Info struct {
	// Version is the release ("1.2.0", "1.2.0-3-gabc1234"); "(devel)" or
	// "unknown" for a build that was not stamped.
	Version string
	// Commit is the VCS revision, "" when unknown.
	Commit string
	// Date is when the commit was made (RFC 3339), "" when unknown.
	Date string
	// GoVersion is the Go toolchain that built the binary ("go1.26.8").
	GoVersion string
}

// Get returns the running binary's build information: what scripts/build.sh
// stamped in, else what the Go toolchain recorded.
func Get() Info {
	return resolve(version, commit, date, readBuildInfo)
}

func readBuildInfo() (*debug.BuildInfo, bool) { return debug.ReadBuildInfo() }

// resolve fills in what was not stamped from the toolchain's record.
func resolve(v, c, d string, read func() (*debug.BuildInfo, bool)) Info {
	info := Info{Version: v, Commit: c, Date: d, GoVersion: runtime.Version()}
	if bi, ok := read(); ok {
		modified := false
		rev, when := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" && modified {
			rev += "-dirty"
		}
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			info.Commit = rev
		}
		if info.Date == "" {
			info.Date = when
		}
	}
	if info.Version == "" {
		info.Version = "unknown"
	}
	return info
}

// String is what portsyncd --version prints: one line,
// "portsyncd VERSION (commit COMMIT, built DATE, GOVERSION)", leaving out
// what is unknown.
func (i Info) String() string {
	var parts []string
	if i.Commit != "" {
		parts = append(parts, "commit "+i.Commit)
	}
	if i.Date != "" {
		parts = append(parts, "built "+i.Date)
	}
	parts = append(parts, i.GoVersion)
	return "portsyncd " + i.Version + " (" + strings.Join(parts, ", ") + ")"
}
