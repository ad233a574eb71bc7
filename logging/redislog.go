package logging

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// RedisLogger adapts a *slog.Logger to go-redis's logging interface, for
// redis.SetLogger: instead of go-redis's own "redis: <date> pool.go:770:
// ..." lines on stderr, each message becomes one WARN record
// "redis client message" with lib=go-redis, the subsystem go-redis names
// ("connection pool", "pubsub" ...) and the text under detail.
type RedisLogger struct{ log *slog.Logger }

// NewRedisLogger returns a RedisLogger writing to log.
func NewRedisLogger(log *slog.Logger) *RedisLogger {
	return &RedisLogger{log: log.With(KeyLib, "go-redis")}
}

// Printf logs one go-redis message. go-redis does not say how severe its
// messages are; they are failures or surprises, so WARN.
func (l *RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	if !l.log.Enabled(ctx, LevelWarn) {
		return
	}
	subsystem, detail := splitRedisMessage(fmt.Sprintf(format, v...))
	if subsystem == "" {
		l.log.LogAttrs(ctx, LevelWarn, "redis client message", slog.String("detail", detail))
		return
	}
	l.log.LogAttrs(ctx, LevelWarn, "redis client message", slog.String("subsystem", subsystem), slog.String("detail", detail))
}

// splitRedisMessage takes "redis: connection pool: failed to dial ..." apart
// into "connection pool" and "failed to dial ...".
func splitRedisMessage(s string) (subsystem, detail string) {
	s = strings.TrimSpace(strings.TrimPrefix(s, "redis: "))
	if sub, rest, ok := strings.Cut(s, ": "); ok && isSubsystem(sub) {
		return sub, rest
	}
	return "", s
}

// isSubsystem accepts a short lower-case name such as "pubsub",
// "connection pool" or "sentinel", and nothing that looks like the start of
// a sentence or an address.
func isSubsystem(s string) bool {
	if s == "" || len(s) > 24 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}
