package logging

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/logging/logtest"
)

const waitFor = 10 * time.Second

// newSyslog returns a logger writing to l at level, and closes its sink on
// cleanup.
func newSyslog(t *testing.T, l *logtest.Listener, level slog.Leveler) (*slog.Logger, *Sink) {
	t.Helper()
	h, s, err := NewSyslogHandler(l.Addr, SyslogFormatRFC5424, level, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return slog.New(h), s
}

func withMsg(msg string) func(logtest.Message) bool {
	return func(m logtest.Message) bool { return strings.HasPrefix(m.Msg, msg) }
}

// A port line over each transport arrives as RFC 5424 with the port
// element, the meta element and every attribute in MSG as well.
func TestSyslogTransports(t *testing.T) {
	host, _ := os.Hostname()
	for _, network := range []string{"unixgram", "udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			l := logtest.ListenSyslog(t, network)
			log, _ := newSyslog(t, l, LevelDebug)
			log.With(KeyActor, "portstate").LogAttrs(context.Background(), LevelNotice, "state change written",
				slog.String(KeyPort, "Ethernet0"), slog.Int(KeyIfindex, 5), slog.String(KeyEvent, "newlink"),
				slog.String(KeyAdmin, "up"), slog.String(KeyOper, "down"), slog.Int(KeyMTU, 9100),
				slog.Int64(KeyLatencyUS, 42), slog.Group("redis", slog.String("db", "STATE_DB")),
				slog.String("odd", `a "quoted" \ back]slash`))
			m := l.WaitSyslog(t, waitFor, withMsg("state change written"))

			if m.Facility != 1 || m.Severity != 5 {
				t.Errorf("facility %d severity %d, want 1 (user) and 5 (notice)", m.Facility, m.Severity)
			}
			if m.AppName != "portsyncd" || m.ProcID != strconv.Itoa(os.Getpid()) || m.MsgID != "newlink" {
				t.Errorf("APP-NAME %q PROCID %q MSGID %q, want portsyncd %d newlink", m.AppName, m.ProcID, m.MsgID, os.Getpid())
			}
			if m.Hostname != host {
				t.Errorf("HOSTNAME %q, want %q", m.Hostname, host)
			}
			if d := time.Since(m.Timestamp); d < 0 || d > time.Hour {
				t.Errorf("TIMESTAMP %v is not now", m.Timestamp)
			}
			p := func(name, value string) logtest.Param { return logtest.Param{Name: name, Value: value} }
			want := []logtest.Element{
				{ID: "port@32473", Params: []logtest.Param{
					p("name", "Ethernet0"), p("ifindex", "5"), p("event", "newlink"),
					p("admin", "up"), p("oper", "down"), p("mtu", "9100")}},
				{ID: "meta@32473", Params: []logtest.Param{
					p("actor", "portstate"), p("latency_us", "42"), p("redis.db", "STATE_DB"),
					p("odd", `a "quoted" \ back]slash`)}},
			}
			if diff := cmp.Diff(want, m.SD); diff != "" {
				t.Errorf("structured data (-want +got):\n%s", diff)
			}
			wantMsg := `state change written actor=portstate port=Ethernet0 ifindex=5 event=newlink admin=up oper=down mtu=9100 latency_us=42 redis.db=STATE_DB odd="a \"quoted\" \\ back]slash"`
			if m.Msg != wantMsg {
				t.Errorf("MSG\n got %s\nwant %s", m.Msg, wantMsg)
			}
		})
	}
}

// Each SONiC level maps onto its syslog severity; a line without
// attributes has NILVALUE structured data and MSGID.
func TestSyslogSeverities(t *testing.T) {
	l := logtest.ListenSyslog(t, "unixgram")
	log, _ := newSyslog(t, l, LevelDebug)
	for _, lv := range levels {
		log.Log(context.Background(), lv.level, "level "+lv.name)
	}
	for sev, lv := range levels {
		m := l.WaitSyslog(t, waitFor, withMsg("level "+lv.name))
		if m.Severity != sev || m.SD != nil || m.MsgID != "-" {
			t.Errorf("%s: severity %d SD %v MSGID %q; want %d, none, -", lv.name, m.Severity, m.SD, m.MsgID, sev)
		}
	}
}

// The encoder alone, byte for byte, including what RFC 5424 makes it
// rewrite: escapes, PARAM-NAMEs, invalid UTF-8, and a MSGID that does not
// fit.
func TestSyslogEncode(t *testing.T) {
	e := &syslogEncoder{facility: 1, hostname: "sw1", procid: "77"}
	at := time.Date(2026, 1, 25, 10, 11, 12, 345678901, time.FixedZone("CET", 3600))
	tests := []struct {
		name  string
		level slog.Level
		msg   string
		attrs []slog.Attr
		want  string
	}{
		{"bare", LevelInfo, "ready", nil, "<14>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - - ready"},
		{"port only", LevelError, "x", []slog.Attr{slog.String(KeyPort, "Ethernet4")},
			`<11>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - [port@32473 name="Ethernet4"] x port=Ethernet4`},
		{"meta only, names and values escaped", LevelDebug, "m", []slog.Attr{
			slog.String(`a b=c]d"e`, `x]y"z\w`), slog.String("", "empty key"), slog.String("k", "\xff")},
			`<15>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - [meta@32473 a_b_c_d_e="x\]y\"z\\w" _="empty key" k="` + "\uFFFD" + `"] m a b=c]d"e="x]y\"z\\w" ="empty key" k="\xff"`},
		{"port key inside a group is meta", LevelWarn, "g", []slog.Attr{slog.Group("peer", slog.String(KeyPort, "Ethernet8"))},
			`<12>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - [meta@32473 peer.port="Ethernet8"] g peer.port=Ethernet8`},
		{"event not fit for MSGID", LevelCrit, "c", []slog.Attr{slog.String(KeyEvent, "two words")},
			`<10>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - [port@32473 event="two words"] c event="two words"`},
		{"long param name cut to 32", LevelEmerg, "e", []slog.Attr{slog.Bool(strings.Repeat("n", 40), true)},
			`<8>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - [meta@32473 ` + strings.Repeat("n", 32) + `="true"] e ` + strings.Repeat("n", 40) + "=true"},
		{"error value", LevelAlert, "a", []slog.Attr{slog.Any(KeyErr, errors.New(`dial "x": refused]`))},
			`<9>1 2026-01-25T09:11:12.345678Z sw1 portsyncd 77 - [meta@32473 err="dial \"x\": refused\]"] a err="dial \"x\": refused]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := slog.NewRecord(at, tt.level, tt.msg, 0)
			r.AddAttrs(tt.attrs...)
			var fs []field
			r.Attrs(func(a slog.Attr) bool { fs = appendFields(fs, "", a); return true })
			got := string(e.encode(nil, r, fs))
			if got != tt.want {
				t.Errorf("encode\n got %s\nwant %s", got, tt.want)
			}
			if _, err := logtest.ParseRFC5424([]byte(got)); err != nil {
				t.Error(err)
			}
		})
	}
}

// A line too long for one message is cut in MSG, at a character boundary.
func TestSyslogTruncates(t *testing.T) {
	l := logtest.ListenSyslog(t, "unixgram")
	log, _ := newSyslog(t, l, LevelDebug)
	log.Info("long", "text", strings.Repeat("é", maxSyslogMessage))
	m := l.WaitSyslog(t, waitFor, withMsg("long"))
	raw := l.Raw()[0]
	if len(raw) > maxSyslogMessage || len(raw) < maxSyslogMessage-1 {
		t.Errorf("message of %d bytes, want %d or one less", len(raw), maxSyslogMessage)
	}
	if !strings.HasPrefix(m.Msg, `long text="éé`) {
		t.Errorf("MSG starts %.40q", m.Msg)
	}
}

// The listener goes away and comes back at the same address: lines flow
// again without restarting the daemon.
func TestSyslogReconnects(t *testing.T) {
	for _, network := range []string{"unixgram", "udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			l := logtest.ListenSyslog(t, network)
			log, _ := newSyslog(t, l, LevelDebug)
			log.Info("before")
			l.WaitSyslog(t, waitFor, withMsg("before"))
			l.Restart(t)
			// Lines sent while the old socket was going away may be
			// lost (that is what syslog is); keep logging until one
			// reaches the new listener.
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
						log.Info("after", "i", i)
					}
				}
			}()
			l.WaitSyslog(t, waitFor, withMsg("after"))
			close(stop)
			<-done
		})
	}
}

// A destination that does not read: the caller never waits, lines beyond
// the queue are dropped and counted, and every line is either delivered or
// counted once the destination reads again and the sink is closed.
func TestSyslogNeverBlocks(t *testing.T) {
	path := t.TempDir() + "/stuck.sock"
	if len(path) > 100 {
		dir, _ := os.MkdirTemp("", "psd-log-")
		t.Cleanup(func() { os.RemoveAll(dir) })
		path = dir + "/stuck.sock"
	}
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h, s, err := NewSyslogHandler("unixgram://"+path, SyslogFormatRFC5424, LevelDebug, 8)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	before := Dropped()
	const n = 2000
	for i := range n {
		log.Info("flood", "i", i) // would hang here if the caller waited
	}
	if s.Dropped() == 0 {
		t.Fatalf("no line dropped with an 8-line queue and a destination that does not read")
	}
	if got := Dropped() - before; got < s.Dropped() {
		t.Errorf("package Dropped() grew by %d, sink dropped %d", got, s.Dropped())
	}
	received := make(chan int)
	go func() {
		buf := make([]byte, 1<<16)
		count := 0
		for {
			m, _, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:m]) == "end" {
				received <- count
				return
			}
			count++
		}
	}()
	s.Close() // returns once every queued line is written or counted
	// The socket's queue is first in, first out: "end" comes after every
	// line the sink wrote.
	c, err := net.Dial("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("end")); err != nil {
		t.Fatal(err)
	}
	if got := <-received + int(s.Dropped()); got != n {
		t.Errorf("received + dropped = %d, want %d", got, n)
	}
}
