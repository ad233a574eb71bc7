package kstats

import (
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
)

// DefaultInterval is how often kstats samples when Config.Interval is zero.
const DefaultInterval = 5 * time.Second

// Stats are kstats's counters and its newest sample. They outlive restarts
// of the actor; only kstats writes them.
type Stats struct {
	latest   atomic.Pointer[Sample]
	started  atomic.Bool
	Samples  atomic.Uint64 // samples taken and published
	Errors   atomic.Uint64 // samples that failed: a file unreadable or malformed
	Restarts atomic.Uint64 // incarnations after the first
}

// Latest returns the newest sample, or nil before the first. The sample must
// not be modified.
func (s *Stats) Latest() *Sample { return s.latest.Load() }

// Config wires kstats. New copies it; nothing in it changes afterwards.
type Config struct {
	// Interval between samples; DefaultInterval when zero.
	Interval time.Duration
	Logger   *slog.Logger
	// Stats receives every sample; required.
	Stats *Stats
	// RcvBuf returns the receive buffer the kernel granted netlinkrx's
	// listen socket (netlinkrx's Stats.RcvBuf); nil leaves Sample.RcvBuf 0.
	RcvBuf func() int64
	// OnSample, if set, is called with each sample once it is stored, on
	// kstats's own goroutine; it must not block.
	OnSample func(*Sample)

	// parse is replaced by tests to make a parser fail; zero means
	// defaultParsers.
	parse parsers
}

// New returns the props of the kstats actor. It runs on a goroutine of its
// own (not a pipeline's Loop), so reading /proc never delays link events.
func New(cfg Config) *actor.Props {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.parse.netlink == nil {
		cfg.parse.netlink = defaultParsers.netlink
	}
	if cfg.parse.stat == nil {
		cfg.parse.stat = defaultParsers.stat
	}
	return actor.PropsFromProducer(func() actor.Actor { return &sampler{cfg: &cfg} })
}

// tick is sent by the actor's timer to itself; it carries the actor
// instance so that a tick outliving a restart is ignored (protoactor-go's
// timers are not tied to an actor's life).
type tick struct{ owner *sampler }

type sampler struct {
	cfg    *Config
	timer  *time.Timer
	failed bool // the last sample failed; logged once until one succeeds
}

func (k *sampler) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		if k.cfg.Stats.started.Swap(true) {
			// A parser that panicked may panic again: wait an interval
			// rather than fail at once, so a broken parser costs one
			// restart per interval, which the supervisor's limit bounds.
			k.cfg.Stats.Restarts.Add(1)
			k.arm(ctx)
			return
		}
		ctx.Send(ctx.Self(), &tick{owner: k})
	case *actor.Stopping, *actor.Restarting:
		if k.timer != nil {
			k.timer.Stop()
			k.timer = nil
		}
	case *tick:
		if msg.owner != k {
			return
		}
		k.sample()
		k.arm(ctx)
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.Heartbeat:
		ctx.Respond(&messages.Alive{})
	case *messages.DumpState:
		ctx.Respond(&messages.StateDump{Actor: "kstats", State: k.dump()})
	}
}

func (k *sampler) arm(ctx actor.Context) {
	root, self := ctx.ActorSystem().Root, ctx.Self()
	k.timer = time.AfterFunc(k.cfg.Interval, func() { root.Send(self, &tick{owner: k}) })
}

// sample reads /proc and publishes the result. A failed sample is counted
// and dropped: the previous one stays published, and its Time says how old
// it is.
func (k *sampler) sample() {
	s, err := k.take()
	if err != nil {
		k.cfg.Stats.Errors.Add(1)
		if !k.failed {
			k.cfg.Logger.Warn("sample failed", "err", err)
		}
		k.failed = true
		return
	}
	if k.failed {
		k.cfg.Logger.Info("sample recovered")
		k.failed = false
	}
	k.cfg.Stats.latest.Store(s)
	k.cfg.Stats.Samples.Add(1)
	if k.cfg.OnSample != nil {
		k.cfg.OnSample(s)
	}
}

func (k *sampler) take() (*Sample, error) {
	now := time.Now()
	src, err := read(k.cfg.RcvBuf)
	if err != nil {
		return nil, err
	}
	return build(now, src, k.cfg.parse)
}

func (k *sampler) dump() map[string]any {
	st := map[string]any{
		"samples":  k.cfg.Stats.Samples.Load(),
		"errors":   k.cfg.Stats.Errors.Load(),
		"restarts": k.cfg.Stats.Restarts.Load(),
	}
	s := k.cfg.Stats.Latest()
	if s == nil {
		return st
	}
	st["sampled_at"] = s.Time.Format(time.RFC3339Nano)
	st["netlink_sockets"] = len(s.Sockets)
	st["netlink_drops"] = s.NetlinkDrops
	st["netlink_queued_bytes"] = s.NetlinkQueued
	st["rcvbuf_bytes"] = s.RcvBuf
	st["ctxt_switches_voluntary"] = s.VoluntaryCtxtSwitches
	st["ctxt_switches_involuntary"] = s.InvoluntaryCtxtSwitches
	st["page_faults_minor"] = s.MinorFaults
	st["page_faults_major"] = s.MajorFaults
	return st
}
