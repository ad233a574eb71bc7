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
		{"syslog over tcp", []string{"--log-output", "syslog", "--syslog-addr", "tcp://127.0.0.1:1"}, missing},
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
	if err := fs.Parse([]string{"--log-output", "syslog", "--syslog-addr", l.Addr, "--log-level", "DEBUG"}); err != nil {
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
