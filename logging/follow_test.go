package logging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/sonic-go/portsyncd/logging/logtest"
	"github.com/sonic-go/portsyncd/test/harness"
)

const loggerKey = "LOGGER|portsyncd"

// follow is FollowLevel running against a private redis-server, logging
// through a syslog handler governed by lv into l.
type follow struct {
	config *redis.Client
	lv     *slog.LevelVar
	l      *logtest.Listener
	log    *slog.Logger
}

// startFollow starts redis-server, lets prepare seed it, and runs
// FollowLevel at start-up level INFO (the daemon's --log-level default).
func startFollow(t *testing.T, every time.Duration, prepare func(ctx context.Context, c *redis.Client)) *follow {
	t.Helper()
	r := harness.StartRedis(t)
	f := &follow{config: r.Client(t, 4), lv: new(slog.LevelVar), l: logtest.ListenSyslog(t, "unixgram")}
	f.lv.Set(LevelInfo)
	f.log, _ = newSyslog(t, f.l, f.lv)
	if prepare != nil {
		prepare(context.Background(), f.config)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- FollowLevel(ctx, f.config, loggerKey, f.lv, f.log, every) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("FollowLevel returned %v, want context.Canceled", err)
		}
	})
	return f
}

func (f *follow) hset(t *testing.T, field, value string) {
	t.Helper()
	if err := f.config.HSet(context.Background(), loggerKey, field, value).Err(); err != nil {
		t.Fatal(err)
	}
}

// waitLevel waits until FollowLevel has set the level.
func (f *follow) waitLevel(t *testing.T, want slog.Level) {
	t.Helper()
	harness.Eventually(t, waitFor, func() bool { return f.lv.Level() == want },
		func() string { return fmt.Sprintf("level %s, want %s", LevelName(f.lv.Level()), LevelName(want)) })
}

// changed matches the line that logs a change of level.
func changed(from, to string) func(logtest.Message) bool {
	return func(m logtest.Message) bool {
		f, _ := m.Param(SDMeta, "from")
		tt, _ := m.Param(SDMeta, "to")
		return strings.HasPrefix(m.Msg, "log level changed") && f == from && tt == to
	}
}

// probe logs a DEBUG line, then a NOTICE marker, and reports whether the
// DEBUG line reached syslog: the queue is first in, first out, so once the
// marker is there the DEBUG line is too, if it was logged.
func (f *follow) probe(t *testing.T, name string) bool {
	t.Helper()
	f.log.Debug("probe", "name", name)
	f.log.Log(context.Background(), LevelNotice, "marker", "name", name)
	f.l.WaitSyslog(t, waitFor, func(m logtest.Message) bool {
		v, _ := m.Param(SDMeta, "name")
		return strings.HasPrefix(m.Msg, "marker") && v == name
	})
	for _, m := range f.l.Syslog(t) {
		if v, _ := m.Param(SDMeta, "name"); strings.HasPrefix(m.Msg, "probe") && v == name {
			if m.Severity != 7 {
				t.Errorf("probe with severity %d, want 7", m.Severity)
			}
			return true
		}
	}
	return false
}

// No LOGGER|portsyncd: SONiC's defaults are written and followed. An
// operator's LOGLEVEL is kept, and only the missing field is added.
func TestFollowLevelDefaults(t *testing.T) {
	t.Run("absent", func(t *testing.T) {
		f := startFollow(t, time.Hour, nil)
		f.l.WaitSyslog(t, waitFor, changed("INFO", "NOTICE"))
		f.waitLevel(t, LevelNotice)
		got := f.config.HGetAll(context.Background(), loggerKey).Val()
		if got["LOGLEVEL"] != "NOTICE" || got["LOGOUTPUT"] != "SYSLOG" || len(got) != 2 {
			t.Errorf("%s = %v, want LOGLEVEL NOTICE LOGOUTPUT SYSLOG", loggerKey, got)
		}
	})
	t.Run("operator's level", func(t *testing.T) {
		f := startFollow(t, time.Hour, func(ctx context.Context, c *redis.Client) {
			c.HSet(ctx, loggerKey, "LOGLEVEL", "DEBUG", "other", "x")
		})
		f.l.WaitSyslog(t, waitFor, changed("INFO", "DEBUG"))
		f.waitLevel(t, LevelDebug)
		got := f.config.HGetAll(context.Background(), loggerKey).Val()
		if got["LOGLEVEL"] != "DEBUG" || got["LOGOUTPUT"] != "SYSLOG" || got["other"] != "x" || len(got) != 3 {
			t.Errorf("%s = %v, want LOGLEVEL DEBUG (kept) LOGOUTPUT SYSLOG (added) other x", loggerKey, got)
		}
	})
	t.Run("operator's output", func(t *testing.T) {
		f := startFollow(t, time.Hour, func(ctx context.Context, c *redis.Client) {
			c.HSet(ctx, loggerKey, "LOGOUTPUT", "STDERR")
		})
		f.waitLevel(t, LevelNotice)
		got := f.config.HGetAll(context.Background(), loggerKey).Val()
		if got["LOGLEVEL"] != "NOTICE" || got["LOGOUTPUT"] != "STDERR" {
			t.Errorf("%s = %v, want LOGLEVEL NOTICE (added) LOGOUTPUT STDERR (kept)", loggerKey, got)
		}
	})
}

// With keyspace notifications on (the operator's job; the test plays the
// operator) and no periodic re-read for an hour, DEBUG takes effect at
// once: debug lines appear; back to NOTICE, they stop.
func TestFollowLevelNotifications(t *testing.T) {
	f := startFollow(t, time.Hour, func(ctx context.Context, c *redis.Client) {
		if err := c.ConfigSet(ctx, "notify-keyspace-events", "Kh").Err(); err != nil {
			t.Fatal(err)
		}
	})
	f.waitLevel(t, LevelNotice)
	if f.probe(t, "at NOTICE") {
		t.Fatalf("debug line logged at NOTICE")
	}
	f.hset(t, "LOGLEVEL", "DEBUG")
	f.waitLevel(t, LevelDebug)
	f.l.WaitSyslog(t, waitFor, changed("NOTICE", "DEBUG"))
	if !f.probe(t, "at DEBUG") {
		t.Errorf("no debug line after LOGLEVEL DEBUG")
	}
	f.hset(t, "LOGLEVEL", "NOTICE")
	f.waitLevel(t, LevelNotice)
	f.l.WaitSyslog(t, waitFor, changed("DEBUG", "NOTICE"))
	if f.probe(t, "back at NOTICE") {
		t.Errorf("debug line after LOGLEVEL NOTICE")
	}
}

// Notifications off (Redis's default): the periodic re-read finds the
// change.
func TestFollowLevelPeriodic(t *testing.T) {
	f := startFollow(t, 20*time.Millisecond, nil)
	f.waitLevel(t, LevelNotice)
	f.hset(t, "LOGLEVEL", "debug")
	f.waitLevel(t, LevelDebug)
	if !f.probe(t, "at DEBUG") {
		t.Errorf("no debug line after LOGLEVEL debug")
	}
}

// An invalid LOGLEVEL is logged once, however often it is read, and the
// level stays; a different invalid value is logged again.
func TestFollowLevelInvalid(t *testing.T) {
	f := startFollow(t, 10*time.Millisecond, nil)
	f.waitLevel(t, LevelNotice)
	invalid := func(v string) func(logtest.Message) bool {
		return func(m logtest.Message) bool {
			got, _ := m.Param(SDMeta, "value")
			return strings.HasPrefix(m.Msg, "invalid log level in CONFIG_DB") && got == v
		}
	}
	count := func(match func(logtest.Message) bool) int {
		n := 0
		for _, m := range f.l.Syslog(t) {
			if match(m) {
				n++
			}
		}
		return n
	}

	f.hset(t, "LOGLEVEL", "LOUD")
	m := f.l.WaitSyslog(t, waitFor, invalid("LOUD"))
	if m.Severity != 4 {
		t.Errorf("invalid level logged with severity %d, want 4 (warning)", m.Severity)
	}
	// Let FollowLevel read the invalid value several more times.
	start := hgetCalls(t, f.config)
	harness.Eventually(t, waitFor, func() bool { return hgetCalls(t, f.config) >= start+5 }, nil)
	if f.lv.Level() != LevelNotice {
		t.Errorf("level %s after an invalid value, want NOTICE kept", LevelName(f.lv.Level()))
	}
	f.hset(t, "LOGLEVEL", "LOUDER")
	f.l.WaitSyslog(t, waitFor, invalid("LOUDER"))
	f.hset(t, "LOGLEVEL", "DEBUG")
	f.waitLevel(t, LevelDebug) // every read of LOUD and LOUDER is done
	if n := count(invalid("LOUD")); n != 1 {
		t.Errorf("LOUD logged %d times, want once", n)
	}
	if n := count(invalid("LOUDER")); n != 1 {
		t.Errorf("LOUDER logged %d times, want once", n)
	}
	// Valid in between: the same invalid value is news again.
	f.hset(t, "LOGLEVEL", "LOUD")
	harness.Eventually(t, waitFor, func() bool { return count(invalid("LOUD")) == 2 }, nil)
}

// hgetCalls returns how many HGETs the server has run.
func hgetCalls(t *testing.T, c *redis.Client) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if rest, ok := strings.CutPrefix(line, "cmdstat_hget:calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// go-redis's own messages (here: a Redis that is not there) arrive as one
// structured record each, through the same handler.
func TestRedisLogger(t *testing.T) {
	l := logtest.ListenSyslog(t, "unixgram")
	log, _ := newSyslog(t, l, LevelDebug)
	redis.SetLogger(NewRedisLogger(log))
	t.Cleanup(func() { redis.SetLogger(NewRedisLogger(slog.Default())) })

	c := redis.NewClient(&redis.Options{
		Network: "unix", Addr: t.TempDir() + "/no-redis.sock",
		MaxRetries: -1, DialTimeout: 100 * time.Millisecond, DisableIdentity: true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING answered without a server")
	}
	m := l.WaitSyslog(t, waitFor, func(m logtest.Message) bool { return strings.HasPrefix(m.Msg, "redis client message") })
	lib, _ := m.Param(SDMeta, "lib")
	sub, _ := m.Param(SDMeta, "subsystem")
	detail, _ := m.Param(SDMeta, "detail")
	if lib != "go-redis" || sub != "connection pool" || !strings.HasPrefix(detail, "failed to dial") || m.Severity != 4 {
		t.Errorf("got lib=%q subsystem=%q detail=%q severity %d; want go-redis, connection pool, failed to dial..., 4", lib, sub, detail, m.Severity)
	}
	if strings.Contains(m.Msg, "redis: ") || strings.Contains(m.Msg, ".go:") {
		t.Errorf("go-redis's own prefix or file:line in %q", m.Msg)
	}
}
