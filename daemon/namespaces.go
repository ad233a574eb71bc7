package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/actors/kstats"
	"github.com/sonic-go/portsyncd/actors/supervisor"
	"github.com/sonic-go/portsyncd/instance"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/metrics"
	"github.com/sonic-go/portsyncd/pipeline"
	"github.com/sonic-go/portsyncd/sdnotify"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/startup"
)

// Namespace is one ASIC's network namespace and databases (--namespace).
type Namespace struct {
	// Name is the namespace's name, as database_global.json and
	// /run/netns spell it; it names the subtree's supervisor and is the
	// "namespace" field of its log lines and label of its metrics.
	Name string
	DBs  *sonicdb.DBs
	// Netns is the file descriptor of the network namespace, held open by
	// the caller for the whole run.
	Netns int
}

// RunNamespaces serves every namespace of nss from this process, which
// stays in its own network namespace. Each namespace waits for its Redis
// and performs SONiC's start-up on its own, then runs its own supervised
// subtree (pipeline.Spawn under a supervisor named after it): its own
// pending set, PortInitDone, warm start, old interfaces and single-instance
// guard. An actor that fails is restarted by its namespace's supervisor;
// past opts.MaxRestarts within opts.RestartWindow, a watchdog verdict or a
// failed start-up, the namespace is given up: its subtree stops, it is
// reported down (log, /healthz, /readyz, portsyncd_namespace_up) and the
// others keep serving. With opts.FailFast, or once every namespace is down,
// Run ends with the error instead. A configuration error at start-up
// (another portsyncd holds the namespace, Redis refuses portsyncd, a
// database number the server lacks) ends the run: it does not mend.
//
// It ends like Run: nil after ctx ended and every namespace drained, else
// the error (errors.Join of each namespace's drain error).
func RunNamespaces(ctx context.Context, nss []Namespace, opts Options, req Requests) error {
	log := opts.Logger
	interval, err := sdnotify.WatchdogInterval()
	if err != nil {
		log.Warn("systemd watchdog not served", "err", err)
	}
	opts.Watchdog = sdnotify.HeartbeatPeriod(interval, opts.Watchdog)
	m := &multi{opts: opts, system: newSystem(opts), events: make(chan nsEvent, 4*len(nss)+4)}
	m.bgCtx, m.bgEnd = context.WithCancel(context.Background())
	defer m.wait()
	if err := m.spawnKstats(); err != nil {
		return err
	}
	for _, ns := range nss {
		n := &nsRun{ns: ns, log: log.With(logging.KeyNamespace, ns.Name), stats: &Stats{}}
		m.nss = append(m.nss, n)
	}
	m.observe(interval)
	startCtx, stopStarts := context.WithCancel(ctx)
	defer stopStarts()
	for _, n := range m.nss {
		m.starts.Add(1)
		go func() {
			defer m.starts.Done()
			m.start(startCtx, n)
		}()
	}
	return m.serve(ctx, req, stopStarts)
}

// multi is a run over several namespaces.
type multi struct {
	opts   Options
	system *actor.ActorSystem
	nss    []*nsRun
	// events are the namespaces' starts and failures, taken by serve.
	events chan nsEvent
	starts sync.WaitGroup

	kstats      *running // kstats under a supervisor of its own
	kstatsStats *Stats
	pinger      *sdnotify.Pinger
	readyOnce   sync.Once
	// nsMetrics are each namespace's histograms, by name.
	nsMetrics map[string]*metrics.Metrics

	bgCtx context.Context
	bgEnd context.CancelFunc
	bg    sync.WaitGroup
}

// nsRun is one namespace in a multi run.
type nsRun struct {
	ns    Namespace
	log   *slog.Logger
	stats *Stats

	// r is the namespace's subtree once spawned; serve's goroutine sets
	// it, others read it through the atomic.
	r    atomic.Pointer[running]
	down atomic.Pointer[error] // why it was given up
	// settled is set once the namespace's initial sync is done or it was
	// given up: systemd's READY waits for every namespace to settle.
	settled atomic.Bool
	failed  atomic.Bool // a failure was posted to serve
}

// nsEvent is a namespace's start (r set) or failure (err set).
type nsEvent struct {
	n   *nsRun
	r   *running
	err error
}

// fail posts n's failure to serve, once per subtree.
func (m *multi) fail(n *nsRun, err error) {
	if n.failed.CompareAndSwap(false, true) {
		m.events <- nsEvent{n: n, err: err}
	}
}

// start waits for n's Redis, performs its start-up and spawns its
// subtree, then tells serve.
func (m *multi) start(ctx context.Context, n *nsRun) {
	opts := m.opts
	opts.Logger = n.log
	if err := n.ns.DBs.WaitReady(ctx, n.log, opts.MaxBackoff); err != nil {
		m.fail(n, err)
		return
	}
	logging.Notice(n.log, "redis ready")
	st, err := startup.RunIn(ctx, n.ns.DBs, opts.RcvBuf, n.ns.Netns, n.log)
	if err != nil {
		m.fail(n, err)
		return
	}
	r, err := spawnTree(m.system, subtree{supervisor: n.ns.Name, namespace: n.ns.Name, dbs: n.ns.DBs, st: st, netns: n.ns.Netns}, opts, n.stats)
	if err != nil {
		m.fail(n, err)
		return
	}
	logging.Notice(n.log, "ready", "ports_configured", len(st.Ports), "pending", len(st.Pending), "old_interfaces", len(st.Old))
	m.events <- nsEvent{n: n, r: r}
}

// spawnKstats starts kstats, which samples the whole process, under a
// supervisor of its own.
func (m *multi) spawnKstats() error {
	m.kstatsStats = &Stats{}
	// kstats reports the receive buffer of the first namespace's listen
	// socket: every namespace asks for the same.
	first := func() int64 {
		if len(m.nss) == 0 {
			return 0
		}
		return m.nss[0].stats.Pipeline.Netlink.RcvBuf.Load()
	}
	opts := m.opts
	props := kstats.New(kstats.Config{
		Interval: opts.KstatsEvery, Logger: opts.Logger.With("actor", "kstats"), Stats: &m.kstatsStats.Kstats, RcvBuf: first,
	})
	box := actors.NewMailbox(actors.DefaultMailboxLimit)
	r := &running{opts: opts, log: opts.Logger, stats: m.kstatsStats, root: m.system.Root, fatal: make(chan error, 1),
		hb: &sdnotify.Heartbeat{}, loopGrace: time.Second}
	spawned := make(chan struct{}, 1)
	children := func(ctx actor.Context) error {
		if _, err := ctx.SpawnNamed(props.Configure(box.Option()), "kstats"); err != nil {
			return err
		}
		spawned <- struct{}{}
		return nil
	}
	policy := supervisor.Policy{MaxRestarts: opts.MaxRestarts, Window: opts.RestartWindow, Logger: r.log, GiveUp: r.giveUp}
	sup, err := r.root.SpawnNamed(supervisor.New(policy, &m.kstatsStats.Restarts, children), "supervisor")
	if err != nil {
		return fmt.Errorf("daemon: spawn supervisor: %w", err)
	}
	r.sup = sup
	select {
	case <-spawned:
	case err := <-r.fatal:
		stopWithin(r.root, sup, time.Second)
		return err
	}
	r.children = map[string]*actor.PID{"kstats": actor.NewPID(sup.Address, sup.Id+"/kstats")}
	r.mailbox = map[string]*actors.Mailbox{"kstats": box}
	r.live = metrics.NewLiveness(3*opts.Watchdog, "kstats")
	m.kstats = r
	return nil
}

// background runs f on a goroutine of its own until the run ends.
func (m *multi) background(f func(context.Context)) {
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		f(m.bgCtx)
	}()
}

// wait ends the background goroutines, the start-ups and each subtree's
// Loop.
func (m *multi) wait() {
	m.starts.Wait()
	// A subtree spawned after serve returned: stop it too.
	for {
		select {
		case ev := <-m.events:
			if ev.r != nil && ev.n.r.Load() == nil {
				ev.r.stopTree(fatalGrace)
				ev.r.wait()
			}
			continue
		default:
		}
		break
	}
	m.bgEnd()
	waitWithin(&m.bg, bgGrace)
	for _, n := range m.nss {
		if r := n.r.Load(); r != nil {
			r.wait()
		}
	}
}

// observe starts what watches the whole process: the metrics server, the
// kstats watchdog and systemd's watchdog pings.
func (m *multi) observe(interval time.Duration) {
	log := m.opts.Logger
	process := sources(m.kstatsStats, m.kstats)
	// The namespaces' collectors have these, with a namespace label; one
	// name must not come with two label sets.
	process.Netlink, process.Ports, process.Writer, process.Ready, process.Restarts, process.Mailbox = nil, nil, nil, nil, nil, nil
	perNS := make(map[string]metrics.Sources, len(m.nss))
	for _, n := range m.nss {
		perNS[n.ns.Name] = m.nsSources(n)
	}
	top, each := metrics.NewNamespaced(process, perNS)
	m.nsMetrics = each
	if addr := m.opts.MetricsAddr; addr != "" {
		srv, err := metrics.Listen(addr, top.Registry(), m.health, m.readiness(), memoDump(observeEvery, m.actorsDump), metrics.WithPprof(m.opts.Pprof))
		if err != nil {
			log.Error("metrics not served", "addr", addr, "err", err)
		} else {
			logging.Notice(log, "serving metrics", "addr", srv.Addr().String())
			m.background(func(ctx context.Context) { _ = srv.Serve(ctx) })
		}
	}
	k := m.kstats
	m.background(func(ctx context.Context) {
		watchdog(ctx, k.root, k.children, m.opts.Watchdog, k.giveUp, k.live.Answered, k.hb.Beat)
	})
	m.pinger = sdnotify.NewPinger(interval, m.healthy)
	m.background(func(ctx context.Context) {
		if err := m.pinger.Run(ctx); err != nil {
			log.Warn("systemd watchdog not served", "err", err)
		}
	})
}

// healthy is the systemd watchdog's evidence: kstats and every namespace
// that serves answered within two periods, and at least one serves.
func (m *multi) healthy() bool {
	within := 2 * m.opts.Watchdog
	if !m.kstats.hb.Within(within)() {
		return false
	}
	serving := 0
	for _, n := range m.nss {
		if n.down.Load() != nil {
			continue
		}
		r := n.r.Load()
		if r == nil {
			return false
		}
		if !r.hb.Within(within)() {
			return false
		}
		serving++
	}
	return serving > 0
}

// health is /healthz: every namespace up and its actors answering.
func (m *multi) health(ctx context.Context) error {
	var errs []error
	if err := m.kstats.live.Check(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, n := range m.nss {
		if why := n.down.Load(); why != nil {
			errs = append(errs, fmt.Errorf("namespace %s down: %w", n.ns.Name, *why))
			continue
		}
		if r := n.r.Load(); r != nil {
			if err := r.live.Check(ctx); err != nil {
				errs = append(errs, fmt.Errorf("namespace %s: %w", n.ns.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// readiness is /readyz: each namespace's, and their conjunction.
func (m *multi) readiness() metrics.ReadyFunc {
	// Each namespace's ReadyFunc, made once its subtree runs; the HTTP
	// server calls from several goroutines.
	var mu sync.Mutex
	each := make(map[string]metrics.ReadyFunc, len(m.nss))
	of := func(n *nsRun, r *running) metrics.ReadyFunc {
		mu.Lock()
		defer mu.Unlock()
		f, ok := each[n.ns.Name]
		if !ok {
			f = readiness(r.root, r.stats, r)
			each[n.ns.Name] = f
		}
		return f
	}
	return func(ctx context.Context) metrics.Readiness {
		all := metrics.Readiness{InitialSync: true, RedisConnected: true, PortInitDone: true,
			Namespaces: make(map[string]metrics.Readiness, len(m.nss))}
		for _, n := range m.nss {
			var rd metrics.Readiness
			switch r := n.r.Load(); {
			case n.down.Load() != nil:
				rd.Down = (*n.down.Load()).Error()
			case r == nil:
				// Waiting for Redis or in start-up.
			default:
				rd = of(n, r)(ctx)
			}
			all.InitialSync = all.InitialSync && rd.InitialSync
			all.RedisConnected = all.RedisConnected && rd.RedisConnected
			all.PortInitDone = all.PortInitDone && rd.PortInitDone
			for _, p := range rd.PendingPorts {
				all.PendingPorts = append(all.PendingPorts, n.ns.Name+"/"+p)
			}
			all.Namespaces[n.ns.Name] = rd
		}
		return all
	}
}

// nsSources are n's figures for /metrics; before its subtree runs they are
// its counters' zeroes.
func (m *multi) nsSources(n *nsRun) metrics.Sources {
	// What sources reads while n's subtree is not spawned: an empty
	// mailbox, not synced.
	idle := &running{stats: n.stats, pl: pipeline.Pipeline{Mailboxes: map[string]*actors.Mailbox{"portstate": actors.NewMailbox(1)}}}
	cur := func() metrics.Sources {
		if r := n.r.Load(); r != nil {
			return sources(n.stats, r)
		}
		return sources(n.stats, idle)
	}
	src := cur()
	src.Netlink = func() metrics.NetlinkCounters { return cur().Netlink() }
	src.Mailbox = func() map[string]int { return cur().Mailbox() }
	src.Ready = func() bool { return n.down.Load() == nil && cur().Ready() }
	src.Up = func() bool { return n.down.Load() == nil }
	src.Kstats, src.LogLinesDropped, src.Build = nil, nil, metrics.BuildInfo{}
	return src
}

// actorsDump answers /debug/actors: every namespace's actors, and kstats.
func (m *multi) actorsDump(ctx context.Context) (any, error) {
	out := make(map[string]any, len(m.nss)+1)
	k, _ := actorsDump(m.system.Root, m.kstats.children)(ctx)
	out["kstats"] = k
	for _, n := range m.nss {
		if r := n.r.Load(); r != nil && n.down.Load() == nil {
			d, _ := actorsDump(r.root, r.children)(ctx)
			out[n.ns.Name] = d
		}
	}
	return out, nil
}

// serve runs the namespaces' events and the operator's requests until the
// run ends.
func (m *multi) serve(ctx context.Context, req Requests, stopStarts func()) error {
	log := m.opts.Logger
	finish := func(err error) error {
		stopStarts()
		for _, n := range m.nss {
			if r := n.r.Load(); r != nil && n.down.Load() == nil {
				r.live.Stopped(err)
				r.stopTree(fatalGrace)
				r.loopGrace = fatalGrace
			}
		}
		stopWithin(m.system.Root, m.kstats.sup, fatalGrace)
		return err
	}
	for {
		select {
		case ev := <-m.events:
			if ev.r != nil {
				m.running(ev.n, ev.r)
				continue
			}
			if ctx.Err() != nil {
				continue // a start-up cut short by the stop
			}
			if err := m.down(ev.n, ev.err); err != nil {
				return finish(err)
			}
		case <-req.DumpState:
			for _, n := range m.nss {
				if r := n.r.Load(); r != nil && n.down.Load() == nil {
					dumpState(r)
				}
			}
		case <-req.Resync:
			for _, n := range m.nss {
				if r := n.r.Load(); r != nil && n.down.Load() == nil {
					r.root.Send(r.pl.Netlink, &messages.ResyncRequest{Reason: "SIGHUP"})
				}
			}
		case f := <-req.Faults:
			m.injectFault(f)
		case err := <-m.kstats.fatal:
			return finish(err)
		case <-ctx.Done():
			_ = sdnotify.Stopping()
			status("draining: writing what was read to Redis", log)
			stopStarts()
			m.starts.Wait()
			return m.drain()
		}
	}
}

// running starts watching n's spawned subtree: its watchdog, its initial
// sync, and its supervisor's verdicts.
func (m *multi) running(n *nsRun, r *running) {
	r.observer.set(m.nsMetrics[n.ns.Name])
	n.r.Store(r)
	every := m.opts.Watchdog
	m.background(func(ctx context.Context) {
		watchdog(ctx, r.root, r.children, every, func(err error) { m.fail(n, err) }, r.live.Answered, r.hb.Beat)
	})
	m.background(func(ctx context.Context) {
		select {
		case err := <-r.fatal:
			m.fail(n, err)
		case <-ctx.Done():
		}
	})
	m.background(func(ctx context.Context) {
		if !initialSync(ctx, r.root, r.stats, r.pl.Ports, r.pl.Writer) {
			return
		}
		r.synced.Store(true)
		logging.Notice(n.log, "initial sync done")
		r.hb.Beat()
		m.settle(n)
	})
}

// settle notes that n synced or was given up; once every namespace has,
// systemd is told the service is ready.
func (m *multi) settle(n *nsRun) {
	n.settled.Store(true)
	for _, o := range m.nss {
		if !o.settled.Load() {
			return
		}
	}
	m.readyOnce.Do(func() {
		logging.Notice(m.opts.Logger, "every namespace settled")
		if err := m.pinger.Ready(); err != nil {
			m.opts.Logger.Warn("systemd readiness not sent", "err", err)
		}
	})
}

// down gives n up after err: its subtree stops and it is reported down.
// It returns the error that must end the run: a configuration error,
// --fail-fast, or every namespace down.
func (m *multi) down(n *nsRun, err error) error {
	if isConfigError(err) || m.opts.FailFast {
		return fmt.Errorf("namespace %s: %w", n.ns.Name, err)
	}
	n.log.Error("namespace down: its subtree kept failing; the other namespaces keep serving", "err", err)
	n.down.Store(&err)
	if r := n.r.Load(); r != nil {
		r.live.Stopped(err)
		// A wedged actor never stops, nor its Loop: do not wait for
		// them for long.
		r.stopTree(fatalGrace)
		r.loopGrace = fatalGrace
	}
	m.settle(n)
	for _, o := range m.nss {
		if o.down.Load() == nil {
			return nil
		}
	}
	return fmt.Errorf("daemon: every namespace is down, the last %s: %w", n.ns.Name, err)
}

// isConfigError reports a start-up failure no restart mends.
func isConfigError(err error) bool {
	return errors.Is(err, instance.ErrHeld) || errors.Is(err, sonicdb.ErrNoDatabase) || errors.Is(err, sonicdb.ErrRefused)
}

// drain drains every serving namespace at once, then stops kstats.
func (m *multi) drain() error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, n := range m.nss {
		r := n.r.Load()
		if r == nil || n.down.Load() != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := drain(r.root, r.pl, m.opts.DrainTimeout, r.log)
			r.stopTree(time.Second)
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("namespace %s: %w", n.ns.Name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stopWithin(m.system.Root, m.kstats.sup, time.Second)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	logging.Notice(m.opts.Logger, "stopped")
	return nil
}

// injectFault delivers an injected fault (faultinject builds): its target
// is "<namespace>/<actor>", or "kstats".
func (m *multi) injectFault(f messages.InjectFault) {
	name, role, ok := strings.Cut(f.Target, "/")
	if !ok {
		injectFault(m.system.Root, m.kstats.children, f, m.opts.Logger)
		return
	}
	for _, n := range m.nss {
		if r := n.r.Load(); n.ns.Name == name && r != nil && n.down.Load() == nil {
			g := f
			g.Target = role
			injectFault(r.root, r.children, g, n.log)
			return
		}
	}
	m.opts.Logger.Warn("fault target unknown", "target", f.Target, "namespaces", slices.Sorted(maps.Keys(m.byName())))
}

func (m *multi) byName() map[string]*nsRun {
	out := make(map[string]*nsRun, len(m.nss))
	for _, n := range m.nss {
		out[n.ns.Name] = n
	}
	return out
}
