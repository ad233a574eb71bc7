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

// Every bad flag value ends the process with one line on stderr and status 2;
// --version prints one line and exits 0.
func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"--redis-max-backoff", "0"}, exitConfig, "portsyncd: --redis-max-backoff 0s: want at least 10ms"},
		{[]string{"--netlink-rcvbuf", "-5"}, exitConfig, "portsyncd: --netlink-rcvbuf -5"},
		{[]string{"--max-restarts", "-1"}, exitConfig, "portsyncd: --max-restarts -1"},
		{[]string{"--restart-window", "0s"}, exitConfig, "portsyncd: --restart-window 0s"},
		{[]string{"--netlink-rcvbuf", "99999999999999"}, exitConfig, "portsyncd: --netlink-rcvbuf 99999999999999"},
		{[]string{"--metrics-addr", "127.0.0.1:99999"}, exitConfig, `portsyncd: --metrics-addr "127.0.0.1:99999": port`},
		{[]string{"--dump-dir", "/etc/hostname"}, exitConfig, "portsyncd: --dump-dir /etc/hostname: not a directory"},
		{[]string{"--dump-dir", "/nonexistent/dumps"}, exitConfig, "portsyncd: --dump-dir /nonexistent/dumps: no such directory"},
		{[]string{"--gomaxprocs", "100000"}, exitConfig, "portsyncd: --gomaxprocs 100000: want 0 (one per CPU) to 256"},
		{[]string{"--metrics-addr", "nowhere"}, exitConfig, `portsyncd: --metrics-addr "nowhere"`},
		{[]string{"--port-table-recheck", "0s"}, exitConfig, "portsyncd: --port-table-recheck 0s"},
		{[]string{"extra"}, exitConfig, `portsyncd: unexpected argument "extra"`},
		{[]string{"--version"}, 0, "portsyncd "},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			code := run(tt.args, &out)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d", code, tt.wantCode)
			}
			if s := out.String(); strings.Count(s, "\n") != 1 || !strings.HasPrefix(s, tt.wantOut) {
				t.Errorf("output %q: want one line starting %q", s, tt.wantOut)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "1.2.3"
	if got := versionString(); !regexp.MustCompile(`^portsyncd 1\.2\.3 (\S+ )?go\S+$`).MatchString(got) {
		t.Errorf("versionString() = %q", got)
	}
}
