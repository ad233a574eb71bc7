package logging

import (
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

// Lib returns the logger for a library's own messages: the same handler,
// with lib=name.
func (l *Logging) Lib(name string) *slog.Logger { return l.Logger.With(KeyLib, name) }

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
