package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Outputs (--log-output).
const (
	OutputAuto     = "auto"     // journald when stderr is the journal's stream, stderr otherwise
	OutputStderr   = "stderr"   // NewStderrHandler
	OutputSyslog   = "syslog"   // NewSyslogHandler
	OutputJournald = "journald" // NewJournalHandler
)

// Config says where log lines go.
type Config struct {
	Output        string // OutputAuto ("" too), OutputStderr, OutputSyslog or OutputJournald
	Format        string // for OutputStderr: FormatAuto ("" too), FormatTint, FormatText or FormatJSON
	SyslogAddr    string // for OutputSyslog; "": DefaultSyslogAddr
	JournalSocket string // for OutputJournald; "": DefaultJournalSocket
	Queue         int    // lines a syslog or journald output holds; 0: DefaultQueue

	// Level governs every handler; the caller keeps it to change the level
	// at run time (FollowLevel).
	Level *slog.LevelVar
	// Stderr is where OutputStderr writes; if it is an *os.File it is also
	// what OutputAuto checks against $JOURNAL_STREAM and what decides colour.
	Stderr io.Writer
	// JournalStream is the value of $JOURNAL_STREAM.
	JournalStream string
}

// Logging is the process's logging: one handler, chosen by Config.
type Logging struct {
	// Logger logs through Handler.
	Logger *slog.Logger
	// Handler is the one handler every logger of the process uses.
	Handler slog.Handler
	// Output is the output in use (auto resolved).
	Output string
	sink   *Sink // nil for stderr
}

// New builds the handler Config asks for. It does not connect: a syslog or
// journald destination that is not there yet is retried in the background.
func New(cfg Config) (*Logging, error) {
	if cfg.Level == nil {
		return nil, errors.New("logging: Config.Level is nil")
	}
	f, _ := cfg.Stderr.(*os.File)
	out := cfg.Output
	switch out {
	case "", OutputAuto:
		out = OutputStderr
		if JournalStream(cfg.JournalStream, f) {
			out = OutputJournald
		}
	case OutputStderr, OutputSyslog, OutputJournald:
	default:
		return nil, fmt.Errorf("logging: output %q: want auto, stderr, syslog or journald", cfg.Output)
	}
	switch cfg.Format {
	case "", FormatAuto, FormatTint, FormatText, FormatJSON:
	default:
		return nil, fmt.Errorf("logging: format %q: want auto, tint, text or json", cfg.Format)
	}
	l := &Logging{Output: out}
	switch out {
	case OutputStderr:
		l.Handler = NewStderrHandler(cfg.Stderr, cfg.Format, f != nil && IsTerminal(f), cfg.Level)
	case OutputSyslog:
		h, s, err := NewSyslogHandler(cfg.SyslogAddr, cfg.Level, cfg.Queue)
		if err != nil {
			return nil, err
		}
		l.Handler, l.sink = h, s
	case OutputJournald:
		l.Handler, l.sink = NewJournalHandler(cfg.JournalSocket, cfg.Level, cfg.Queue)
	}
	l.Logger = slog.New(l.Handler)
	return l, nil
}

// Lib returns the logger for a library's own messages: the same handler
// and level, with lib=name, and only records at floor or above whatever the
// level (so that a library's chatter, protoactor's dead letters at INFO
// say, stays out even at DEBUG).
func (l *Logging) Lib(name string, floor slog.Level) *slog.Logger {
	return slog.New(floorHandler{l.Handler, floor}).With(KeyLib, name)
}

// floorHandler passes on records at min or above.
type floorHandler struct {
	slog.Handler
	min slog.Level
}

func (h floorHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h floorHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return floorHandler{h.Handler.WithAttrs(attrs), h.min}
}

func (h floorHandler) WithGroup(name string) slog.Handler {
	return floorHandler{h.Handler.WithGroup(name), h.min}
}

// Dropped returns how many lines this output has dropped (always 0 for
// stderr, which is written synchronously).
func (l *Logging) Dropped() uint64 {
	if l.sink == nil {
		return 0
	}
	return l.sink.Dropped()
}

// Close flushes a syslog or journald output (waiting at most two seconds).
func (l *Logging) Close() error {
	if l.sink == nil {
		return nil
	}
	return l.sink.Close()
}

// IsTerminal reports whether f is a terminal that takes colour.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
