package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Everything wrong before Redis is reached stops at once with one line on
// stderr: ExitUsage for the command line, ExitConfig for the file it names.
func TestStatusBadConfig(t *testing.T) {
	dir := t.TempDir()
	noState := filepath.Join(dir, "no_state.json")
	err := os.WriteFile(noState, []byte(`{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379}},
		"DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
		              "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"}}}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"missing file", []string{"--db-config", filepath.Join(dir, "nope.json")}, ExitConfig, "nope.json"},
		{"no STATE_DB", []string{"--db-config", noState}, ExitConfig, "STATE_DB"},
		{"unknown flag", []string{"--colour"}, ExitUsage, "colour"},
		{"stray argument", []string{"--db-config", noState, "Ethernet0"}, ExitUsage, "Ethernet0"},
		{"bad interval", []string{"--watch", "--interval", "0s"}, ExitUsage, "interval"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := runStatus(tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Errorf("exit status %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tt.wantStderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// A Redis that cannot be reached is neither agreement nor a difference.
func TestStatusRedisUnreachable(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "database_config.json")
	err := os.WriteFile(cfg, []byte(`{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379,
		"unix_socket_path": "`+filepath.Join(dir, "nobody.sock")+`"}},
		"DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
		              "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"},
		              "STATE_DB": {"id": 6, "separator": "|", "instance": "redis"}}}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := runStatus([]string{"--db-config", cfg}, &stdout, &stderr); code != exitStatusUnread {
		t.Errorf("exit status %d, want %d; stderr %q", code, exitStatusUnread, stderr.String())
	}
	if !strings.Contains(stderr.String(), "nobody.sock") {
		t.Errorf("stderr %q does not name the socket", stderr.String())
	}
}
