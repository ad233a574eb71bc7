package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/sonic-go/portsyncd/logging/logtest"
)

// BenchmarkHandler measures what a log call costs its caller with each
// handler at the default level, NOTICE: a DEBUG line that is filtered out
// (free with LogAttrs), and an enabled NOTICE line of the kind dbwriter
// writes per port state. For syslog and journald the line is encoded and
// queued on the caller's goroutine; the socket write happens on the sink's goroutine, so
// lines the destination cannot take are dropped, reported as drops/op.
func BenchmarkHandler(b *testing.B) {
	handlers := []struct {
		name string
		new  func(b *testing.B, lv slog.Leveler) (slog.Handler, *Sink)
	}{
		{"tint", func(b *testing.B, lv slog.Leveler) (slog.Handler, *Sink) {
			return NewStderrHandler(io.Discard, FormatTint, false, lv), nil
		}},
		{"text", func(b *testing.B, lv slog.Leveler) (slog.Handler, *Sink) {
			return NewStderrHandler(io.Discard, FormatText, false, lv), nil
		}},
		{"json", func(b *testing.B, lv slog.Leveler) (slog.Handler, *Sink) {
			return NewStderrHandler(io.Discard, FormatJSON, false, lv), nil
		}},
		{"syslog", func(b *testing.B, lv slog.Leveler) (slog.Handler, *Sink) {
			l := logtest.ListenSyslog(b, "unixgram")
			h, s, err := NewSyslogHandler(l.Addr, SyslogFormatRFC5424, lv, 0)
			if err != nil {
				b.Fatal(err)
			}
			return h, s
		}},
		{"journald", func(b *testing.B, lv slog.Leveler) (slog.Handler, *Sink) {
			l := logtest.ListenJournal(b)
			h, s := NewJournalHandler(l.Addr, lv, 0)
			return h, s
		}},
	}
	ctx := context.Background()
	for _, hh := range handlers {
		lv := new(slog.LevelVar)
		lv.Set(LevelNotice)
		b.Run(hh.name+"/debug-filtered", func(b *testing.B) {
			h, s := hh.new(b, lv)
			if s != nil {
				defer s.Close()
			}
			log := slog.New(h).With(KeyActor, "portstate")
			name, ifindex := "Ethernet0", 1234
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(ctx, LevelDebug, "link message ignored",
					slog.String(KeyPort, name), slog.Int(KeyIfindex, ifindex), slog.String("reason", "unchanged"))
			}
		})
		// The same with key-value pairs: boxing a non-constant string and
		// an int into `any` costs the caller 2 allocations before slog can
		// see the level. Hot paths should use LogAttrs.
		b.Run(hh.name+"/debug-filtered-kv", func(b *testing.B) {
			h, s := hh.new(b, lv)
			if s != nil {
				defer s.Close()
			}
			log := slog.New(h).With(KeyActor, "portstate")
			name, ifindex := "Ethernet0", 1234
			b.ReportAllocs()
			for b.Loop() {
				log.Debug("link message ignored", KeyPort, name, KeyIfindex, ifindex, "reason", "unchanged")
			}
		})
		b.Run(hh.name+"/notice", func(b *testing.B) {
			h, s := hh.new(b, lv)
			log := slog.New(h).With(KeyActor, "portstate")
			var before uint64
			if s != nil {
				before = s.Dropped()
			}
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(ctx, LevelNotice, "state change written",
					slog.String(KeyPort, "Ethernet0"), slog.Int(KeyIfindex, 1234), slog.String(KeyEvent, "newlink"),
					slog.String(KeyAdmin, "up"), slog.String(KeyOper, "up"), slog.Int(KeyMTU, 9100),
					slog.Int64(KeyLatencyUS, 87))
			}
			b.StopTimer()
			if s != nil {
				s.Close()
				b.ReportMetric(float64(s.Dropped()-before)/float64(b.N), "drops/op")
			}
		})
	}
}
