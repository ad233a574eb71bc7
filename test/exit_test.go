package test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Exit statuses of the daemon, as cmd/portsyncd/exit.go defines them (a
// test cannot import package main): sysexits' EX_USAGE and EX_CONFIG, so
// that no configuration error looks like a Go panic's 2.
const (
	exitUsage  = 64
	exitConfig = 78
)

// The built binary, as systemd and a shell see it: --version and --help on
// stdout with status 0 (so "portsyncd --version | head" shows it), a usage
// error on stderr with 64, a configuration error with 78; never 2, which is
// what a Go panic exits with.
func TestExitStatuses(t *testing.T) {
	bin := harness.BuildDaemon(t)
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // prefix
		wantStderr string // substring; "" for none at all
	}{
		{"version", []string{"--version"}, 0, "portsyncd ", ""},
		{"help", []string{"--help"}, 0, "Usage: portsyncd [flags]", ""},
		{"unknown flag", []string{"--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{"bad value", []string{"--max-restarts", "-1"}, exitUsage, "", "--max-restarts -1"},
		{"missing database config", []string{"--db-config", missing}, exitConfig, "", missing},
		{"status, missing database config", []string{"status", "--db-config", missing}, exitConfig, "", missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := harness.Run(t, nil, bin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d; stderr %q", code, tt.wantCode, stderr)
			}
			if !strings.HasPrefix(stdout, tt.wantStdout) || (tt.wantStdout == "" && stdout != "") {
				t.Errorf("stdout %q, want it to start %q", stdout, tt.wantStdout)
			}
			if (tt.wantStderr == "" && stderr != "") || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
		})
	}
}
