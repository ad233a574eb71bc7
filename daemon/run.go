package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors/kstats"
	"github.com/sonic-go/portsyncd/actors/supervisor"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/metrics"
	"github.com/sonic-go/portsyncd/pipeline"
	"github.com/sonic-go/portsyncd/sdnotify"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/startup"
)

// Options configure Run.
type Options struct {
	// RcvBuf is the netlink receive buffer to ask for, in bytes.
	RcvBuf int
	// MaxRestarts actor restarts within RestartWindow are tolerated; one
	// more ends Run with an error.
	MaxRestarts   int
	RestartWindow time.Duration
	// MaxBackoff caps the wait between Redis retries, everywhere.
	MaxBackoff time.Duration
	// PortTableRecheck is how often writes for ports not in APPL_DB
	// PORT_TABLE are checked again when Redis sends no keyspace events.
	PortTableRecheck time.Duration
	// Credits bounds the link batches in flight (see package actors).
	Credits int
	// Watchdog is how often each actor must answer; two missed answers in
	// a row end Run with an error.
	Watchdog time.Duration
	// DrainTimeout bounds the shutdown's wait for pending writes.
	DrainTimeout time.Duration
	// MetricsAddr is where /metrics, /healthz, /readyz and /debug/actors
	// are served; empty: not served.
	MetricsAddr string
	// DumpDir receives the state dumps asked for with SIGUSR1.
	DumpDir string
	// KstatsEvery is how often kernel and process figures are sampled.
	KstatsEvery time.Duration
	Logger      *slog.Logger
	// LibLogger is handed to protoactor-go for its own messages.
	LibLogger *slog.Logger
}

// Requests are the operator's requests while the daemon runs; nil channels
// never deliver.
type Requests struct {
	// DumpState asks every actor to log its state (SIGUSR1).
	DumpState <-chan struct{}
	// Resync asks for a fresh dump of the kernel's links (SIGHUP, the
	// only sender).
	Resync <-chan struct{}
	// Faults are injected faults to deliver (faultinject builds only).
	Faults <-chan messages.InjectFault
}

// Stats are everything Run counts.
type Stats struct {
	Pipeline pipeline.Stats
	Kstats   kstats.Stats
	Restarts supervisor.Restarts
}

// Run starts portsyncd on dbs and runs it until ctx ends (a clean shutdown
// that drains pending writes, returning nil) or an actor fails beyond repair
// (returning the error). stats may be nil.
func Run(ctx context.Context, dbs *sonicdb.DBs, opts Options, req Requests, stats *Stats) error {
	log := opts.Logger
	if stats == nil {
		stats = &Stats{}
	}
	if err := dbs.WaitReady(ctx, log, opts.MaxBackoff); err != nil {
		return err
	}
	logging.Notice(log, "redis ready")
	st, err := startup.Run(ctx, dbs, opts.RcvBuf, log)
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
	spawned := make(chan pipeline.Pipeline, 1)
	obs := &lateObserver{}
	spawn := func(ctx actor.Context) error {
		p, err := pipeline.Spawn(ctx, pipeline.Config{
			DBs: dbs, Start: st, RcvBuf: opts.RcvBuf, Credits: opts.Credits, MaxBackoff: opts.MaxBackoff,
			Recheck: opts.PortTableRecheck, Logger: log, Stats: &stats.Pipeline, Observer: obs,
		})
		if err != nil {
			return err
		}
		if _, err := ctx.SpawnNamed(kstatsProps(stats, opts.KstatsEvery, opts), "kstats"); err != nil {
			return err
		}
		select {
		case spawned <- p:
		default:
		}
		return nil
	}
	policy := supervisor.Policy{MaxRestarts: opts.MaxRestarts, Window: opts.RestartWindow, Logger: log, GiveUp: giveUp}
	// Named, so that actors log as "supervisor/dbwriter" and the like.
	sup, err := root.SpawnNamed(supervisor.New(policy, &stats.Restarts, spawn), "supervisor")
	if err != nil {
		return fmt.Errorf("daemon: spawn supervisor: %w", err)
	}
	var pl pipeline.Pipeline
	select {
	case pl = <-spawned:
	case err := <-fatal:
		stopWithin(root, sup, time.Second)
		return err
	}
	logging.Notice(log, "ready", "ports_configured", len(st.Ports), "pending", len(st.Pending), "old_interfaces", len(st.Old))
	children := pl.Actors()
	children["kstats"] = actor.NewPID(sup.Address, sup.Id+"/kstats")

	bgCtx, stopBackground := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		stopBackground()
		wg.Wait()
	}()
	background := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(bgCtx)
		}()
	}

	names := slices.Sorted(maps.Keys(children))
	live := metrics.NewLiveness(3*opts.Watchdog, names...)
	hb := &sdnotify.Heartbeat{}
	var synced atomic.Bool
	m := metrics.New(sources(stats, pl))
	obs.set(m)
	if opts.MetricsAddr != "" {
		srv, err := metrics.Listen(opts.MetricsAddr, m.Registry(), live.Check,
			readiness(root, stats, pl, synced.Load), actorsDump(root, children))
		if err != nil {
			// Metrics help operators; they are no reason to leave the
			// ports' state unwritten.
			log.Error("metrics not served", "addr", opts.MetricsAddr, "err", err)
		} else {
			logging.Notice(log, "serving metrics", "addr", srv.Addr().String())
			background(func(ctx context.Context) { _ = srv.Serve(ctx) })
		}
	}
	background(func(ctx context.Context) {
		watchdog(ctx, root, children, opts.Watchdog, giveUp, func(name string) { live.Answered(name) }, hb.Beat)
	})
	background(func(ctx context.Context) {
		// Healthy: the last watchdog round, at most 1.5 periods ago, had
		// every actor's answer. A wedged actor stops the pings within 3 s
		// here, before the watchdog's own verdict ends the process.
		if err := sdnotify.Watchdog(ctx, hb.Within(opts.Watchdog*3/2)); err != nil {
			log.Warn("systemd watchdog not served", "err", err)
		}
	})
	background(func(ctx context.Context) {
		if initialSync(ctx, root, stats, pl) {
			synced.Store(true)
			logging.Notice(log, "initial sync done")
			if err := sdnotify.Ready(); err != nil {
				log.Warn("systemd readiness not sent", "err", err)
			}
		}
	})

	for {
		select {
		case <-req.DumpState:
			dumpState(root, children, stats, opts.DumpDir, log)
		case <-req.Resync:
			root.Send(pl.Netlink, &messages.ResyncRequest{Reason: "SIGHUP"})
		case f := <-req.Faults:
			injectFault(root, children, f, log)
		case err := <-fatal:
			live.Stopped(err)
			// A wedged actor never stops: do not wait for it for long.
			stopWithin(root, sup, time.Second)
			return err
		case <-ctx.Done():
			_ = sdnotify.Stopping()
			drain(root, pl, opts.DrainTimeout, log)
			stopWithin(root, sup, time.Second)
			logging.Notice(log, "stopped")
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
