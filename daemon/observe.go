package daemon

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors/kstats"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/metrics"
	"github.com/sonic-go/portsyncd/sonic"
)

// observe starts what watches the run from outside the actors: the metrics
// server, the watchdog, systemd's readiness and watchdog pings. Each only
// posts to the actors and waits for their answers.
func (r *running) observe() {
	m := metrics.New(sources(r.stats, r))
	r.observer.set(m)
	if addr := r.opts.MetricsAddr; addr != "" {
		srv, err := metrics.Listen(addr, m.Registry(), r.live.Check,
			readiness(r.root, r.stats, r), memoDump(observeEvery, actorsDump(r.root, r.children)), metrics.WithPprof(r.opts.Pprof))
		if err != nil {
			// Metrics help operators; they are no reason to leave the
			// ports' state unwritten.
			r.log.Error("metrics not served", "addr", addr, "err", err)
		} else {
			logging.Notice(r.log, "serving metrics", "addr", srv.Addr().String())
			r.background(func(ctx context.Context) { _ = srv.Serve(ctx) })
		}
	}
	every := r.opts.Watchdog
	r.background(func(ctx context.Context) {
		watchdog(ctx, r.root, r.children, every, r.giveUp, r.live.Answered, r.hb.Beat)
	})
	r.background(func(ctx context.Context) {
		// Pings only while the last watchdog rounds heard every actor: a
		// wedged actor stops them before the watchdog's own verdict ends
		// the process.
		if err := r.pinger.Run(ctx); err != nil {
			r.log.Warn("systemd watchdog not served", "err", err)
		}
	})
	r.background(func(ctx context.Context) {
		if !initialSync(ctx, r.root, r.stats, r.pl.Ports, r.pl.Writer) {
			return
		}
		r.synced.Store(true)
		logging.Notice(r.log, "initial sync done")
		// The initial sync itself proves every actor works.
		r.hb.Beat()
		if err := r.pinger.Ready(); err != nil {
			r.log.Warn("systemd readiness not sent", "err", err)
		}
		r.followStatus(ctx)
	})
}

// followStatus keeps systemd's STATUS= line current until ctx ends: what
// PortInitDone waits for, or that the ports are synced, and whether Redis
// is reachable.
func (r *running) followStatus(ctx context.Context) {
	ps, wr := &r.stats.Pipeline.Ports, &r.stats.Pipeline.Writer
	last := ""
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		s := fmt.Sprintf("syncing: %d configured ports pending, PortInitDone not sent", ps.Pending.Load())
		if wr.InitDoneSent.Load() {
			s = fmt.Sprintf("ready: %d links, PortInitDone sent", ps.Links.Load())
		}
		if wr.RedisDown.Load() {
			s = "Redis unreachable, retrying; " + s
		}
		if s != last {
			status(s, r.log)
			last = s
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observeEvery is how long an answer of the actors serves /debug/actors:
// however often it is asked, the actors are asked at most this often.
const observeEvery = time.Second

// sources reads the figures /metrics exports from the actors' counters.
func sources(stats *Stats, r *running) metrics.Sources {
	nl, ps, wr := &stats.Pipeline.Netlink, &stats.Pipeline.Ports, &stats.Pipeline.Writer
	return metrics.Sources{
		Netlink: func() metrics.NetlinkCounters {
			return metrics.NetlinkCounters{
				NewLinks: nl.NewLinks.Load(), DelLinks: nl.DelLinks.Load(), Batches: nl.Batches.Load(),
				Overruns: nl.Overruns.Load(), Resyncs: nl.Resyncs.Load(), DecodeErrors: nl.DecodeErrors.Load(),
				Forged: nl.Forged.Load(), BatchesInFlight: r.pl.Mailboxes["portstate"].Depth(),
			}
		},
		Ports: func() metrics.PortCounters {
			return metrics.PortCounters{
				Ignored: metrics.IgnoredCounters{
					Family:        ps.Ignored[sonic.ReasonFamily].Load(),
					Name:          ps.Ignored[sonic.ReasonName].Load(),
					Team:          ps.Ignored[sonic.ReasonTeam].Load(),
					Master:        ps.Ignored[sonic.ReasonMaster].Load(),
					OldInterface:  ps.Ignored[sonic.ReasonOld].Load(),
					NotConfigured: wr.NotInTable.Load(),
					Unchanged:     nl.Repeats.Load(),
				},
				Renames: ps.Renames.Load(), Vanished: ps.Vanished.Load(),
				Known: int(ps.Links.Load()), Pending: int(ps.Pending.Load()),
				ConfigDoneSent: wr.ConfigSent.Load(), InitDoneSent: wr.InitDoneSent.Load(),
			}
		},
		Writer: func() metrics.WriterCounters {
			return metrics.WriterCounters{
				Writes: wr.Writes.Load(), Deletes: wr.Deletes.Load(), StaleDeletes: wr.Reconciled.Load(),
				Coalesced: wr.Coalesced.Load(), Unchanged: wr.Unchanged.Load(), RoundTrips: wr.Batches.Load(),
				Errors:         metrics.RedisErrors{Rejected: wr.Rejected.Load(), Connection: wr.ConnRetries.Load()},
				ServerRestarts: wr.RedisRestarts.Load(), HeldBack: int(wr.HeldBack.Load()),
			}
		},
		Kstats:   stats.Kstats.Latest,
		Restarts: stats.Restarts.ByActor,
		Ready: func() bool {
			return r.synced.Load() && !wr.RedisDown.Load() && wr.InitDoneSent.Load()
		},
		LogLinesDropped: logging.Dropped,
		Build:           r.opts.Build,
		Mailbox: func() map[string]int {
			depth := make(map[string]int, len(r.mailbox))
			for role, mb := range r.mailbox {
				depth[role] = mb.Depth()
			}
			return depth
		},
	}
}

// readiness reports /readyz: the start-up dump written, Redis reachable,
// PortInitDone published, or the ports it waits for. Only while PortInitDone
// is not published is portstate asked (which ports), at most once per
// observeEvery.
func readiness(root *actor.RootContext, stats *Stats, r *running) metrics.ReadyFunc {
	pending := memoDump(observeEvery, func(ctx context.Context) (any, error) {
		d, ok := ask(ctx, root, r.pl.Ports)
		if !ok {
			return []string(nil), nil
		}
		ports, _ := d.State["pending"].([]string)
		return ports, nil
	})
	return func(ctx context.Context) metrics.Readiness {
		wr := &stats.Pipeline.Writer
		rd := metrics.Readiness{InitialSync: r.synced.Load(), RedisConnected: !wr.RedisDown.Load(), PortInitDone: wr.InitDoneSent.Load()}
		if !rd.PortInitDone {
			ports, _ := pending(ctx)
			rd.PendingPorts, _ = ports.([]string)
			rd.NeverAppear = sonic.NeverAppear(rd.PendingPorts)
		}
		return rd
	}
}

// actorsDump answers /debug/actors with every actor's state. The actors
// are asked at once, and each answers between two of its messages.
func actorsDump(root *actor.RootContext, children map[string]*actor.PID) metrics.DumpFunc {
	return func(ctx context.Context) (any, error) {
		out := make(map[string]any, len(children))
		for name, d := range askAll(ctx, root, children) {
			if d != nil {
				out[name] = d.State
			} else {
				out[name] = map[string]string{"error": "no answer"}
			}
		}
		return out, nil
	}
}

// memoDump serves f's answer to every caller for ttl, and lets one caller
// at a time ask f: however many requests come, the actors are asked at most
// once per ttl.
func memoDump(ttl time.Duration, f metrics.DumpFunc) metrics.DumpFunc {
	var (
		mu   sync.Mutex
		at   time.Time
		last any
	)
	return func(ctx context.Context) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if !at.IsZero() && time.Since(at) < ttl {
			return last, nil
		}
		v, err := f(ctx)
		if err != nil {
			return nil, err
		}
		last, at = v, time.Now()
		return v, nil
	}
}

// askAll asks every actor for its state at once and waits for the answers;
// an actor that did not answer within ctx's deadline (or a second) is nil.
func askAll(ctx context.Context, root *actor.RootContext, children map[string]*actor.PID) map[string]*messages.StateDump {
	timeout := time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	futures := make(map[string]*actor.Future, len(children))
	for name, pid := range children {
		futures[name] = root.RequestFuture(pid, &messages.DumpState{}, timeout)
	}
	out := make(map[string]*messages.StateDump, len(children))
	for name, f := range futures {
		res, err := f.Result()
		d, _ := res.(*messages.StateDump)
		if err != nil {
			d = nil
		}
		out[name] = d
	}
	return out
}

func ask(ctx context.Context, root *actor.RootContext, pid *actor.PID) (*messages.StateDump, bool) {
	d := askAll(ctx, root, map[string]*actor.PID{"": pid})[""]
	return d, d != nil
}

// kstatsProps is the kstats actor of a run.
func kstatsProps(stats *Stats, opts Options) *actor.Props {
	return kstats.New(kstats.Config{
		Interval: opts.KstatsEvery, Logger: opts.Logger.With("actor", "kstats"), Stats: &stats.Kstats,
		RcvBuf: stats.Pipeline.Netlink.RcvBuf.Load,
	})
}

// lateObserver lets dbwriter be spawned before the metrics exist: until
// set, observations are dropped.
type lateObserver struct {
	m atomic.Pointer[metrics.Metrics]
}

func (o *lateObserver) set(m *metrics.Metrics) { o.m.Store(m) }

func (o *lateObserver) ObserveLatency(d time.Duration) {
	if m := o.m.Load(); m != nil {
		m.ObserveLatency(d)
	}
}

func (o *lateObserver) ObserveBatchSize(n int) {
	if m := o.m.Load(); m != nil {
		m.ObserveBatchSize(n)
	}
}

// initialSync waits until the start-up dump has gone through portstate and
// been acknowledged by Redis (or ctx ends) and reports whether it did.
// netlinkrx counts the dump once it is in portstate's mailbox, so a Flush
// sent after that is answered after it.
func initialSync(ctx context.Context, root *actor.RootContext, stats *Stats, ports, writer *actor.PID) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for stats.Pipeline.Netlink.Resyncs.Load() == 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	for _, pid := range []*actor.PID{ports, writer} {
		for {
			if _, err := root.RequestFuture(pid, &messages.Flush{}, time.Second).Result(); err == nil {
				break
			}
			if ctx.Err() != nil {
				return false
			}
		}
	}
	return true
}
