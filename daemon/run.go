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

	"github.com/sonic-go/portsyncd/actors"
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
	// Watchdog is how often each actor must answer; two missed answers in
	// a row end Run with an error. Under systemd's watchdog it is at most
	// half of WATCHDOG_USEC.
	Watchdog time.Duration
	// DrainTimeout bounds the shutdown's wait for pending writes.
	DrainTimeout time.Duration
	// MetricsAddr is where /metrics, /healthz, /readyz and /debug/actors
	// are served; empty: not served.
	MetricsAddr string
	// Pprof adds net/http/pprof's /debug/pprof/ to MetricsAddr's server.
	Pprof bool
	// DumpDir receives the state dumps asked for with SIGUSR1.
	DumpDir string
	// KstatsEvery is how often kernel and process figures are sampled.
	KstatsEvery time.Duration
	Logger      *slog.Logger
	// LibLogger is handed to protoactor-go for its own messages.
	LibLogger *slog.Logger
	// FailFast ends RunNamespaces when one namespace is given up, instead
	// of reporting it down while the others keep serving.
	FailFast bool
	// Build names the binary in /metrics (portsyncd_build_info).
	Build metrics.BuildInfo
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
	interval, err := sdnotify.WatchdogInterval()
	if err != nil {
		log.Warn("systemd watchdog not served", "err", err)
	}
	// Heartbeats follow systemd's watchdog, so that every ping finds a
	// fresh answer.
	opts.Watchdog = sdnotify.HeartbeatPeriod(interval, opts.Watchdog)
	status("waiting for Redis at "+dbs.Appl.Addr(), log)
	if err := dbs.WaitReady(ctx, log, opts.MaxBackoff); err != nil {
		return err
	}
	logging.Notice(log, "redis ready")
	st, err := startup.Run(ctx, dbs, opts.RcvBuf, log)
	if err != nil {
		return err
	}
	r, err := spawn(dbs, st, opts, stats)
	if err != nil {
		return err
	}
	defer r.wait()
	logging.Notice(log, "ready", "ports_configured", len(st.Ports), "pending", len(st.Pending), "old_interfaces", len(st.Old))
	r.pinger = sdnotify.NewPinger(interval, r.hb.Within(2*opts.Watchdog))
	r.observe()
	return r.serve(ctx, req)
}

// status tells systemd what the daemon is doing (systemctl status shows
// it).
func status(s string, log *slog.Logger) {
	if err := sdnotify.Status(s); err != nil {
		log.Warn("systemd status not sent", "err", err)
	}
}

// redisTimeout bounds one batch's round trips to Redis: within half the
// watchdog's period, so that a stalled Redis is seen as a Redis outage
// (the batch is taken back, heartbeats answered) and not as a wedged
// actor.
func redisTimeout(watchdog time.Duration) time.Duration {
	return min(500*time.Millisecond, watchdog/2)
}

// running is one run's actors and the goroutines that watch them.
type running struct {
	// namespace is the namespace served (--namespace), "" for the
	// process's own.
	namespace string
	opts      Options
	log       *slog.Logger
	stats     *Stats
	root      *actor.RootContext
	sup       *actor.PID
	pl        pipeline.Pipeline
	children  map[string]*actor.PID
	mailbox   map[string]*actors.Mailbox
	fatal     chan error
	live      *metrics.Liveness
	hb        *sdnotify.Heartbeat
	pinger    *sdnotify.Pinger
	synced    atomic.Bool
	observer  lateObserver

	loopGrace time.Duration // how long to wait for the Loop to end

	bgCtx context.Context
	bgEnd context.CancelFunc
	bg    sync.WaitGroup
}

// spawn starts the actor system, the supervisor, and under it the pipeline
// and kstats.
func spawn(dbs *sonicdb.DBs, st *startup.Result, opts Options, stats *Stats) (*running, error) {
	return spawnTree(newSystem(opts), subtree{supervisor: "supervisor", dbs: dbs, st: st, kstats: true}, opts, stats)
}

// newSystem is the actor system of a run.
func newSystem(opts Options) *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return opts.LibLogger }))
}

// subtree is what spawnTree puts under one supervisor: a pipeline, and
// kstats if asked.
type subtree struct {
	// supervisor names the subtree's supervisor: "supervisor" for the
	// process's own namespace, the namespace's name with --namespace.
	supervisor string
	namespace  string // --namespace's name, "" without
	dbs        *sonicdb.DBs
	st         *startup.Result
	netns      int // the pipeline's network namespace (0: the process's)
	kstats     bool
}

// spawnTree starts, in system, a supervisor named t.supervisor, and under
// it t's pipeline (and kstats if t.kstats).
func spawnTree(system *actor.ActorSystem, t subtree, opts Options, stats *Stats) (*running, error) {
	r := &running{namespace: t.namespace, opts: opts, log: opts.Logger, stats: stats, root: system.Root, fatal: make(chan error, 1),
		hb: &sdnotify.Heartbeat{}, loopGrace: time.Second}
	spawned := make(chan pipeline.Pipeline, 1)
	kstatsBox := actors.NewMailbox(actors.DefaultMailboxLimit)
	children := func(ctx actor.Context) error {
		p, err := pipeline.Spawn(ctx, pipeline.Config{
			DBs: t.dbs, Start: t.st, Netns: t.netns, RcvBuf: opts.RcvBuf, MaxBackoff: opts.MaxBackoff, RedisTimeout: redisTimeout(opts.Watchdog),
			Recheck: opts.PortTableRecheck, Logger: r.log, Stats: &stats.Pipeline, Observer: &r.observer, Fatal: r.giveUp,
		})
		if err != nil {
			return err
		}
		if t.kstats {
			if _, err := ctx.SpawnNamed(kstatsProps(stats, opts).Configure(kstatsBox.Option()), "kstats"); err != nil {
				return err
			}
		}
		select {
		case spawned <- p:
		default:
		}
		return nil
	}
	policy := supervisor.Policy{MaxRestarts: opts.MaxRestarts, Window: opts.RestartWindow, Logger: r.log, GiveUp: r.giveUp}
	// Named, so that actors log as "supervisor/dbwriter" and the like.
	sup, err := r.root.SpawnNamed(supervisor.New(policy, &stats.Restarts, children), t.supervisor)
	if err != nil {
		return nil, fmt.Errorf("daemon: spawn supervisor: %w", err)
	}
	r.sup = sup
	select {
	case r.pl = <-spawned:
	case err := <-r.fatal:
		stopWithin(r.root, sup, time.Second)
		return nil, err
	}
	r.children = r.pl.Actors()
	r.mailbox = maps.Clone(r.pl.Mailboxes)
	if t.kstats {
		r.children["kstats"] = actor.NewPID(sup.Address, sup.Id+"/kstats")
		r.mailbox["kstats"] = kstatsBox
	}
	r.live = metrics.NewLiveness(3*opts.Watchdog, slices.Sorted(maps.Keys(r.children))...)
	r.bgCtx, r.bgEnd = context.WithCancel(context.Background())
	return r, nil
}

func (r *running) giveUp(err error) {
	select {
	case r.fatal <- err:
	default:
	}
}

// background runs f on a goroutine of its own until the run ends.
func (r *running) background(f func(context.Context)) {
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		f(r.bgCtx)
	}()
}

// fatalGrace bounds each wait for the actors when the run failed.
const fatalGrace = 250 * time.Millisecond

// wait ends the background goroutines and the pipeline's Loop.
func (r *running) wait() {
	r.bgEnd()
	waitWithin(&r.bg, bgGrace)
	r.pl.Loop.Close(r.loopGrace)
}

// bgGrace bounds the wait for the background goroutines at the end of a
// run: each ends at its next look at its context, but the watchdog may be
// waiting a whole period for its answers, and a shutdown must not.
const bgGrace = 250 * time.Millisecond

// waitWithin waits for wg at most d.
func waitWithin(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// serve carries out the operator's requests until the run ends.
func (r *running) serve(ctx context.Context, req Requests) error {
	for {
		select {
		case <-req.DumpState:
			dumpState(r)
		case <-req.Resync:
			r.root.Send(r.pl.Netlink, &messages.ResyncRequest{Reason: "SIGHUP"})
		case f := <-req.Faults:
			injectFault(r.root, r.children, f, r.log)
		case err := <-r.fatal:
			r.live.Stopped(err)
			// A wedged actor never stops, nor its Loop: do not wait for
			// them for long.
			stopWithin(r.root, r.sup, fatalGrace)
			r.loopGrace = fatalGrace
			return err
		case <-ctx.Done():
			_ = sdnotify.Stopping()
			status("draining: writing what was read to Redis", r.log)
			err := drain(r.root, r.pl, r.opts.DrainTimeout, r.log)
			stopWithin(r.root, r.sup, time.Second)
			if err != nil {
				return err
			}
			logging.Notice(r.log, "stopped")
			return nil
		}
	}
}

// stopTree stops the run's supervisor and its pipeline's Loop, waiting at
// most d for each: a namespace given up must not leave its goroutine.
func (r *running) stopTree(d time.Duration) {
	stopWithin(r.root, r.sup, d)
	r.pl.Loop.Close(d)
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
