package portstate

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
)

// Stats are portstate's counters. They outlive restarts of the actor.
type Stats struct {
	Events     atomic.Uint64 // link events handled
	Ignored    atomic.Uint64 // events SONiC's filters drop
	Renames    atomic.Uint64 // same ifindex, new name: old name's key deleted
	Reconciled atomic.Uint64 // links gone from a dump without a DELLINK
	Restarts   atomic.Uint64 // incarnations after the first
}

// Config wires the portstate router.
type Config struct {
	DBWriter *actor.PID
	Credits  *messages.Credits
	// Pending are the configured ports whose STATE_DB entry is awaited
	// before PortInitDone (start-up step 4 and 5).
	Pending []string
	// Old are the ifindexes of old interfaces (start-up step 6); read-only.
	Old          map[uint32]bool
	InitDoneSent *atomic.Bool
	Logger       *slog.Logger
	Stats        *Stats
	started      atomic.Bool
}

// New returns the props of the portstate router. A failing port actor
// escalates to the router, whose restart rebuilds every port from a fresh
// dump.
func New(cfg *Config) *actor.Props {
	escalate := actor.NewOneForOneStrategy(0, 0, func(any) actor.Directive { return actor.EscalateDirective })
	return actor.PropsFromProducer(func() actor.Actor { return &router{cfg: cfg} },
		actor.WithSupervisor(escalate), actor.WithDispatcher(actors.Inline))
}

type router struct {
	cfg *Config
	log *slog.Logger

	byIndex map[uint32]string     // tracked links: ifindex -> port name
	ports   map[string]*actor.PID // port actors by name

	pending        map[string]bool
	sawBatch       bool
	initDoneAsked  bool
	awaitingResync bool
	seq            uint64
	outstanding    map[uint64]int // batch -> port actors yet to answer
	errands        []errand       // filled, never reused, so pointers stay valid
	flushes        []*actor.PID
}

func (r *router) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		r.start(ctx)
	case *messages.LinkBatch:
		r.batch(ctx, msg)
	case *errand:
		// A port actor has passed the errand on to dbwriter.
		if n := r.outstanding[msg.seq] - 1; n > 0 {
			r.outstanding[msg.seq] = n
		} else {
			delete(r.outstanding, msg.seq)
			r.cfg.Credits.Release()
			r.answerFlushes(ctx)
		}
	case *messages.StateWritten:
		for _, p := range msg.Ports {
			delete(r.pending, p)
		}
		r.maybeInitDone(ctx)
	case *messages.InjectFault:
		if name, ok := strings.CutPrefix(msg.Target, "port:"); ok {
			if pid, ok := r.ports[name]; ok {
				ctx.Send(pid, msg)
			}
			return
		}
		actors.Fail(msg)
	case *messages.Flush:
		r.flushes = append(r.flushes, ctx.Sender())
		r.answerFlushes(ctx)
	case *messages.DumpState:
		pending := slices.Sorted(func(yield func(string) bool) {
			for p := range r.pending {
				if !yield(p) {
					return
				}
			}
		})
		ctx.Respond(&messages.StateDump{Actor: "portstate", State: map[string]any{
			"links": len(r.byIndex), "port_actors": len(r.ports), "pending": pending,
			"awaiting_resync": r.awaitingResync, "batches_in_flight": len(r.outstanding),
			"events": r.cfg.Stats.Events.Load(), "ignored": r.cfg.Stats.Ignored.Load(),
			"renames": r.cfg.Stats.Renames.Load(), "reconciled": r.cfg.Stats.Reconciled.Load(),
		}})
	}
}

func (r *router) start(ctx actor.Context) {
	r.log = r.cfg.Logger
	r.byIndex = make(map[uint32]string)
	r.ports = make(map[string]*actor.PID)
	r.outstanding = make(map[uint64]int)
	r.pending = make(map[string]bool, len(r.cfg.Pending))
	for _, p := range r.cfg.Pending {
		r.pending[p] = true
	}
	if r.cfg.started.Swap(true) {
		// A restarted router knows nothing it can trust: it drops live
		// events until a complete dump has rebuilt every port, and takes
		// back the credits of batches its predecessor held.
		r.cfg.Stats.Restarts.Add(1)
		r.awaitingResync = true
		r.cfg.Credits.Reset()
		ctx.Send(ctx.Parent(), &messages.ResyncRequest{Reason: "portstate restarted"})
	}
}

func (r *router) batch(ctx actor.Context, b *messages.LinkBatch) {
	if r.awaitingResync && !b.Dump {
		r.cfg.Credits.Release()
		return
	}
	r.awaitingResync = false
	r.sawBatch = true
	r.seq++
	sent := 0
	if b.Dump {
		sent += r.reconcile(ctx, b.Events)
	}
	for i := range b.Events {
		sent += r.handle(ctx, &b.Events[i], b.Dump)
	}
	r.cfg.Stats.Events.Add(uint64(len(b.Events)))
	if b.Dump {
		// Only names absent from the dump are deleted, so this need not
		// wait for the port actors' writes of present ones.
		ctx.Send(r.cfg.DBWriter, &messages.Reconcile{Present: present(b.Events)})
	}
	if sent == 0 {
		r.cfg.Credits.Release()
		r.answerFlushes(ctx)
	} else {
		r.outstanding[r.seq] = sent
	}
	r.maybeInitDone(ctx)
}

// reconcile deletes the ports of links that a dump no longer holds: their
// DELLINK was lost.
func (r *router) reconcile(ctx actor.Context, events []messages.LinkEvent) int {
	present := make(map[uint32]bool, len(events))
	for _, ev := range events {
		if ev.Kind == messages.NewLink && ev.Family == 0 {
			present[ev.Index] = true
		}
	}
	sent := 0
	for idx, name := range r.byIndex {
		if !present[idx] {
			delete(r.byIndex, idx)
			r.cfg.Stats.Reconciled.Add(1)
			r.log.Info("link vanished without a DELLINK", "port", name, "ifindex", idx)
			r.send(ctx, name, true, messages.PortState{}, false)
			sent++
		}
	}
	return sent
}

// present returns the names of the links in a dump.
func present(events []messages.LinkEvent) map[string]bool {
	names := make(map[string]bool, len(events))
	for _, ev := range events {
		if ev.Kind == messages.NewLink && ev.Family == 0 {
			names[ev.Name] = true
		}
	}
	return names
}

// handle routes one event to its port actor; it returns the number of
// messages sent (0 or 1, 2 for a rename).
func (r *router) handle(ctx actor.Context, ev *messages.LinkEvent, dump bool) int {
	sent := 0
	if ev.Family == 0 {
		if prev, ok := r.byIndex[ev.Index]; ok && (prev != ev.Name || ev.Kind == messages.DelLink) {
			delete(r.byIndex, ev.Index)
			if prev != ev.Name {
				// Renamed: the old name's STATE_DB entry describes nothing.
				r.cfg.Stats.Renames.Add(1)
				r.log.Info("link renamed", "from", prev, "to", ev.Name, "ifindex", ev.Index)
				r.send(ctx, prev, true, messages.PortState{}, false)
				sent++
			}
		}
	}
	verdict, reason := Classify(*ev, r.isOld)
	switch verdict {
	case Ignore:
		r.cfg.Stats.Ignored.Add(1)
		if r.log.Enabled(context.Background(), slog.LevelDebug) {
			r.log.Debug("link message ignored", "port", ev.Name, "ifindex", ev.Index, "reason", reason)
		}
	case Delete:
		r.send(ctx, ev.Name, true, messages.PortState{}, false)
		sent++
	case Update:
		r.byIndex[ev.Index] = ev.Name
		r.send(ctx, ev.Name, false, StateOf(*ev), dump)
		sent++
	}
	return sent
}

// errandChunk errands are allocated at a time.
const errandChunk = 256

// send gives the port actor of name an errand of batch r.seq.
func (r *router) send(ctx actor.Context, name string, del bool, st messages.PortState, force bool) {
	if len(r.errands) == cap(r.errands) {
		r.errands = make([]errand, 0, errandChunk)
	}
	r.errands = r.errands[:len(r.errands)+1]
	e := &r.errands[len(r.errands)-1]
	*e = errand{
		seq:    r.seq,
		del:    del,
		write:  messages.StateWrite{Port: name, State: st, Force: force},
		delete: messages.StateDelete{Port: name},
	}
	ctx.Send(r.port(ctx, name), e)
}

func (r *router) isOld(idx uint32) bool { return r.cfg.Old[idx] }

func (r *router) port(ctx actor.Context, name string) *actor.PID {
	pid, ok := r.ports[name]
	if !ok {
		pid = ctx.Spawn(actor.PropsFromProducer(func() actor.Actor {
			return &port{name: name, dbwriter: r.cfg.DBWriter}
		}, actor.WithDispatcher(actors.Inline)))
		r.ports[name] = pid
	}
	return pid
}

func (r *router) maybeInitDone(ctx actor.Context) {
	if !r.sawBatch || r.initDoneAsked || len(r.pending) > 0 || r.cfg.InitDoneSent.Load() {
		return
	}
	r.initDoneAsked = true
	ctx.Send(r.cfg.DBWriter, &messages.PublishInitDone{})
}

func (r *router) answerFlushes(ctx actor.Context) {
	if len(r.outstanding) > 0 {
		return
	}
	for _, p := range r.flushes {
		ctx.Send(p, &messages.Flushed{})
	}
	r.flushes = r.flushes[:0]
}
