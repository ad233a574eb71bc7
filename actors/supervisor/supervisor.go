package supervisor

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
)

// Policy is the restart policy.
type Policy struct {
	// MaxRestarts restarts within Window are tolerated; one more gives up.
	MaxRestarts int
	Window      time.Duration
	Logger      *slog.Logger
	// GiveUp is called, once, with the reason the process must end.
	GiveUp func(error)
}

// Restarts counts restarts by actor; safe for concurrent use.
type Restarts struct {
	mu      sync.Mutex
	byActor map[string]uint64
}

func (r *Restarts) add(actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byActor == nil {
		r.byActor = make(map[string]uint64)
	}
	r.byActor[actor]++
}

// ByActor returns the restarts so far, by actor id.
func (r *Restarts) ByActor() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.byActor)
}

// New returns the props of a supervisor whose children spawn creates when
// it starts. restarts may be nil.
func New(p Policy, restarts *Restarts, spawn func(actor.Context) error) *actor.Props {
	if restarts == nil {
		restarts = &Restarts{}
	}
	strategy := &strategy{Policy: p, restarts: restarts}
	return actor.PropsFromProducer(func() actor.Actor { return &supervisor{spawn: spawn, giveUp: p.GiveUp} },
		actor.WithSupervisor(strategy))
}

type supervisor struct {
	spawn  func(actor.Context) error
	giveUp func(error)
}

func (s *supervisor) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*actor.Started); ok {
		if err := s.spawn(ctx); err != nil {
			s.giveUp(fmt.Errorf("supervisor: %w", err))
		}
	}
}

// strategy restarts a failed child, and gives up once more than MaxRestarts
// restarts happened within Window. Unlike protoactor-go's OneForOneStrategy
// it never stops a child silently past its limit.
type strategy struct {
	Policy
	restarts *Restarts

	mu    sync.Mutex
	times []time.Time
}

func (p *strategy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ any) {
	var stack string
	var pe *actors.Panic
	if err, ok := reason.(error); ok && errors.As(err, &pe) {
		stack = string(pe.Stack)
	}
	p.Logger.Error("actor failed", "actor", child.Id, "err", reason, "stack", stack)
	n := p.record(time.Now())
	if n > p.MaxRestarts {
		p.Logger.Error("too many actor restarts; exiting", "restarts", n, "window", p.Window)
		p.GiveUp(fmt.Errorf("supervisor: %d actor restarts within %s, last %s: %v", n, p.Window, child.Id, reason))
		sup.StopChildren(child)
		return
	}
	p.restarts.add(child.Id)
	p.Logger.Warn("actor restarting", "actor", child.Id, "restarts_in_window", n)
	sup.RestartChildren(child)
}

// record notes a failure at now and returns the failures within the window.
func (p *strategy) record(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	kept := p.times[:0]
	for _, t := range p.times {
		if now.Sub(t) < p.Window {
			kept = append(kept, t)
		}
	}
	p.times = append(kept, now)
	return len(p.times)
}
