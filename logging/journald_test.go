package logging

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/logging/logtest"
)

// A port line reaches a journal socket as a native-protocol datagram with
// the fields journalctl matches on; a value with newlines uses the
// length-prefixed form and survives whole.
func TestJournald(t *testing.T) {
	l := logtest.ListenJournal(t)
	h, s := NewJournalHandler(l.Addr, LevelDebug, 0)
	t.Cleanup(func() { s.Close() })
	log := slog.New(h).With(KeyActor, "dbwriter")
	stack := "goroutine 1 [running]:\nmain.main()\n\t/x/main.go:1"
	log.LogAttrs(context.Background(), LevelNotice, "state change written",
		slog.String(KeyPort, "Ethernet0"), slog.Int(KeyIfindex, 5), slog.String(KeyEvent, "newlink"),
		slog.Int64(KeyLatencyUS, 87), slog.Group("redis", slog.String("db", "STATE_DB")),
		slog.String("stack", stack), slog.String("message", "shadow"), slog.Int("2x", 2),
		slog.String("_PID", "1"))
	e := l.WaitJournal(t, waitFor, func(e logtest.Entry) bool { return strings.HasPrefix(e.Get("MESSAGE"), "state change written") })

	want := logtest.Entry{
		"MESSAGE":           {`state change written actor=dbwriter port=Ethernet0 ifindex=5 event=newlink latency_us=87 redis.db=STATE_DB stack="goroutine 1 [running]:\nmain.main()\n\t/x/main.go:1" message=shadow 2x=2 _PID=1`},
		"PRIORITY":          {"5"},
		"SYSLOG_IDENTIFIER": {"portsyncd"},
		"ACTOR":             {"dbwriter"},
		"PORT":              {"Ethernet0"},
		"IFINDEX":           {"5"},
		"EVENT":             {"newlink"},
		"LATENCY_US":        {"87"},
		"REDIS_DB":          {"STATE_DB"},
		"STACK":             {stack},
		"ATTR_MESSAGE":      {"shadow"},
		"ATTR_2X":           {"2"},
		"ATTR__PID":         {"1"},
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("journal entry (-want +got):\n%s", diff)
	}
	raw := l.Raw()[0]
	binaryStack := append([]byte("\nSTACK\n"), binary.LittleEndian.AppendUint64(nil, uint64(len(stack)))...)
	if !bytes.Contains(raw, binaryStack) {
		t.Errorf("STACK not in the length-prefixed form:\n%q", raw)
	}
}

// Each SONiC level is its syslog severity in PRIORITY.
func TestJournaldPriorities(t *testing.T) {
	l := logtest.ListenJournal(t)
	h, s := NewJournalHandler(l.Addr, LevelDebug, 0)
	t.Cleanup(func() { s.Close() })
	for _, lv := range levels {
		slog.New(h).Log(context.Background(), lv.level, lv.name)
	}
	for sev, lv := range levels {
		e := l.WaitJournal(t, waitFor, func(e logtest.Entry) bool { return e.Get("MESSAGE") == lv.name })
		if got := e.Get("PRIORITY"); got != string(rune('0'+sev)) {
			t.Errorf("%s: PRIORITY=%s, want %d", lv.name, got, sev)
		}
	}
}

// journald restarts (its socket is recreated): entries flow again.
func TestJournaldReconnects(t *testing.T) {
	l := logtest.ListenJournal(t)
	h, s := NewJournalHandler(l.Addr, LevelDebug, 0)
	t.Cleanup(func() { s.Close() })
	log := slog.New(h)
	log.Info("before")
	l.WaitJournal(t, waitFor, func(e logtest.Entry) bool { return e.Get("MESSAGE") == "before" })
	l.Restart(t)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				log.Info("after")
			}
		}
	}()
	l.WaitJournal(t, waitFor, func(e logtest.Entry) bool { return e.Get("MESSAGE") == "after" })
	close(stop)
	<-done
}

// An entry larger than any datagram the socket takes (the value is there
// twice, in MESSAGE and its field: over the 16 MiB a send buffer can reach)
// arrives whole through a sealed memfd, as journald reads it; the listener
// reads at most 1 MiB from a datagram, so only the fd can carry it. The
// next entry, small, still goes as a datagram.
func TestJournaldLargeEntryPassesMemfd(t *testing.T) {
	l := logtest.ListenJournal(t)
	h, s := NewJournalHandler(l.Addr, LevelDebug, 0)
	t.Cleanup(func() { s.Close() })
	log := slog.New(h)
	big := strings.Repeat("x", 9<<20)
	log.Info("large", "blob", big)
	log.Info("small")
	e := l.WaitJournal(t, waitFor, func(e logtest.Entry) bool { return e.Get("MESSAGE") == "small" })
	if e.Get("PRIORITY") != "6" {
		t.Errorf("small entry: %v", e)
	}
	var large logtest.Entry
	for _, raw := range l.Raw() {
		if e, err := logtest.DecodeJournal(raw); err == nil && strings.HasPrefix(e.Get("MESSAGE"), "large ") {
			large = e
		}
	}
	if large == nil {
		t.Fatalf("large entry not received; dropped %d", s.Dropped())
	}
	if got := large.Get("BLOB"); got != big {
		t.Errorf("BLOB: %d bytes, want %d", len(got), len(big))
	}
	if n := s.Dropped(); n != 0 {
		t.Errorf("dropped %d, want 0", n)
	}
}

// --log-output auto: journald exactly when $JOURNAL_STREAM names stderr,
// else syslog when its socket exists (as /dev/log does in SONiC's
// containers), else stderr.
func TestAutoOutput(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	stream := statStream(t, fi.Sys())
	journal := logtest.ListenJournal(t)
	devLog := logtest.ListenSyslog(t, "unixgram")
	notASocket := "unixgram://" + f.Name()
	none := "unixgram://" + t.TempDir() + "/none"
	tests := []struct {
		name, env, syslog, want string
	}{
		{"no JOURNAL_STREAM, no syslog socket", "", none, OutputStderr},
		{"no JOURNAL_STREAM, syslog socket", "", devLog.Addr, OutputSyslog},
		{"syslog path not a socket", "", notASocket, OutputStderr},
		{"remote syslog is never picked", "", "udp://127.0.0.1:514", OutputStderr},
		{"names stderr", stream, devLog.Addr, OutputJournald},
		{"names another stream", "1:2", none, OutputStderr},
		{"malformed", "nonsense", devLog.Addr, OutputSyslog},
	}
	// A terminal: a person runs portsyncd by hand and sees its lines,
	// /dev/log or not.
	tty := openPTY(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lg, err := New(Config{Output: OutputAuto, Level: new(slog.LevelVar), Stderr: f,
				JournalStream: tt.env, JournalSocket: journal.Addr, SyslogAddr: tt.syslog})
			if err != nil {
				t.Fatal(err)
			}
			defer lg.Close()
			if lg.Output != tt.want || lg.Fallback != nil {
				t.Errorf("output %q (fallback %v), want %q", lg.Output, lg.Fallback, tt.want)
			}
		})
	}
	t.Run("terminal, syslog socket", func(t *testing.T) {
		lg, err := New(Config{Output: OutputAuto, Level: new(slog.LevelVar), Stderr: tty, SyslogAddr: devLog.Addr})
		if err != nil {
			t.Fatal(err)
		}
		defer lg.Close()
		if lg.Output != OutputStderr {
			t.Errorf("output %q on a terminal, want stderr", lg.Output)
		}
	})
}

// openPTY returns the terminal side of a new pseudo-terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	t.Setenv("TERM", "xterm")
	return tty
}
