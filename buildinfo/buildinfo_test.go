package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolve(t *testing.T) {
	recorded := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.time", Value: "2026-01-25T09:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		}}, true
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	gov := runtime.Version()
	tests := []struct {
		name             string
		version, c, date string
		read             func() (*debug.BuildInfo, bool)
		want             Info
		wantString       string
	}{
		{"stamped wins", "1.2.0", "def456", "2026-02-01T00:00:00Z", recorded,
			Info{"1.2.0", "def456", "2026-02-01T00:00:00Z", gov},
			"portsyncd 1.2.0 (commit def456, built 2026-02-01T00:00:00Z, " + gov + ")"},
		{"toolchain's record", "", "", "", recorded,
			Info{"(devel)", "abc123-dirty", "2026-01-25T09:00:00Z", gov},
			"portsyncd (devel) (commit abc123-dirty, built 2026-01-25T09:00:00Z, " + gov + ")"},
		{"nothing known", "", "", "", none, Info{"unknown", "", "", gov}, "portsyncd unknown (" + gov + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.version, tt.c, tt.date, tt.read)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolve (-want +got):\n%s", diff)
			}
			if s := got.String(); s != tt.wantString {
				t.Errorf("String() = %q, want %q", s, tt.wantString)
			}
		})
	}
}
