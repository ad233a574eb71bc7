package main

import (
	"bytes"
	"flag"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/logging/logtest"
)

// Bad logging flags: one line naming the flag, ExitUsage, before
// anything else happens. Good ones get as far as the database config.
func TestLogFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	collector := logtest.ListenSyslog(t, "tcp")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown level", []string{"--log-level", "loud"}, `--log-level "loud"`},
		{"unknown output", []string{"--log-output", "printer"}, `output "printer"`},
		{"unknown format", []string{"--log-format", "xml"}, `format "xml"`},
		{"bad syslog address", []string{"--log-output", "syslog", "--syslog-addr", "smtp://x"}, `network "smtp"`},
		{"SONiC level", []string{"--log-level", "NOTICE"}, missing},
		{"slog level", []string{"--log-level", "debug", "--log-format", "json"}, missing},
		{"unknown syslog format", []string{"--log-output", "syslog", "--syslog-format", "rfc1"}, `syslog format "rfc1"`},
		{"syslog over tcp", []string{"--log-output", "syslog", "--syslog-addr", collector.Addr}, missing},
		{"syslog over tcp, RFC 3164", []string{"--log-output", "syslog", "--syslog-addr", collector.Addr, "--syslog-format", "rfc3164"}, missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, out bytes.Buffer
			code := run(append([]string{"--db-config", missing}, tt.args...), &stdout, &out)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			want := ExitUsage
			if tt.want == missing {
				want = ExitConfig
			}
			if code != want || len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("exit %d, output %q; want %d and one line containing %q", code, out.String(), want, tt.want)
			}
		})
	}
}

// protoactor-go's messages go through the daemon's handler, with
// lib=protoactor, and only from WARN up: its INFO chatter ("actor system
// started", dead letters) stays out even at DEBUG.
func TestProtoactorLogsThroughHandler(t *testing.T) {
	l := logtest.ListenSyslog(t, "unixgram")
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	lf := addLogFlags(fs)
	if err := fs.Parse([]string{"--log-output", "syslog", "--syslog-addr", l.Addr, "--syslog-format", "rfc5424", "--log-level", "DEBUG"}); err != nil {
		t.Fatal(err)
	}
	logs, lv, err := lf.open(&bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	if lv.Level() != logging.LevelDebug {
		t.Fatalf("level %v, want DEBUG", lv.Level())
	}
	libLog := logs.Lib("protoactor", slog.LevelWarn)
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return libLog }))
	system.Logger().Warn("from protoactor")
	logs.Logger.Debug("after")
	l.WaitSyslog(t, 10*time.Second, func(m logtest.Message) bool { return strings.HasPrefix(m.Msg, "after") })
	var warned bool
	for _, m := range l.Syslog(t) {
		lib, _ := m.Param(logging.SDMeta, "lib")
		switch {
		case strings.HasPrefix(m.Msg, "from protoactor"):
			warned = lib == "protoactor" && m.Severity == 4
		case lib == "protoactor":
			t.Errorf("protoactor line below WARN: %q", m.Msg)
		}
	}
	if !warned {
		t.Errorf("protoactor's WARN line missing or without lib=protoactor: %v", l.Syslog(t))
	}
}

// Issue 17 item 3: with a log destination that cannot be reached, the
// daemon says so on stderr and goes on logging there; the reason it stops
// (here, a missing database config) is on stderr too.
func TestUnreachableLogOutputFallsBack(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"syslog without /dev/log", []string{"--log-output", "syslog", "--syslog-addr", "unixgram://" + filepath.Join(t.TempDir(), "log")}},
		{"syslog host that does not resolve", []string{"--log-output", "syslog", "--syslog-addr", "udp://no-such-host.invalid:514"}},
		{"journald socket missing", []string{"--log-output", "journald", "--journal-socket", filepath.Join(t.TempDir(), "journal")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"--db-config", missing, "--log-format", "text"}, tt.args...), &stdout, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code != ExitConfig || len(lines) != 2 || !strings.Contains(lines[0], "log output unreachable: logging to stderr") ||
				!strings.Contains(lines[1], missing) {
				t.Errorf("exit %d, stderr:\n%s\nwant %d, the fallback line, then the error naming %s", code, stderr.String(), ExitConfig, missing)
			}
		})
	}
}
