package portstate

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

// Stats are portstate's counters. They outlive restarts of the actor.
type Stats struct {
	Events   atomic.Uint64                   // link events handled
	Ignored  [sonic.NumReasons]atomic.Uint64 // events SONiC's filters drop, by sonic.Reason (sonic.Filters)
	Renames  atomic.Uint64                   // same ifindex, new name: old name's key deleted
	Vanished atomic.Uint64                   // links gone from a dump without a DELLINK
	Restarts atomic.Uint64                   // incarnations after the first
	Pending  atomic.Int64                    // configured ports awaited before PortInitDone
	Links    atomic.Int64                    // links tracked
}

// Config is the portstate actor's wiring; it does not change after spawn.
type Config struct {
	Writer  *actor.PID // dbwriter: receives StateOps
	Netlink *actor.PID // netlinkrx: asked for a dump after a restart
	Start   Start
	Logger  *slog.Logger
	Stats   *Stats
}

// New returns the props of the portstate actor. It is to run on its
// pipeline's actors.Loop, with netlinkrx and dbwriter: deciding costs no
// goroutine hand-off.
func New(cfg Config) *actor.Props {
	var incarnations atomic.Uint64
	return actor.PropsFromProducer(func() actor.Actor {
		return &portActor{cfg: cfg, restarted: incarnations.Add(1) > 1}
	})
}

// portActor feeds the core and carries out its effects.
type portActor struct {
	cfg       Config
	core      *Core
	restarted bool
}

func (s *portActor) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		s.core = NewCore(s.cfg.Start)
		if s.restarted {
			// A restarted portstate trusts nothing it had: it drops live
			// events until a complete dump has rebuilt every port.
			s.cfg.Stats.Restarts.Add(1)
			s.core.AwaitResync()
			ctx.Send(s.cfg.Netlink, &messages.ResyncRequest{Reason: "portstate restarted"})
		}
		s.publish()
	case *messages.LinkBatch:
		effects := s.core.Batch(msg, nil)
		s.carryOut(ctx, msg, &effects)
	case *messages.StateWritten:
		if s.core.Written(msg.Ports) {
			ctx.Send(s.cfg.Writer, &messages.StateOps{InitDone: true})
		}
		s.publish()
	case *messages.Heartbeat:
		ctx.Respond(&messages.Alive{})
	case *messages.Flush:
		// Every batch was passed on as it came: nothing is held here.
		ctx.Respond(&messages.Flushed{})
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.DumpState:
		st := s.cfg.Stats
		ignored := make(map[string]uint64)
		for _, r := range sonic.Filters() {
			ignored[r.String()] = st.Ignored[r].Load()
		}
		ctx.Respond(&messages.StateDump{Actor: "portstate", State: map[string]any{
			"links": s.core.Links(), "ports": s.core.Ports(), "pending": s.core.Pending(), "awaiting_resync": s.core.AwaitingResync(),
			"events": st.Events.Load(), "ignored": ignored, "renames": st.Renames.Load(),
			"vanished": st.Vanished.Load(), "restarts": st.Restarts.Load(),
		}})
	}
}

func (s *portActor) carryOut(ctx actor.Context, b *messages.LinkBatch, effects *Effects) {
	st, log := s.cfg.Stats, s.cfg.Logger
	st.Events.Add(uint64(len(b.Events)))
	for r, n := range effects.Ignored {
		if n > 0 {
			st.Ignored[r].Add(uint64(n))
		}
	}
	for _, r := range effects.Renamed {
		st.Renames.Add(1)
		logging.Notice(log, "link renamed", "from", r.From, "to", r.To, "ifindex", r.Index)
	}
	for _, v := range effects.Vanished {
		st.Vanished.Add(1)
		logging.Notice(log, "link vanished without a DELLINK", "port", v.Name, "ifindex", v.Index)
	}
	if log.Enabled(context.Background(), slog.LevelDebug) {
		s.logEvents(b)
	}
	if !effects.Empty() {
		ctx.Send(s.cfg.Writer, &messages.StateOps{Ops: effects.Ops, Present: effects.Present, InitDone: effects.InitDone})
	}
	s.publish()
}

// logEvents logs every event of a batch at DEBUG, with the time from the
// kernel read to the decision.
func (s *portActor) logEvents(b *messages.LinkBatch) {
	latency := time.Since(b.Received).Microseconds()
	for i := range b.Events {
		ev := &b.Events[i]
		verdict, reason := Classify(*ev, s.core.isOld)
		v := [...]string{Ignore: "ignored:", Delete: "delete", Update: "update"}[verdict] + reason.String()
		s.cfg.Logger.LogAttrs(context.Background(), slog.LevelDebug, "link event", slog.String("verdict", v),
			slog.String(logging.KeyPort, ev.Name), slog.Uint64(logging.KeyIfindex, uint64(ev.Index)),
			slog.String(logging.KeyEvent, ev.Kind.String()), slog.Bool("dump", b.Dump),
			slog.Bool("admin_up", ev.AdminUp()), slog.Bool("oper_up", ev.OperUp()),
			slog.Uint64(logging.KeyMTU, uint64(ev.MTU)), slog.Int64(logging.KeyLatencyUS, latency))
	}
}

// publish makes the core's gauges readable from other goroutines.
func (s *portActor) publish() {
	s.cfg.Stats.Pending.Store(int64(len(s.core.pending)))
	s.cfg.Stats.Links.Store(int64(s.core.Links()))
}
