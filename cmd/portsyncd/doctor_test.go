package main

import (
	"strings"
	"testing"
)

// A usage error of doctor is one line on stderr and ExitUsage, before any
// check runs; --help is the usage on stdout.
func TestDoctorUsage(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"extra"}, `portsyncd doctor: unexpected argument "extra"`},
		{[]string{"--netlink-rcvbuf", "-1"}, "portsyncd doctor: --netlink-rcvbuf -1: want 0"},
		{[]string{"--timeout", "0s"}, "portsyncd doctor: --timeout 0s: want a duration above 0"},
		{[]string{"--namespace", "../etc"}, `portsyncd doctor: invalid value "../etc" for flag -namespace`},
		{[]string{"--namespace", ""}, `portsyncd doctor: invalid value "" for flag -namespace`},
		{[]string{"--no-such"}, "portsyncd doctor: flag provided but not defined: -no-such"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := runDoctor(tt.args, &stdout, &stderr); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if s := stderr.String(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, tt.wantErr) {
				t.Errorf("stderr %q: want one line starting %q", s, tt.wantErr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
	var stdout, stderr strings.Builder
	if code := runDoctor([]string{"--help"}, &stdout, &stderr); code != ExitOK || !strings.HasPrefix(stdout.String(), "Usage: portsyncd doctor [flags]") {
		t.Errorf("--help: exit %d, stdout %q", code, stdout.String())
	}
}
