package logging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/sonic"
)

// FollowLevel keeps lv at the level CONFIG_DB holds in key's LOGLEVEL field
// (e.g. "LOGGER|portsyncd"), until ctx ends; it returns ctx's error.
//
// First it subscribes to the key's keyspace notifications
// (__keyspace@<db>__:<key>; enabling notify-keyspace-events is the
// operator's job, it never changes Redis configuration), then it writes the
// defaults, LOGLEVEL NOTICE and LOGOUTPUT SYSLOG, into whichever of the two
// fields is missing (HSETNX: an operator's value is never overwritten), then
// it reads LOGLEVEL. It reads again on each notification and every `every`
// (the fallback when notifications are off or were missed); a Redis that is
// unreachable is simply tried again then. A value that is not a SONiC level
// is logged once (until the value changes) and ignored; a missing field or
// key leaves the level as it is. Each change of level is logged at NOTICE.
func FollowLevel(ctx context.Context, client *redis.Client, key string, lv *slog.LevelVar, log *slog.Logger, every time.Duration) error {
	f := &follower{client: client, key: key, lv: lv, log: log}
	channel := fmt.Sprintf("__keyspace@%d__:%s", client.Options().DB, key)
	ps := client.Subscribe(ctx, channel)
	defer ps.Close()
	// Wait for the subscription to be confirmed, so that no change after
	// the first read goes unnoticed. Redis down: go on without it; the
	// Channel below keeps trying to subscribe, and the timer reads.
	if err := f.confirm(ctx, ps, every); err != nil {
		return err
	}
	notes := ps.Channel()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if !f.initialised {
			f.initialise(ctx)
		}
		if f.initialised {
			f.read(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-notes:
		case <-tick.C:
		}
	}
}

type follower struct {
	client      *redis.Client
	key         string
	lv          *slog.LevelVar
	log         *slog.Logger
	initialised bool   // the defaults are written
	invalid     string // the invalid value last logged
	failing     bool   // the last Redis command failed (logged once)
}

func (f *follower) confirm(ctx context.Context, ps *redis.PubSub, wait time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		msg, err := ps.Receive(cctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			f.redisFailed("subscribe", err)
			return nil
		}
		if _, ok := msg.(*redis.Subscription); ok {
			return nil
		}
	}
}

// initialise writes SONiC's defaults into the fields that are missing.
func (f *follower) initialise(ctx context.Context) {
	pipe := f.client.TxPipeline()
	pipe.HSetNX(ctx, f.key, sonic.FieldLogLevel, sonic.DefaultLogLevel)
	pipe.HSetNX(ctx, f.key, sonic.FieldLogOutput, sonic.DefaultLogOutput)
	if _, err := pipe.Exec(ctx); err != nil {
		f.redisFailed("write defaults", err)
		return
	}
	f.initialised = true
}

func (f *follower) read(ctx context.Context) {
	v, err := f.client.HGet(ctx, f.key, sonic.FieldLogLevel).Result()
	if errors.Is(err, redis.Nil) {
		f.failing = false
		return
	}
	if err != nil {
		f.redisFailed("read", err)
		return
	}
	f.failing = false
	l, err := ParseSONiCLevel(v)
	if err != nil {
		if v != f.invalid {
			f.invalid = v
			f.log.LogAttrs(ctx, LevelWarn, "invalid log level in CONFIG_DB, ignored",
				slog.String("key", f.key), slog.String("value", v), slog.String("level", LevelName(f.lv.Level())))
		}
		return
	}
	f.invalid = ""
	old := f.lv.Level()
	if l == old {
		return
	}
	// Logged at NOTICE under the more verbose of the two levels, so that it
	// shows whenever either level shows NOTICE.
	attrs := []slog.Attr{slog.String("key", f.key), slog.String("from", LevelName(old)), slog.String("to", LevelName(l))}
	if l > old {
		f.log.LogAttrs(ctx, LevelNotice, "log level changed", attrs...)
		f.lv.Set(l)
	} else {
		f.lv.Set(l)
		f.log.LogAttrs(ctx, LevelNotice, "log level changed", attrs...)
	}
}

// redisFailed logs a failing Redis once until it answers again: the
// daemon's Redis clients log an unreachable Redis already.
func (f *follower) redisFailed(what string, err error) {
	if f.failing {
		return
	}
	f.failing = true
	f.log.Debug("log level not read from CONFIG_DB", "key", f.key, "op", what, KeyErr, err)
}
