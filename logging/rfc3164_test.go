package logging

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/logging/logtest"
)

// The encoder alone, byte for byte: what glibc's syslog(3) writes to
// /dev/log ("<PRI>Mmm dd hh:mm:ss TAG: MSG", the day padded with a space,
// local time, no hostname), with every attribute as logfmt in the message.
func TestRFC3164Encode(t *testing.T) {
	e := rfc3164Encoder{facility: 1, now: func() time.Time { return time.Date(2026, 3, 9, 1, 2, 3, 0, time.Local) }}
	at := time.Date(2026, 1, 5, 9, 11, 12, 345678901, time.Local)
	tests := []struct {
		name  string
		t     time.Time
		level slog.Level
		msg   string
		attrs []slog.Attr
		want  string
	}{
		{"notice with a port", at, LevelNotice, "state change written",
			[]slog.Attr{slog.String(KeyPort, "Ethernet0"), slog.String(KeyOper, "up"), slog.Int(KeyMTU, 9100)},
			"<13>Jan  5 09:11:12 portsyncd: state change written port=Ethernet0 oper=up mtu=9100"},
		{"warning, quoted value", at.AddDate(0, 0, 10), LevelWarn, "netlink datagram not from the kernel dropped",
			[]slog.Attr{slog.Int("sender_pid", 42), slog.String(KeyErr, "a b")},
			`<12>Jan 15 09:11:12 portsyncd: netlink datagram not from the kernel dropped sender_pid=42 err="a b"`},
		{"every severity maps", at, LevelEmerg, "e", nil, "<8>Jan  5 09:11:12 portsyncd: e"},
		{"debug", at, LevelDebug, "d", nil, "<15>Jan  5 09:11:12 portsyncd: d"},
		{"no time: now", time.Time{}, LevelInfo, "i", nil, "<14>Mar  9 01:02:03 portsyncd: i"},
		{"invalid UTF-8 replaced", at, LevelInfo, "x\xffy", nil, "<14>Jan  5 09:11:12 portsyncd: x\uFFFDy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := slog.NewRecord(tt.t, tt.level, tt.msg, 0)
			r.AddAttrs(tt.attrs...)
			var fs []field
			r.Attrs(func(a slog.Attr) bool { fs = appendFields(fs, "", a); return true })
			if got := string(e.encode(nil, r, fs)); got != tt.want {
				t.Errorf("encode\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A line longer than rsyslog takes is cut by us, at a character boundary.
func TestRFC3164Truncates(t *testing.T) {
	e := rfc3164Encoder{facility: 1, now: time.Now}
	r := slog.NewRecord(time.Now(), LevelInfo, "long", 0)
	r.AddAttrs(slog.String("text", strings.Repeat("é", maxLocalMessage)))
	var fs []field
	r.Attrs(func(a slog.Attr) bool { fs = appendFields(fs, "", a); return true })
	b := e.encode(nil, r, fs)
	if len(b) > maxLocalMessage || len(b) < maxLocalMessage-1 || !bytes.HasSuffix(b, []byte("é")) {
		t.Errorf("line of %d bytes ending %q, want %d or one less, ending in a whole character", len(b), b[len(b)-4:], maxLocalMessage)
	}
}

// Which format goes where: RFC 3164 to a local socket unless asked,
// RFC 5424 to a remote collector unless asked.
func TestSyslogFormatByNetwork(t *testing.T) {
	for _, tt := range []struct {
		network, format string
		want3164        bool
		wantErr         bool
	}{
		{"unixgram", "", true, false},
		{"unixgram", SyslogFormatAuto, true, false},
		{"unixgram", SyslogFormatRFC5424, false, false},
		{"udp", SyslogFormatAuto, false, false},
		{"tcp", "", false, false},
		{"tcp", SyslogFormatRFC3164, true, false},
		{"udp", "rfc9999", false, true},
	} {
		enc, err := syslogEncoderFor(tt.network, tt.format)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s %q: err %v", tt.network, tt.format, err)
			continue
		}
		if _, is3164 := enc.(rfc3164Encoder); err == nil && is3164 != tt.want3164 {
			t.Errorf("%s %q: RFC 3164 %v, want %v", tt.network, tt.format, is3164, tt.want3164)
		}
	}
}

// On a unixgram socket, with no format asked for, the datagram is the
// RFC 3164 line.
func TestSyslogLocalIsRFC3164(t *testing.T) {
	l := logtest.ListenSyslog(t, "unixgram")
	h, s, err := NewSyslogHandler(l.Addr, "", LevelDebug, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	slog.New(h).Log(context.Background(), LevelNotice, "state change written", KeyPort, "Ethernet0")
	s.Close() // flushed: the datagram is queued on the listener's socket
	l.WaitRaw(t, waitFor, func(b []byte) bool {
		return bytes.HasSuffix(b, []byte(" portsyncd: state change written port=Ethernet0"))
	})
	raw := string(l.Raw()[0])
	if !strings.HasPrefix(raw, "<13>") || strings.Contains(raw, "portsyncd[") {
		t.Errorf("datagram %q: want <13>, the tag without a pid", raw)
	}
}

// An output that cannot be reached at start is replaced by stderr, and one
// line on stderr says so, even at a level that would hide a warning; the
// lines that follow are on stderr.
func TestUnreachableOutputFallsBackToStderr(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, output, syslog, journal, wantErr string
	}{
		{"syslog without /dev/log", OutputSyslog, "unixgram://" + filepath.Join(dir, "log"), "", "no such file"},
		{"syslog socket nobody reads", OutputSyslog, "unixgram://" + deadSocket(t), "", "connection refused"},
		{"syslog host does not resolve", OutputSyslog, "udp://no-such-host.invalid:514", "", "no-such-host.invalid"},
		{"syslog over tcp refused", OutputSyslog, "tcp://127.0.0.1:1", "", "refused"},
		{"journald socket missing", OutputJournald, "", filepath.Join(dir, "journal"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			lv := new(slog.LevelVar)
			lv.Set(LevelError)
			lg, err := New(Config{Output: tt.output, SyslogAddr: tt.syslog, JournalSocket: tt.journal,
				Format: FormatText, Level: lv, Stderr: &stderr})
			if err != nil {
				t.Fatal(err)
			}
			defer lg.Close()
			if lg.Output != OutputStderr || lg.Fallback == nil {
				t.Fatalf("output %q, fallback %v; want stderr and a reason", lg.Output, lg.Fallback)
			}
			lg.Logger.Error("after")
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], `level=WARN msg="log output unreachable: logging to stderr" output=`+tt.output) ||
				!strings.Contains(lines[0], tt.wantErr) || !strings.Contains(lines[1], "msg=after") {
				t.Errorf("stderr:\n%s\nwant the fallback line naming %q, then msg=after", stderr.String(), tt.wantErr)
			}
		})
	}
}

// deadSocket is the path of a unixgram socket that was bound and closed:
// the file stays, nobody reads it (rsyslog stopped).
func deadSocket(t *testing.T) string {
	l := logtest.ListenSyslog(t, "unixgram")
	l.Close()
	path := strings.TrimPrefix(l.Addr, "unixgram://")
	if _, err := os.Stat(path); err != nil {
		// The listener removed its file: leave one behind as a
		// stopped daemon does.
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// Fatal puts the reason for an exit on stderr as well when the lines go
// elsewhere, and only once when they go to stderr already.
func TestFatalReachesStderr(t *testing.T) {
	l := logtest.ListenSyslog(t, "unixgram")
	for _, tt := range []struct {
		output string
		want   int // "msg=bye" lines on stderr
	}{
		{OutputSyslog, 1},
		{OutputStderr, 1},
	} {
		t.Run(tt.output, func(t *testing.T) {
			var stderr bytes.Buffer
			lg, err := New(Config{Output: tt.output, SyslogAddr: l.Addr, Format: FormatText, Level: new(slog.LevelVar), Stderr: &stderr})
			if err != nil {
				t.Fatal(err)
			}
			lg.Fatal("bye", KeyErr, "boom")
			lg.Close()
			if got := strings.Count(stderr.String(), "level=ERROR msg=bye err=boom"); got != tt.want {
				t.Errorf("stderr %q: %d fatal lines, want %d", stderr.String(), got, tt.want)
			}
		})
	}
	l.WaitRaw(t, waitFor, func(b []byte) bool { return bytes.HasSuffix(b, []byte("portsyncd: bye err=boom")) })
}
