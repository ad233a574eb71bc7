package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/actors/dbwriter"
	"github.com/sonic-go/portsyncd/actors/netlinkrx"
	"github.com/sonic-go/portsyncd/actors/portstate"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Options configure Run.
type Options struct {
	// RcvBuf is the netlink receive buffer to ask for, in bytes.
	RcvBuf int
	// MaxRestarts actor restarts within RestartWindow are tolerated; one
	// more ends Run with an error.
	MaxRestarts   int
	RestartWindow time.Duration
	// MaxBackoff caps the wait between Redis retries.
	MaxBackoff time.Duration
	// Credits bounds the link batches in flight (see package actors).
	Credits int
	// Watchdog is how often each actor must answer; two missed answers in
	// a row end Run with an error.
	Watchdog time.Duration
	// DrainTimeout bounds the shutdown's wait for pending writes.
	DrainTimeout time.Duration
	// DumpState receives a value for each state dump asked for (SIGUSR1).
	DumpState <-chan struct{}
	// Resync receives a value for each fresh dump asked for (SIGHUP); it is
	// read only while the pipeline runs.
	Resync <-chan struct{}
	// Faults are injected faults to deliver (faultinject builds only).
	Faults <-chan messages.InjectFault
	Logger *slog.Logger
	// LibLogger is handed to protoactor-go for its own messages.
	LibLogger *slog.Logger
}

// Stats gathers every actor's counters.
type Stats struct {
	Netlink  netlinkrx.Stats
	Ports    portstate.Stats
	Writer   dbwriter.Stats
	Restarts atomic.Uint64
}

// pipeline is the actors and their wiring.
type pipeline struct {
	rx, router, writer *actor.PID
	spawned            chan struct{}
}

// Run starts portsyncd on dbs and runs it until ctx ends (a clean shutdown
// that drains pending writes, returning nil) or an actor fails beyond repair
// (returning the error). stats may be nil.
func Run(ctx context.Context, dbs *sonicdb.DBs, opts Options, stats *Stats) error {
	log := opts.Logger
	if stats == nil {
		stats = &Stats{}
	}
	if err := dbs.WaitReady(ctx, log, opts.MaxBackoff); err != nil {
		return err
	}
	log.Info("redis ready")
	st, err := start(ctx, dbs, opts.RcvBuf, log)
	if err != nil {
		return err
	}

	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return opts.LibLogger }))
	root := system.Root
	fatal := make(chan error, 1)
	giveUp := func(err error) {
		select {
		case fatal <- err:
		default:
		}
	}
	initDoneSent := &atomic.Bool{}
	credits := messages.NewCredits(opts.Credits)
	writerCfg := &dbwriter.Config{
		DBs: dbs, Logger: log.With("actor", "dbwriter"), Stats: &stats.Writer,
		ConfigPorts: st.ports, ColdStart: !st.warm, RestoreCount: st.restoreCount,
		InitDoneSent: initDoneSent, MaxBackoff: opts.MaxBackoff,
	}
	routerCfg := &portstate.Config{
		Credits: credits, Pending: st.pending, Old: st.old, InitDoneSent: initDoneSent,
		Logger: log.With("actor", "portstate"), Stats: &stats.Ports,
	}
	rxCfg := &netlinkrx.Config{
		Credits: credits, RcvBuf: opts.RcvBuf, Logger: log.With("actor", "netlinkrx"), Stats: &stats.Netlink,
	}
	rxCfg.Initial.Store(st.netlink)

	pl := &pipeline{spawned: make(chan struct{})}
	policy := &restartPolicy{max: opts.MaxRestarts, window: opts.RestartWindow, log: log, giveUp: giveUp, restarts: &stats.Restarts}
	sup := root.Spawn(actor.PropsFromProducer(func() actor.Actor {
		return &supervisor{pl: pl, writer: writerCfg, router: routerCfg, rx: rxCfg}
	}, actor.WithSupervisor(policy)))
	<-pl.spawned
	log.Info("ready", "ports_configured", len(st.ports), "pending", len(st.pending), "old_interfaces", len(st.old))

	children := map[string]*actor.PID{"netlinkrx": pl.rx, "portstate": pl.router, "dbwriter": pl.writer}
	wdCtx, stopWatchdog := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		watchdog(wdCtx, root, children, opts.Watchdog, giveUp)
	}()
	defer func() {
		stopWatchdog()
		wg.Wait()
	}()

	for {
		select {
		case <-opts.DumpState:
			dumpState(root, children, log)
		case <-opts.Resync:
			root.Send(pl.rx, &messages.ResyncRequest{Reason: "SIGHUP"})
		case f := <-opts.Faults:
			target, _, _ := strings.Cut(f.Target, ":")
			if target == "port" {
				target = "portstate"
			}
			if pid, ok := children[target]; ok {
				log.Warn("injecting fault", "target", f.Target, "wedge", f.Wedge)
				// Its own goroutine: an inline actor wedges its sender.
				go root.Send(pid, &f)
			}
		case err := <-fatal:
			// A wedged actor never stops: do not wait for it for long.
			stopWithin(root, sup, time.Second)
			return err
		case <-ctx.Done():
			drain(root, pl, opts.DrainTimeout, log)
			stopWithin(root, sup, time.Second)
			log.Info("stopped")
			return nil
		}
	}
}

func stopWithin(root *actor.RootContext, pid *actor.PID, d time.Duration) {
	stopped := make(chan struct{})
	go func() {
		root.StopFuture(pid).Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(d):
	}
}

// drain stops reading the kernel, then waits until everything read has gone
// through portstate and been acknowledged by Redis, or the timeout passes.
func drain(root *actor.RootContext, pl *pipeline, timeout time.Duration, log *slog.Logger) {
	deadline := time.Now().Add(timeout)
	root.StopFuture(pl.rx).Wait()
	for _, pid := range []*actor.PID{pl.router, pl.writer} {
		left := time.Until(deadline)
		if left <= 0 {
			left = time.Millisecond
		}
		if _, err := root.RequestFuture(pid, &messages.Flush{}, left).Result(); err != nil {
			log.Warn("shutdown before all state was written", "actor", pid.Id, "err", err)
			return
		}
	}
	log.Info("drained")
}

func watchdog(ctx context.Context, root *actor.RootContext, children map[string]*actor.PID, every time.Duration, giveUp func(error)) {
	missed := make(map[string]int)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for name, pid := range children {
			if _, err := root.RequestFuture(pid, &messages.DumpState{}, every).Result(); err != nil {
				if ctx.Err() != nil {
					return
				}
				missed[name]++
				if missed[name] >= 2 {
					giveUp(fmt.Errorf("supervisor: actor %s did not answer for %s: %w", name, 2*every, err))
					return
				}
				continue
			}
			missed[name] = 0
		}
	}
}

func dumpState(root *actor.RootContext, children map[string]*actor.PID, log *slog.Logger) {
	log.Info("process state", "goroutines", runtime.NumGoroutine())
	for name, pid := range children {
		res, err := root.RequestFuture(pid, &messages.DumpState{}, time.Second).Result()
		if err != nil {
			log.Warn("actor state unavailable", "actor", name, "err", err)
			continue
		}
		if d, ok := res.(*messages.StateDump); ok {
			log.Info("actor state", "actor", d.Actor, "state", d.State)
		}
	}
}

// supervisor is the parent of the pipeline's actors. It forwards resync
// requests of restarted actors to netlinkrx.
type supervisor struct {
	pl               *pipeline
	writer           *dbwriter.Config
	router           *portstate.Config
	rx               *netlinkrx.Config
	rxPID, routerPID *actor.PID
}

func (s *supervisor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		writer, err := ctx.SpawnNamed(dbwriter.New(s.writer), "dbwriter")
		if err != nil {
			panic(err)
		}
		s.router.DBWriter = writer
		router, err := ctx.SpawnNamed(portstate.New(s.router), "portstate")
		if err != nil {
			panic(err)
		}
		s.writer.Router.Store(router)
		s.rx.Router = router
		rx, err := ctx.SpawnNamed(netlinkrx.New(s.rx), "netlinkrx")
		if err != nil {
			panic(err)
		}
		s.pl.rx, s.pl.router, s.pl.writer = rx, router, writer
		close(s.pl.spawned)
	case *messages.ResyncRequest:
		ctx.Send(s.pl.rx, msg)
	}
}

// restartPolicy restarts a failed actor, and gives up once more than max
// restarts happened within window: a clean exit lets systemd start afresh.
type restartPolicy struct {
	max      int
	window   time.Duration
	log      *slog.Logger
	giveUp   func(error)
	restarts *atomic.Uint64

	mu    sync.Mutex
	times []time.Time
}

func (p *restartPolicy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, _ *actor.RestartStatistics, reason, _ any) {
	var stack string
	var pe *actors.Panic
	if err, ok := reason.(error); ok && errors.As(err, &pe) {
		stack = string(pe.Stack)
	}
	p.log.Error("actor failed", "actor", child.Id, "err", reason, "stack", stack)

	p.mu.Lock()
	now := time.Now()
	kept := p.times[:0]
	for _, t := range p.times {
		if now.Sub(t) < p.window {
			kept = append(kept, t)
		}
	}
	p.times = append(kept, now)
	n := len(p.times)
	p.mu.Unlock()

	if n > p.max {
		p.log.Error("too many actor restarts; exiting", "restarts", n, "window", p.window)
		p.giveUp(fmt.Errorf("supervisor: %d actor restarts within %s, last %s: %v", n, p.window, child.Id, reason))
		sup.StopChildren(child)
		return
	}
	p.restarts.Add(1)
	p.log.Warn("actor restarting", "actor", child.Id, "restarts_in_window", n)
	sup.RestartChildren(child)
}
