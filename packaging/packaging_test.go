package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sonic-go/portsyncd/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// installedPath is where the unit expects the binary.
const installedPath = "/usr/bin/portsyncd"

// commentedDirective matches a commented-out option such as "#Nice=-10",
// as opposed to prose comments ("# ...").
var commentedDirective = regexp.MustCompile(`^#[A-Z][A-Za-z]+=`)

// The unit passes systemd's own checker with no complaint about it, both as
// shipped and with every commented-out knob enabled, so that a typo in an
// option that is off by default is caught too. verify needs ExecStart to
// exist, so a copy points at a freshly built binary.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (scripts/test.sh installs the systemd package)")
	}
	unit, err := os.ReadFile("portsyncd.service")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "ExecStart="+installedPath+" ") {
		t.Fatalf("portsyncd.service: no ExecStart=%s", installedPath)
	}
	bin := harness.BuildDaemon(t)

	allKnobs := func(s string) string {
		var b strings.Builder
		for line := range strings.Lines(s) {
			switch {
			case strings.HasPrefix(line, "RestrictRealtime="):
				continue // the unit says to remove it with CPUSchedulingPolicy=rr
			case commentedDirective.MatchString(line):
				line = line[1:]
			}
			b.WriteString(line)
		}
		return b.String()
	}
	for _, tt := range []struct {
		name string
		edit func(string) string
	}{
		{"as shipped", func(s string) string { return s }},
		{"every knob on", allKnobs},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.ReplaceAll(tt.edit(string(unit)), installedPath, bin)
			path := filepath.Join(t.TempDir(), "portsyncd.service")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", path).CombinedOutput()
			if err != nil {
				t.Errorf("systemd-analyze verify: %v", err)
			}
			// verify exits 0 on unknown keys and bad values: read what it says.
			for line := range strings.Lines(string(out)) {
				if strings.Contains(line, "portsyncd.service") {
					t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
				} else if strings.TrimSpace(line) != "" {
					t.Logf("systemd-analyze verify (not about this unit): %s", strings.TrimSpace(line))
				}
			}
		})
	}
}

// Every setting in the sysctl file names a key this kernel has (a misspelt
// or obsolete key is an error at boot, and a silent no-op), and each comes
// with a comment saying why.
func TestSysctlKeysExist(t *testing.T) {
	f, err := os.Open("sysctl.d/50-portsyncd.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var prev string
	settings := 0
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			key, value, ok := strings.Cut(line, "=")
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			if !ok || key == "" || value == "" {
				t.Errorf("line %d: %q is not key = value", n, line)
			} else if _, err := os.Stat(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))); err != nil {
				t.Errorf("line %d: %s: %v", n, key, err)
			}
			if !strings.HasPrefix(prev, "#") {
				t.Errorf("line %d: %s has no comment above it saying why", n, key)
			}
			settings++
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if settings == 0 {
		t.Errorf("no settings found")
	}
}
