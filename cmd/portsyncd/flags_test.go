package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestFlagValuesValidate(t *testing.T) {
	good := flagValues{RcvBuf: 16 << 20, MaxRestarts: 5, RestartWindow: time.Minute, MaxBackoff: 2 * time.Second,
		DumpDir: "/run/portsyncd", MetricsAddr: "127.0.0.1:9123", Recheck: 10 * time.Second}
	tests := []struct {
		name    string
		change  func(*flagValues)
		wantErr string // "" for valid
	}{
		{"defaults", func(*flagValues) {}, ""},
		{"rcvbuf 0 is the kernel default", func(f *flagValues) { f.RcvBuf = 0 }, ""},
		{"no restarts tolerated", func(f *flagValues) { f.MaxRestarts = 0 }, ""},
		{"backoff at the minimum", func(f *flagValues) { f.MaxBackoff = 10 * time.Millisecond }, ""},
		{"negative rcvbuf", func(f *flagValues) { f.RcvBuf = -1 }, "--netlink-rcvbuf -1: want 0 (kernel default) or a size in bytes up to 1073741824 (1 GiB)"},
		{"negative max restarts", func(f *flagValues) { f.MaxRestarts = -3 }, "--max-restarts -3: want 0 or more"},
		{"zero restart window", func(f *flagValues) { f.RestartWindow = 0 }, "--restart-window 0s: want a duration above 0"},
		{"negative restart window", func(f *flagValues) { f.RestartWindow = -time.Second }, "--restart-window -1s: want a duration above 0"},
		{"zero backoff", func(f *flagValues) { f.MaxBackoff = 0 }, "--redis-max-backoff 0s: want at least 10ms"},
		{"negative backoff", func(f *flagValues) { f.MaxBackoff = -time.Second }, "--redis-max-backoff -1s: want at least 10ms"},
		{"backoff below the minimum", func(f *flagValues) { f.MaxBackoff = time.Millisecond }, "--redis-max-backoff 1ms: want at least 10ms"},
		{"rcvbuf 1 GiB", func(f *flagValues) { f.RcvBuf = 1 << 30 }, ""},
		{"rcvbuf above 1 GiB", func(f *flagValues) { f.RcvBuf = 1<<30 + 1 },
			"--netlink-rcvbuf 1073741825: want 0 (kernel default) or a size in bytes up to 1073741824 (1 GiB)"},
		{"default dump dir not made yet", func(f *flagValues) { f.DumpDir = "/nonexistent/portsyncd" }, ""},
		{"given dump dir missing", func(f *flagValues) { f.DumpDir, f.DumpDirSet = "/nonexistent/portsyncd", true },
			"--dump-dir /nonexistent/portsyncd: no such directory"},
		{"dump dir is a file", func(f *flagValues) { f.DumpDir = "/etc/hostname" }, "--dump-dir /etc/hostname: not a directory"},
		{"metrics port 0 (any)", func(f *flagValues) { f.MetricsAddr = "127.0.0.1:0" }, ""},
		{"metrics port too big", func(f *flagValues) { f.MetricsAddr = "127.0.0.1:99999" },
			`--metrics-addr "127.0.0.1:99999": port "99999": want a number from 0 to 65535 (0: any free port) or a service name`},
		{"metrics port negative", func(f *flagValues) { f.MetricsAddr = "127.0.0.1:-1" },
			`--metrics-addr "127.0.0.1:-1": port "-1": want a number from 0 to 65535 (0: any free port) or a service name`},
		{"empty dump dir", func(f *flagValues) { f.DumpDir = "" }, "--dump-dir: want a directory"},
		{"zero recheck", func(f *flagValues) { f.Recheck = 0 }, "--port-table-recheck 0s: want a duration above 0"},
		{"metrics off", func(f *flagValues) { f.MetricsAddr = "" }, ""},
		{"metrics on every address", func(f *flagValues) { f.MetricsAddr = ":9123" }, ""},
		{"metrics address without a port", func(f *flagValues) { f.MetricsAddr = "127.0.0.1" },
			`--metrics-addr "127.0.0.1": want host:port (e.g. 127.0.0.1:9123), or empty for none`},
		{"metrics port empty", func(f *flagValues) { f.MetricsAddr = "127.0.0.1:" },
			`--metrics-addr "127.0.0.1:": want host:port (e.g. 127.0.0.1:9123), or empty for none`},
		{"positional argument", func(f *flagValues) { f.Args = []string{"Ethernet0"} }, `unexpected argument "Ethernet0": portsyncd takes flags only`},
		{"pprof on 127.0.0.1", func(f *flagValues) { f.Pprof = true }, ""},
		{"pprof on 127.0.0.2", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "127.0.0.2:9123" }, ""},
		{"pprof on ::1", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "[::1]:9123" }, ""},
		{"pprof on localhost", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "localhost:9123" }, ""},
		{"pprof on every address", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, ":9123" },
			`--pprof: --metrics-addr ":9123" is not a loopback address: profiles are served on loopback only (e.g. 127.0.0.1:9123)`},
		{"pprof on 0.0.0.0", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "0.0.0.0:9123" },
			`--pprof: --metrics-addr "0.0.0.0:9123" is not a loopback address: profiles are served on loopback only (e.g. 127.0.0.1:9123)`},
		{"pprof on a host address", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "10.0.0.1:9123" },
			`--pprof: --metrics-addr "10.0.0.1:9123" is not a loopback address: profiles are served on loopback only (e.g. 127.0.0.1:9123)`},
		{"pprof on a host name", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "switch1:9123" },
			`--pprof: --metrics-addr "switch1:9123" is not a loopback address: profiles are served on loopback only (e.g. 127.0.0.1:9123)`},
		{"pprof without metrics", func(f *flagValues) { f.Pprof, f.MetricsAddr = true, "" },
			`--pprof: needs --metrics-addr, a loopback address to serve the profiles on (e.g. 127.0.0.1:9123)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			tt.change(&f)
			err := f.validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("validate() = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

// Every bad flag value ends the process with one line on stderr, nothing on
// stdout, and ExitUsage: a status no crash produces.
func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--redis-max-backoff", "0"}, "portsyncd: --redis-max-backoff 0s: want at least 10ms"},
		{[]string{"--netlink-rcvbuf", "-5"}, "portsyncd: --netlink-rcvbuf -5"},
		{[]string{"--max-restarts", "-1"}, "portsyncd: --max-restarts -1"},
		{[]string{"--restart-window", "0s"}, "portsyncd: --restart-window 0s"},
		{[]string{"--netlink-rcvbuf", "99999999999999"}, "portsyncd: --netlink-rcvbuf 99999999999999"},
		{[]string{"--metrics-addr", "127.0.0.1:99999"}, `portsyncd: --metrics-addr "127.0.0.1:99999": port`},
		{[]string{"--dump-dir", "/etc/hostname"}, "portsyncd: --dump-dir /etc/hostname: not a directory"},
		{[]string{"--pprof", "--metrics-addr", "0.0.0.0:9123"}, `portsyncd: --pprof: --metrics-addr "0.0.0.0:9123" is not a loopback address`},
		{[]string{"--dump-dir", "/nonexistent/dumps"}, "portsyncd: --dump-dir /nonexistent/dumps: no such directory"},
		{[]string{"--gomaxprocs", "100000"}, "portsyncd: --gomaxprocs 100000: want 0 (one per CPU) to 256"},
		{[]string{"--metrics-addr", "nowhere"}, `portsyncd: --metrics-addr "nowhere"`},
		{[]string{"--port-table-recheck", "0s"}, "portsyncd: --port-table-recheck 0s"},
		{[]string{"extra"}, `portsyncd: unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, "portsyncd: flag provided but not defined: -no-such-flag (portsyncd --help lists the flags)"},
		{[]string{"--netlink-rcvbuf", "lots"}, `portsyncd: invalid value "lots" for flag -netlink-rcvbuf`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(tt.args, &stdout, &stderr)
			if code != ExitUsage {
				t.Errorf("exit status %d, want %d", code, ExitUsage)
			}
			if s := stderr.String(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, tt.wantErr) {
				t.Errorf("stderr %q: want one line starting %q", s, tt.wantErr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

// --help and --version answer on stdout and exit 0, so that
// "portsyncd --version | head" and "portsyncd --help | less" work; stderr
// stays empty.
func TestHelpAndVersionOnStdout(t *testing.T) {
	tests := []struct {
		name string
		run  func(stdout, stderr *strings.Builder) int
		want *regexp.Regexp
	}{
		{"--help", func(o, e *strings.Builder) int { return run([]string{"--help"}, o, e) },
			regexp.MustCompile(`(?s)^Usage: portsyncd \[flags\].*-db-config`)},
		{"-h", func(o, e *strings.Builder) int { return run([]string{"-h"}, o, e) },
			regexp.MustCompile(`(?s)^Usage: portsyncd \[flags\].*-log-output`)},
		{"--version", func(o, e *strings.Builder) int { return run([]string{"--version"}, o, e) },
			regexp.MustCompile(`^portsyncd \S+ \(.*go1\.\d+.*\)\n$`)},
		{"status --help", func(o, e *strings.Builder) int { return runStatus([]string{"--help"}, o, e) },
			regexp.MustCompile(`(?s)^Usage: portsyncd status \[flags\].*-watch`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := tt.run(&stdout, &stderr); code != ExitOK {
				t.Errorf("exit status %d, want 0", code)
			}
			if !tt.want.MatchString(stdout.String()) {
				t.Errorf("stdout %q does not match %v", stdout.String(), tt.want)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr %q, want nothing", stderr.String())
			}
		})
	}
}
