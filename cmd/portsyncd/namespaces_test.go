package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeGlobal lays out a database_global.json whose namespaces each have a
// database_config.json (missing names an include that is not there) and
// returns its path.
func writeGlobal(t *testing.T, namespaces []string, missing string) string {
	t.Helper()
	dir := t.TempDir()
	includes := []string{`{"include": "database_config.json"}`}
	for _, ns := range namespaces {
		rel := ns + "/database_config.json"
		includes = append(includes, `{"namespace": "`+ns+`", "include": "`+rel+`"}`)
		if ns == missing {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, ns), 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := `{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": "` + filepath.Join(dir, ns, "redis.sock") + `"}},
			"DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
			              "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
			              "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}}}`
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "database_global.json")
	if err := os.WriteFile(path, []byte(`{"INCLUDES": [`+strings.Join(includes, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Issue 19: a namespace that is not in the global file, an include that is
// missing, a namespace with no network namespace: one line naming it,
// ExitConfig, for the daemon and for status alike; --db-config with
// --namespace is a usage error.
func TestNamespaceConfigErrors(t *testing.T) {
	global := writeGlobal(t, []string{"asic0", "psd-no-such-netns"}, "asic0")
	for _, tt := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string
	}{
		{"unknown", []string{"--namespace", "asic9"}, ExitConfig, []string{`namespace "asic9" not defined`, global}},
		{"missing global", []string{"-n", "asic0", "--db-global-config", global + ".nope"}, ExitConfig, []string{"--db-global-config", ".nope"}},
		{"missing include", []string{"-n", "asic0"}, ExitConfig, []string{`namespace "asic0"`, "asic0/database_config.json"}},
		{"no netns", []string{"-n", "psd-no-such-netns"}, ExitConfig, []string{`namespace "psd-no-such-netns"`, "no network namespace"}},
		{"all includes the broken", []string{"-n", "all"}, ExitConfig, []string{`namespace "asic0"`}},
		{"with --db-config", []string{"-n", "psd-no-such-netns", "--db-config", global}, ExitUsage, []string{"--db-config and --namespace"}},
		{"empty name", []string{"--namespace", ""}, ExitUsage, []string{"empty namespace name"}},
	} {
		for cmd, runIt := range map[string]func([]string, *strings.Builder, *strings.Builder) int{
			"daemon": func(a []string, o, e *strings.Builder) int { return run(a, o, e) },
			"status": func(a []string, o, e *strings.Builder) int { return runStatus(a, o, e) },
		} {
			t.Run(cmd+"/"+tt.name, func(t *testing.T) {
				args := append([]string{"--db-global-config", global}, tt.args...)
				if cmd == "daemon" {
					args = append(args, "--log-output", "stderr", "--metrics-addr", "")
				}
				var stdout, stderr strings.Builder
				if code := runIt(args, &stdout, &stderr); code != tt.wantCode {
					t.Errorf("exit status %d, want %d; stderr %q", code, tt.wantCode, stderr.String())
				}
				for _, w := range tt.wantStderr {
					if !strings.Contains(stderr.String(), w) {
						t.Errorf("stderr %q does not mention %q", stderr.String(), w)
					}
				}
				if n := strings.Count(strings.TrimSpace(stderr.String()), "\n"); n != 0 {
					t.Errorf("stderr has %d lines, want one:\n%s", n+1, stderr.String())
				}
			})
		}
	}
}

// A file under /run/netns that is no network namespace (left over, or
// not mounted) is refused.
func TestOpenNetnsNotANamespace(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "asic0"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := openNetns(dir, "asic0"); err == nil || !strings.Contains(err.Error(), "not a network namespace") {
		t.Errorf("openNetns on a plain file: %v, want not a network namespace", err)
		if f != nil {
			f.Close()
		}
	}
}
