package logging

import (
	"io"
	"log/slog"
	"time"

	"github.com/lmittmann/tint"
)

// Stderr formats (--log-format).
const (
	FormatAuto = "auto" // tint on a terminal, text otherwise
	FormatTint = "tint" // tint: colour on a terminal, none elsewhere
	FormatText = "text" // logfmt, slog's TextHandler
	FormatJSON = "json" // one JSON object a line, slog's JSONHandler
)

// NewStderrHandler returns a handler writing to w in format (FormatAuto ...);
// terminal says whether w is a terminal (colour, and tint under
// FormatAuto). Every format shows SONiC's level names.
func NewStderrHandler(w io.Writer, format string, terminal bool, level slog.Leveler) slog.Handler {
	w = rawWriter(w)
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: replaceLevel}
	switch format {
	case FormatJSON:
		return slog.NewJSONHandler(w, opts)
	case FormatText:
		return slog.NewTextHandler(w, opts)
	case FormatTint:
	default: // FormatAuto
		if !terminal {
			return slog.NewTextHandler(w, opts)
		}
	}
	return tint.NewTextHandler(w, &tint.Options{
		Level:       level,
		TimeFormat:  time.TimeOnly,
		NoColor:     !terminal,
		ReplaceAttr: tintLevel,
	})
}

// tintLevel shows SONiC's level names in tint, coloured by severity.
func tintLevel(groups []string, a slog.Attr) slog.Attr {
	if a.Key != slog.LevelKey || len(groups) != 0 {
		return a
	}
	l, ok := a.Value.Any().(slog.Level)
	if !ok {
		return a
	}
	name := slog.String(slog.LevelKey, LevelName(l))
	switch {
	case l >= LevelError:
		return tint.Attr(9, name) // bright red
	case l >= LevelWarn:
		return tint.Attr(11, name) // bright yellow
	case l >= LevelNotice:
		return tint.Attr(14, name) // bright cyan
	case l >= LevelInfo:
		return tint.Attr(10, name) // bright green
	default:
		return name
	}
}
