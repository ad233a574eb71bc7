package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors/supervisor"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/pipeline"
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
	Logger       *slog.Logger
	// LibLogger is handed to protoactor-go for its own messages.
	LibLogger *slog.Logger
}

// Requests are the operator's requests while the daemon runs; nil channels
// never deliver.
type Requests struct {
	// DumpState asks every actor to log its state (SIGUSR1).
	DumpState <-chan struct{}
	// Resync asks for a fresh dump of the kernel's links (SIGHUP).
	Resync <-chan struct{}
	// Faults are injected faults to deliver (faultinject builds only).
	Faults <-chan messages.InjectFault
}

// Stats are everything Run counts.
type Stats struct {
	Pipeline pipeline.Stats
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
	log.Info("redis ready")
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
	spawn := func(ctx actor.Context) error {
		p, err := pipeline.Spawn(ctx, pipeline.Config{
			DBs: dbs, Start: st, RcvBuf: opts.RcvBuf, Credits: opts.Credits, MaxBackoff: opts.MaxBackoff,
			Recheck: opts.PortTableRecheck, Logger: log, Stats: &stats.Pipeline,
		})
		if err == nil {
			select {
			case spawned <- p:
			default:
			}
		}
		return err
	}
	policy := supervisor.Policy{MaxRestarts: opts.MaxRestarts, Window: opts.RestartWindow, Logger: log, GiveUp: giveUp}
	sup := root.Spawn(supervisor.New(policy, &stats.Restarts, spawn))
	var pl pipeline.Pipeline
	select {
	case pl = <-spawned:
	case err := <-fatal:
		stopWithin(root, sup, time.Second)
		return err
	}
	log.Info("ready", "ports_configured", len(st.Ports), "pending", len(st.Pending), "old_interfaces", len(st.Old))
	children := pl.Actors()

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
		case <-req.DumpState:
			dumpState(root, children, log)
		case <-req.Resync:
			log.Info("resync requested by operator")
			root.Send(pl.Netlink, &messages.ResyncRequest{Reason: "operator"})
		case f := <-req.Faults:
			injectFault(root, children, f, log)
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
