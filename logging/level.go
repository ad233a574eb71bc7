package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// SONiC's eight log levels as slog levels. DEBUG, INFO, WARN and ERROR are
// slog's own; the others sit between or above them, so that slog's ordering
// (and a *slog.LevelVar) works for all eight.
const (
	LevelDebug  = slog.LevelDebug     // SONiC DEBUG, syslog severity 7
	LevelInfo   = slog.LevelInfo      // SONiC INFO, severity 6
	LevelNotice = slog.LevelInfo + 2  // SONiC NOTICE, severity 5
	LevelWarn   = slog.LevelWarn      // SONiC WARN, severity 4
	LevelError  = slog.LevelError     // SONiC ERROR, severity 3
	LevelCrit   = slog.LevelError + 2 // SONiC CRIT, severity 2
	LevelAlert  = slog.LevelError + 4 // SONiC ALERT, severity 1
	LevelEmerg  = slog.LevelError + 6 // SONiC EMERG, severity 0
)

// levels runs from the most to the least severe; its index is the syslog
// severity (RFC 5424 section 6.2.1).
var levels = [...]struct {
	level slog.Level
	name  string
}{
	{LevelEmerg, "EMERG"},
	{LevelAlert, "ALERT"},
	{LevelCrit, "CRIT"},
	{LevelError, "ERROR"},
	{LevelWarn, "WARN"},
	{LevelNotice, "NOTICE"},
	{LevelInfo, "INFO"},
	{LevelDebug, "DEBUG"},
}

// Severity returns the syslog severity (0 emergency ... 7 debug) of l: that
// of the most severe SONiC level at or below l. Anything below DEBUG is
// debug.
func Severity(l slog.Level) int {
	for sev, lv := range levels {
		if l >= lv.level {
			return sev
		}
	}
	return len(levels) - 1
}

// LevelName returns SONiC's name for l ("NOTICE", "CRIT" ...). A level
// between two named ones is shown as the lower name plus the offset, as slog
// does ("NOTICE+1").
func LevelName(l slog.Level) string {
	lv := levels[Severity(l)]
	if l == lv.level {
		return lv.name
	}
	return fmt.Sprintf("%s%+d", lv.name, l-lv.level)
}

// ParseSONiCLevel parses one of SONiC's level names as found in CONFIG_DB
// LOGGER|<daemon> LOGLEVEL: EMERG, ALERT, CRIT, ERROR, WARN, NOTICE, INFO or
// DEBUG, in any case.
func ParseSONiCLevel(s string) (slog.Level, error) {
	for _, lv := range levels {
		if strings.EqualFold(s, lv.name) {
			return lv.level, nil
		}
	}
	return 0, fmt.Errorf("logging: level %q: want one of EMERG, ALERT, CRIT, ERROR, WARN, NOTICE, INFO, DEBUG", s)
}

// ParseLevel parses a level given on the command line: one of SONiC's names
// (see ParseSONiCLevel) or anything slog.Level's UnmarshalText accepts
// ("debug", "warn", "INFO+2" ...).
func ParseLevel(s string) (slog.Level, error) {
	if l, err := ParseSONiCLevel(s); err == nil {
		return l, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("logging: level %q: want a SONiC name (EMERG ... NOTICE, INFO, DEBUG) or debug, info, warn, error", s)
	}
	return l, nil
}

// replaceLevel renders the level attribute with SONiC's names; it is the
// ReplaceAttr of the stderr handlers.
func replaceLevel(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && len(groups) == 0 {
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(LevelName(l))
		}
	}
	return a
}

// Notice logs at SONiC's NOTICE, its default level: what an operator
// should see without asking (start-up, state written, resyncs).
func Notice(l *slog.Logger, msg string, args ...any) {
	l.Log(context.Background(), LevelNotice, msg, args...)
}
