package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// installedPath is where the unit expects the binary.
const installedPath = "/usr/bin/portsyncd"

// commentedDirective matches a commented-out option such as "#Nice=-10",
// as opposed to prose comments ("# ...").
var commentedDirective = regexp.MustCompile(`^#[A-Z][A-Za-z]+=`)

// units are the shipped systemd units, and the unit name systemd-analyze
// verify is given for each (an instance, for the template).
var units = []struct{ file, verifyAs string }{
	{"portsyncd.service", "portsyncd.service"},
	{"portsyncd@.service", "portsyncd@0.service"},
}

// verifyUnit runs systemd-analyze verify on the unit at path (loaded as
// name, in the same directory) and reports everything it says about that
// file: verify exits 0 on unknown keys and bad values. man=false leaves out
// the check of Documentation=man: pages, for a unit whose page is not
// installed.
func verifyUnit(t *testing.T, path, name string, man bool) {
	t.Helper()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (scripts/test.sh installs the systemd package)")
	}
	args := []string{"verify"}
	if !man {
		args = append(args, "--man=no")
	}
	out, err := exec.Command(analyze, append(args, filepath.Join(filepath.Dir(path), name))...).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify %s: %v\n%s", name, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if strings.Contains(line, filepath.Base(path)) || strings.Contains(line, name) {
			t.Errorf("systemd-analyze verify: %s", strings.TrimSpace(line))
		} else if strings.TrimSpace(line) != "" {
			t.Logf("systemd-analyze verify (not about this unit): %s", strings.TrimSpace(line))
		}
	}
}

// Both units pass systemd's own checker with no complaint about them, as
// shipped and with every commented-out knob enabled, so that a typo in an
// option that is off by default is caught too. verify needs ExecStart to
// exist, so a copy points at a freshly built binary.
func TestUnitVerifies(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed (scripts/test.sh installs the systemd package)")
	}
	bin := harness.BuildDaemon(t)
	allKnobs := func(s string) string {
		var b strings.Builder
		for line := range strings.Lines(s) {
			switch {
			case commentedDirective.MatchString(line):
				line = line[1:]
			}
			b.WriteString(line)
		}
		return b.String()
	}
	for _, u := range units {
		unit, err := os.ReadFile(u.file)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(unit), "ExecStart="+installedPath+" ") {
			t.Fatalf("%s: no ExecStart=%s", u.file, installedPath)
		}
		for _, tt := range []struct {
			name string
			edit func(string) string
		}{
			{"as shipped", func(s string) string { return s }},
			{"every knob on", allKnobs},
		} {
			t.Run(u.file+"/"+tt.name, func(t *testing.T) {
				text := strings.ReplaceAll(tt.edit(string(unit)), installedPath, bin)
				path := filepath.Join(t.TempDir(), u.file)
				if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				verifyUnit(t, path, u.verifyAs, false)
			})
		}
	}
}

// The template unit runs with the same hardening as the main unit: its
// hardening section is the main one's, with only the per-instance paths
// changed, so a setting added to one cannot be forgotten in the other.
func TestTemplateHardeningMatchesMain(t *testing.T) {
	section := func(file string) []string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		start := strings.Index(s, "# --- Hardening")
		end := strings.Index(s, "# --- Performance knobs")
		if start < 0 {
			t.Fatalf("%s: no hardening section", file)
		}
		if end < 0 {
			end = strings.Index(s, "[Install]")
		}
		var lines []string
		for line := range strings.Lines(s[start:end]) {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				lines = append(lines, line)
			}
		}
		return lines
	}
	perInstance := strings.NewReplacer("/run/redis%i", "/run/redis", "portsyncd/%i", "portsyncd")
	main, tmpl := section("portsyncd.service"), section("portsyncd@.service")
	for i := range tmpl {
		tmpl[i] = perInstance.Replace(tmpl[i])
	}
	if diff := cmp.Diff(main, tmpl); diff != "" {
		t.Errorf("hardening (-portsyncd.service +portsyncd@.service):\n%s", diff)
	}
	if len(main) < 20 {
		t.Errorf("hardening section of %d settings; parsed wrong?", len(main))
	}
}

// The units' restart policy agrees with the daemon's exit statuses:
// configuration and usage errors are not restarted.
func TestUnitsDoNotRestartConfigErrors(t *testing.T) {
	for _, u := range units {
		b, err := os.ReadFile(u.file)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"\nRestart=on-failure\n", "\nRestartPreventExitStatus=64 78\n", "\nTimeoutStartSec=infinity\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s: no %q", u.file, strings.TrimSpace(want))
			}
		}
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

// The command lines shipped in the units and the supervisord block are ones
// the daemon accepts: run with the database config swapped for a missing
// file, each stops at that file (78, configuration) and not at a flag (64,
// usage).
func TestShippedCommandLinesParse(t *testing.T) {
	bin := harness.BuildDaemon(t)
	missing := filepath.Join(t.TempDir(), "missing.json")
	// What RuntimeDirectory= makes before the daemon starts.
	runtimeDir := t.TempDir()
	commands := map[string]string{}
	for _, u := range units {
		b, err := os.ReadFile(u.file)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if cmd, ok := strings.CutPrefix(line, "ExecStart="+installedPath+" "); ok {
				commands[u.file] = strings.ReplaceAll(strings.ReplaceAll(cmd, "/run/portsyncd/%i", runtimeDir), "%i", "0")
			}
		}
	}
	b, err := os.ReadFile("supervisord/portsyncd.conf")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if cmd, ok := strings.CutPrefix(line, "command="+installedPath+" "); ok {
			commands["supervisord"] = cmd
		}
	}
	if len(commands) != 3 {
		t.Fatalf("found %d command lines, want 3: %v", len(commands), commands)
	}
	for name, cmd := range commands {
		t.Run(name, func(t *testing.T) {
			args := strings.Fields(cmd)
			i := slices.Index(args, "--db-config")
			if i < 0 || i+1 >= len(args) {
				t.Fatalf("%q: no --db-config", cmd)
			}
			args[i+1] = missing
			_, stderr, code := harness.Run(t, nil, bin, args...)
			if code != 78 || !strings.Contains(stderr, missing) {
				t.Errorf("portsyncd %s: exit %d, stderr %q; want 78 naming %s", strings.Join(args, " "), code, stderr, missing)
			}
		})
	}
}
