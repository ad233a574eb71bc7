package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Outputs (--log-output).
const (
	OutputAuto     = "auto"     // journald when stderr is the journal's stream, else stderr on a terminal, else syslog when its socket exists, else stderr
	OutputStderr   = "stderr"   // NewStderrHandler
	OutputSyslog   = "syslog"   // NewSyslogHandler
	OutputJournald = "journald" // NewJournalHandler
)

// Config says where log lines go.
type Config struct {
	Output        string // OutputAuto ("" too), OutputStderr, OutputSyslog or OutputJournald
	Format        string // for OutputStderr: FormatAuto ("" too), FormatTint, FormatText or FormatJSON
	SyslogAddr    string // for OutputSyslog; "": DefaultSyslogAddr
	SyslogFormat  string // for OutputSyslog: SyslogFormatAuto ("" too), SyslogFormatRFC3164 or SyslogFormatRFC5424
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
	// Output is the output in use: auto resolved, and stderr when the one
	// asked for could not be reached at start.
	Output string
	// Fallback says why the output asked for was replaced by stderr; nil
	// when it was not.
	Fallback error
	sink     *Sink        // nil for stderr
	fatal    slog.Handler // stderr, for Fatal; nil when Handler already writes there
}

// New builds the handler Config asks for. A syslog or journald destination
// is tried once: one that cannot be reached at start (no /dev/log, no
// journal socket, a host that does not resolve, a refused connection) is
// replaced by stderr, and the first line on stderr says so, whatever the
// level, so that nothing the daemon logs vanishes. One that goes away later
// is reconnected in the background. Errors are for a Config that cannot
// work whatever the host has (an unknown output, format or address).
func New(cfg Config) (*Logging, error) {
	if cfg.Level == nil {
		return nil, errors.New("logging: Config.Level is nil")
	}
	f, _ := cfg.Stderr.(*os.File)
	journalStream := JournalStream(cfg.JournalStream, f)
	out := cfg.Output
	switch out {
	case "", OutputAuto:
		// A person at a terminal sees the lines; a service (a pipe to
		// supervisord, the journal's stream) sends them where its
		// supervisor's logs go.
		out = OutputStderr
		if journalStream {
			out = OutputJournald
		} else if !(f != nil && IsTerminal(f)) && syslogSocketExists(cfg.SyslogAddr) {
			out = OutputSyslog
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
	stderr := NewStderrHandler(cfg.Stderr, cfg.Format, f != nil && IsTerminal(f), cfg.Level)
	l := &Logging{Output: out}
	switch out {
	case OutputSyslog:
		h, s, err := NewSyslogHandler(cfg.SyslogAddr, cfg.SyslogFormat, cfg.Level, cfg.Queue)
		if err != nil {
			return nil, err
		}
		l.Handler, l.sink = h, s
		l.Fallback = probe(s)
	case OutputJournald:
		l.Handler, l.sink = NewJournalHandler(cfg.JournalSocket, cfg.Level, cfg.Queue)
		l.Fallback = probe(l.sink)
	}
	if l.Fallback != nil {
		_ = l.sink.Close()
		l.Handler, l.sink = nil, nil
		// Whatever the level: the one line that says where the others went.
		r := slog.NewRecord(time.Now(), LevelWarn, "log output unreachable: logging to stderr", 0)
		r.AddAttrs(slog.String("output", out), slog.Any(KeyErr, l.Fallback))
		_ = stderr.Handle(context.Background(), r)
		l.Output = OutputStderr
	}
	if l.Handler == nil {
		l.Handler = stderr
	}
	// Fatal's copy on stderr, unless stderr already has every line (stderr
	// output, or journald when stderr is the journal too).
	if l.Output != OutputStderr && !(l.Output == OutputJournald && journalStream) {
		l.fatal = stderr
	}
	l.Logger = slog.New(l.Handler)
	return l, nil
}

// syslogSocketExists reports whether addr ("": DefaultSyslogAddr) is a
// local socket that exists, as /dev/log does in SONiC's containers.
func syslogSocketExists(addr string) bool {
	network, path, err := ParseSyslogAddr(addr)
	if err != nil || network != "unixgram" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && st.Mode().Type() == os.ModeSocket
}

// probe dials the sink's destination once, as its writer will: the
// error says why it cannot be reached now.
func probe(s *Sink) error {
	c, err := s.s.dial()
	if err != nil {
		return err
	}
	return c.Close()
}

// Fatal logs why the process is about to exit, at ERROR, and writes the same
// line on stderr too when the output is elsewhere: under supervisord or
// systemd, stderr is what the supervisor keeps, and a syslog daemon that is
// down must not swallow the reason for an exit.
func (l *Logging) Fatal(msg string, args ...any) {
	l.Logger.Error(msg, args...)
	if l.fatal != nil {
		r := slog.NewRecord(time.Now(), LevelError, msg, 0)
		r.Add(args...)
		_ = l.fatal.Handle(context.Background(), r)
	}
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
