package daemon

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors/kstats"
	"github.com/sonic-go/portsyncd/actors/portstate"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/metrics"
	"github.com/sonic-go/portsyncd/pipeline"
)

// sources reads the figures /metrics exports from the actors' counters.
func sources(stats *Stats, pl pipeline.Pipeline) metrics.Sources {
	nl, ps, wr := &stats.Pipeline.Netlink, &stats.Pipeline.Ports, &stats.Pipeline.Writer
	return metrics.Sources{
		Netlink: func() metrics.NetlinkCounters {
			return metrics.NetlinkCounters{
				NewLinks: nl.NewLinks.Load(), DelLinks: nl.DelLinks.Load(), Batches: nl.Batches.Load(),
				Overruns: nl.Overruns.Load(), Resyncs: nl.Resyncs.Load(), DecodeErrors: nl.DecodeErrors.Load(),
				BatchesInFlight: pl.Credits.InUse(),
			}
		},
		Ports: func() metrics.PortCounters {
			return metrics.PortCounters{
				Ignored: metrics.IgnoredCounters{
					Family:        ps.Ignored[portstate.ReasonFamily].Load(),
					Name:          ps.Ignored[portstate.ReasonName].Load(),
					Team:          ps.Ignored[portstate.ReasonTeam].Load(),
					Master:        ps.Ignored[portstate.ReasonMaster].Load(),
					OldInterface:  ps.Ignored[portstate.ReasonOld].Load(),
					NotConfigured: wr.NotInTable.Load(),
					Unchanged:     nl.Unchanged.Load(),
				},
				Renames: ps.Renames.Load(), Vanished: ps.Reconciled.Load(),
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
		Mailbox: func() map[string]int {
			depth := make(map[string]int, len(pl.Mailboxes))
			for role, g := range pl.Mailboxes {
				depth[role] = g.Depth()
			}
			return depth
		},
	}
}

// readiness reports /readyz: the start-up dump written, Redis reachable,
// PortInitDone published, or the ports it waits for.
func readiness(root *actor.RootContext, stats *Stats, pl pipeline.Pipeline, synced func() bool) metrics.ReadyFunc {
	return func(ctx context.Context) metrics.Readiness {
		wr := &stats.Pipeline.Writer
		r := metrics.Readiness{InitialSync: synced(), RedisConnected: !wr.RedisDown.Load(), PortInitDone: wr.InitDoneSent.Load()}
		if !r.PortInitDone {
			if d, ok := ask(ctx, root, pl.Ports); ok {
				r.PendingPorts, _ = d.State["pending"].([]string)
			}
		}
		return r
	}
}

// actorsDump answers /debug/actors with every actor's state.
func actorsDump(root *actor.RootContext, children map[string]*actor.PID) metrics.DumpFunc {
	return func(ctx context.Context) (any, error) {
		out := make(map[string]any, len(children))
		for name, pid := range children {
			if d, ok := ask(ctx, root, pid); ok {
				out[name] = d.State
			} else {
				out[name] = map[string]string{"error": "no answer"}
			}
		}
		return out, nil
	}
}

func ask(ctx context.Context, root *actor.RootContext, pid *actor.PID) (*messages.StateDump, bool) {
	timeout := time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	res, err := root.RequestFuture(pid, &messages.DumpState{}, timeout).Result()
	d, ok := res.(*messages.StateDump)
	return d, err == nil && ok
}

// kstatsProps is the kstats actor of a run.
func kstatsProps(stats *Stats, interval time.Duration, opts Options) *actor.Props {
	return kstats.New(kstats.Config{
		Interval: interval, Logger: opts.Logger.With("actor", "kstats"), Stats: &stats.Kstats,
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
func initialSync(ctx context.Context, root *actor.RootContext, stats *Stats, pl pipeline.Pipeline) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for stats.Pipeline.Netlink.Resyncs.Load() == 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	for _, pid := range []*actor.PID{pl.Ports, pl.Writer} {
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
