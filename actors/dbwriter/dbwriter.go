package dbwriter

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/logging"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Stats are dbwriter's counters. They outlive restarts of the actor.
type Stats struct {
	Batches    atomic.Uint64 // pipelines written
	Writes     atomic.Uint64 // STATE_DB HSETs acknowledged
	Deletes    atomic.Uint64 // STATE_DB DELs sent
	Coalesced  atomic.Uint64 // updates folded into a pending one for the same port
	Unchanged  atomic.Uint64 // updates dropped: STATE_DB already holds that state
	NotInTable atomic.Uint64 // HSETs held back: port not in APPL_DB PORT_TABLE yet
	// PortTableEvents are keyspace events of APPL_DB PORT_TABLE taken.
	PortTableEvents atomic.Uint64
	// Watching: those events are being received (else every write checks
	// PORT_TABLE, and held writes are re-checked every Config.Recheck).
	Watching      atomic.Bool
	Rejected      atomic.Uint64 // commands Redis answered with an error
	ConnRetries   atomic.Uint64 // batches that failed to reach Redis and were taken back
	RedisRestarts atomic.Uint64 // restarted servers noticed; owned state rewritten
	MaxBatch      atomic.Uint64 // largest batch, in ports
	Reconciled    atomic.Uint64 // stale STATE_DB entries deleted after a dump
	Restarts      atomic.Uint64 // incarnations after the first
	InitDoneSent  atomic.Bool   // PortInitDone published in this run
	ConfigSent    atomic.Bool   // the port configuration (and PortConfigDone) published
	HeldBack      atomic.Int64  // ports whose state waits: not in APPL_DB PORT_TABLE, or rejected
	// Drifted are ports whose STATE_DB entry an audit found changed by
	// someone else, until the rewrite is acknowledged; DriftRepairs counts
	// those rewrites.
	Drifted      atomic.Int64
	DriftRepairs atomic.Uint64
	RedisDown    atomic.Bool // the last write attempt failed to reach Redis
}

// Observer is told the end-to-end latency of every acknowledged write (from
// the kernel read to Redis's reply) and the size of every batch.
type Observer interface {
	ObserveLatency(time.Duration)
	ObserveBatchSize(ports int)
}

// Config is dbwriter's wiring; it does not change after spawn.
type Config struct {
	DBs   *sonicdb.DBs
	Owned Owned
	// Acks receives StateWritten (portstate).
	Acks *actor.PID
	// Netlink is asked for a dump after a restart (netlinkrx).
	Netlink *actor.PID
	// MaxBackoff caps the wait between retries of a failed write.
	MaxBackoff time.Duration
	// Timeout bounds one batch's round trips to Redis; 0 means
	// DefaultTimeout. A Redis that does not answer within it is down: the
	// batch is taken back and retried later, and meanwhile the actor
	// answers its other messages.
	Timeout time.Duration
	// Recheck is how often writes held for ports not in APPL_DB
	// PORT_TABLE are checked again when Redis sends no keyspace events
	// (notify-keyspace-events off, or the subscription lost); 0 means
	// DefaultRecheck.
	Recheck time.Duration
	Logger  *slog.Logger
	Stats   *Stats
	// Observer may be nil.
	Observer Observer
	// Fatal is told, once, of an error no retry can mend (Redis refusing a
	// producer write for good); the run is to end. May be nil.
	Fatal func(error)
}

// DefaultTimeout is Config.Timeout's default.
const DefaultTimeout = 500 * time.Millisecond

// New returns the props of the dbwriter actor; it is to run on its
// pipeline's actors.Loop, and does its Redis I/O there: a batch goes out
// when the actor has folded in everything that was waiting for it, and
// while it is with Redis the kernel's socket buffer holds the next events.
func New(cfg Config) *actor.Props {
	l := &lineage{}
	return actor.PropsFromProducer(func() actor.Actor { return &stateWriter{cfg: cfg, lineage: l} })
}

// lineage is what one dbwriter incarnation leaves the next: the facts about
// Redis it established.
type lineage struct {
	incarnations int
	initDoneSent bool
}

// Messages the actor sends itself, each carrying the incarnation so that
// one outliving a restart is ignored. At most one of each kind waits at a
// time.
type (
	// writeDue: write what is pending, after what the mailbox held.
	writeDue    struct{ owner *stateWriter }
	retryTick   struct{ owner *stateWriter }
	probeTick   struct{ owner *stateWriter }
	recheckTick struct{ owner *stateWriter }
	auditTick   struct{ owner *stateWriter }
)

func (*writeDue) Essential()    {}
func (*retryTick) Essential()   {}
func (*probeTick) Essential()   {}
func (*recheckTick) Essential() {}
func (*auditTick) Essential()   {}

// DefaultRecheck is Config.Recheck's default.
const DefaultRecheck = 10 * time.Second

// auditEvery is how often what this daemon wrote to STATE_DB, and what it
// believes of APPL_DB PORT_TABLE, is read back: someone else may have
// deleted or changed an entry (DEL, FLUSHDB), with no event to say so.
const auditEvery = 3 * time.Second

// probeEvery is how often an idle writer checks that its Redis servers have
// not restarted (and lost what it wrote) behind its back.
const probeEvery = time.Second

// minRetry is the first wait before held or failed work is retried; it
// doubles up to the configured maximum backoff.
const minRetry = 50 * time.Millisecond

type stateWriter struct {
	cfg     Config
	lineage *lineage
	core    *core
	log     *slog.Logger
	io      *redisIO

	reported     map[string]bool // held ports already logged
	retryIn      time.Duration
	retryTimer   *time.Timer
	probeTimer   *time.Timer
	recheckTimer *time.Timer
	auditTimer   *time.Timer
	flushes      []*actor.PID
	writeQueued  bool      // a writeDue waits in the mailbox
	downSince    time.Time // the first failure of an outage; zero when up

	self   *actor.PID
	root   *actor.RootContext
	events *portTableEvents
	cancel context.CancelFunc
}

func (w *stateWriter) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		w.stop()
	case *messages.StateOps:
		w.core.take(msg)
		w.queueWrite()
	case *writeDue:
		if msg.owner == w {
			w.writeQueued = false
			w.write()
		}
	case *probeTick:
		if msg.owner == w {
			w.core.probe()
			w.queueWrite()
		}
	case *retryTick:
		if msg.owner == w {
			w.retryTimer = nil
			w.core.retry()
			w.queueWrite()
		}
	case *auditTick:
		if msg.owner == w {
			w.audit()
			w.auditTimer = w.after(auditEvery, &auditTick{owner: w})
		}
	case *recheckTick:
		if msg.owner == w {
			w.recheckTimer = nil
			w.core.recheck()
			w.queueWrite()
		}
	case *portTableNews:
		if msg.owner == w {
			for port, gone := range w.events.take() {
				if w.core.portTableEvent(port, gone) {
					logging.Notice(w.log, "port left APPL_DB port table; no STATE_DB writes until it is back", "port", port)
				}
			}
			w.queueWrite()
		}
	case *watchState:
		if msg.owner == w {
			w.watchChanged(msg)
			w.queueWrite()
		}
	case *messages.Heartbeat:
		ctx.Respond(&messages.Alive{})
	case *messages.Flush:
		w.flushes = append(w.flushes, ctx.Sender())
		w.answerFlushes()
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.DumpState:
		s := w.cfg.Stats
		ctx.Respond(&messages.StateDump{Actor: "dbwriter", State: map[string]any{
			"pending": len(w.core.pending), "pending_ports": slices.Sorted(maps.Keys(w.core.pending)),
			"held": slices.Sorted(maps.Keys(w.core.held)), "down": w.core.down,
			"written": w.core.writtenView(),
			"waiting": len(w.core.waiting), "watching": w.core.watching, "port_table_events": s.PortTableEvents.Load(),
			"batches": s.Batches.Load(), "writes": s.Writes.Load(), "deletes": s.Deletes.Load(),
			"coalesced": s.Coalesced.Load(), "unchanged": s.Unchanged.Load(),
			"not_in_table": s.NotInTable.Load(), "rejected": s.Rejected.Load(),
			"conn_retries": s.ConnRetries.Load(), "redis_restarts": s.RedisRestarts.Load(),
			"init_done_sent": w.core.initDoneSent, "reconciled": s.Reconciled.Load(),
			"drifted": slices.Sorted(maps.Keys(w.core.drifted)), "drift_repairs": s.DriftRepairs.Load(),
			"restarts": s.Restarts.Load(),
		}})
	}
}

func (w *stateWriter) start(ctx actor.Context) {
	w.log = w.cfg.Logger
	w.core = newCore(w.cfg.Owned, w.lineage.initDoneSent, w.cfg.Stats)
	w.reported = make(map[string]bool)
	w.retryIn = minRetry
	w.self = ctx.Self()
	w.root = ctx.ActorSystem().Root
	w.io = &redisIO{dbs: w.cfg.DBs}
	w.events = &portTableEvents{}
	var runCtx context.Context
	runCtx, w.cancel = context.WithCancel(context.Background())
	go w.watchLoop(runCtx, w.cfg.DBs.Appl)
	w.armProbe()
	w.auditTimer = w.after(auditEvery, &auditTick{owner: w})
	w.lineage.incarnations++
	if w.lineage.incarnations > 1 {
		// What the predecessor had pending is gone: rebuild it all from
		// the kernel.
		w.cfg.Stats.Restarts.Add(1)
		ctx.Send(w.cfg.Netlink, &messages.ResyncRequest{Reason: "dbwriter restarted"})
	}
	w.queueWrite()
}

// stop ends the watch goroutine and the timers.
func (w *stateWriter) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.cancel = nil
	for _, t := range []*time.Timer{w.retryTimer, w.recheckTimer, w.probeTimer, w.auditTimer} {
		if t != nil {
			t.Stop()
		}
	}
	w.cfg.Stats.Watching.Store(false)
}

// queueWrite asks for a write once the mailbox holds nothing older: what
// portstate sent meanwhile goes in the same batch.
func (w *stateWriter) queueWrite() {
	if w.writeQueued {
		return
	}
	w.writeQueued = true
	w.root.Send(w.self, &writeDue{owner: w})
}

// after sends the actor one of its own ticks, from a timer's goroutine.
func (w *stateWriter) after(d time.Duration, tick any) *time.Timer {
	root, self := w.root, w.self
	return time.AfterFunc(d, func() { root.Send(self, tick) })
}

func (w *stateWriter) armProbe() {
	if w.probeTimer != nil {
		w.probeTimer.Stop()
	}
	w.probeTimer = w.after(probeEvery, &probeTick{owner: w})
}

// write sends the next batch to Redis and waits at most the timeout for it.
func (w *stateWriter) write() {
	b := w.core.next()
	if b == nil {
		w.answerFlushes()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout())
	defer cancel()
	res, err := w.io.try(ctx, b)
	w.io.carry(res, err == nil)
	if err != nil {
		w.failed(b, err)
		return
	}
	if res.refused != nil {
		// Not "published": the key may be staged without its announcement.
		w.log.Error("redis refuses the APPL_DB producer write for good", "err", res.refused)
		if w.cfg.Fatal != nil {
			w.cfg.Fatal(res.refused)
		}
		return
	}
	w.cfg.Stats.RedisDown.Store(false)
	probe := b.probe
	if !w.downSince.IsZero() {
		logging.Notice(w.log, "redis reachable again", "outage", time.Since(w.downSince).Round(time.Millisecond))
		w.downSince = time.Time{}
		probe = true
	}
	if probe {
		if err := w.io.probeRestarts(ctx, res); err != nil {
			// The batch landed; the probe timer asks again.
			w.log.Info("redis probe failed", "err", err)
			w.armProbe()
		}
	}
	w.finish(res)
	w.queueWrite()
}

// audit reads back what this daemon owns in Redis and writes again what
// someone else deleted or changed.
func (w *stateWriter) audit() {
	a := w.core.auditWanted()
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout())
	defer cancel()
	drifted, gone, err := w.io.audit(ctx, a)
	if err != nil {
		w.failed(&batch{}, err)
		return
	}
	for _, port := range gone {
		logging.Notice(w.log, "port gone from APPL_DB port table without an event; checking it before each write", "port", port)
	}
	if rewrite := w.core.audited(a, drifted, gone); len(rewrite) > 0 {
		w.log.Warn("STATE_DB entries changed behind portsyncd; writing them again", "ports", len(rewrite), "first", rewrite[0])
		w.queueWrite()
	}
}

func (w *stateWriter) timeout() time.Duration {
	if w.cfg.Timeout > 0 {
		return w.cfg.Timeout
	}
	return DefaultTimeout
}

// failed takes back a batch that did not reach Redis, and retries later
// with capped backoff; meanwhile newer state keeps coalescing.
func (w *stateWriter) failed(b *batch, err error) {
	w.core.failed(b)
	w.cfg.Stats.RedisDown.Store(true)
	if w.downSince.IsZero() {
		w.downSince = time.Now()
	}
	w.log.Warn("redis write failed", "ops", len(b.ops), "retry_in", w.retryIn, "err", err)
	w.armRetry()
}

// finish carries out what the result of a batch means.
func (w *stateWriter) finish(res *result) {
	if res.b.probe {
		w.armProbe()
	}
	out := w.core.finish(res)
	if o := w.cfg.Observer; o != nil {
		now := time.Now()
		for _, t := range out.received {
			o.ObserveLatency(now.Sub(t))
		}
		if len(res.b.ops) > 0 {
			o.ObserveBatchSize(len(res.b.ops))
		}
	}
	w.cfg.Stats.HeldBack.Store(int64(len(w.core.held)))
	w.logOutcome(&out)
	if len(out.acked) > 0 {
		for _, p := range out.acked {
			delete(w.reported, p)
		}
		w.root.Send(w.cfg.Acks, &messages.StateWritten{Ports: out.acked})
	}
	if out.configSent {
		w.cfg.Stats.ConfigSent.Store(true)
	}
	if out.initDoneSent {
		w.lineage.initDoneSent = true
		w.cfg.Stats.InitDoneSent.Store(true)
	}
	if out.retry {
		w.armRetry()
	} else if len(w.core.held) == 0 {
		w.retryIn = minRetry
	}
	w.armRecheck()
}

func (w *stateWriter) logOutcome(out *outcome) {
	for _, c := range out.changes {
		attrs := []slog.Attr{slog.String(logging.KeyPort, c.port),
			slog.String(logging.KeyAdmin, upDown(c.state.AdminUp)), slog.String(logging.KeyOper, upDown(c.state.OperUp)),
			slog.Uint64(logging.KeyMTU, uint64(c.state.MTU))}
		if c.hadPrev {
			attrs = append(attrs, slog.String("old_admin", upDown(c.prev.AdminUp)),
				slog.String("old_oper", upDown(c.prev.OperUp)), slog.Uint64("old_mtu", uint64(c.prev.MTU)))
		}
		w.log.LogAttrs(context.Background(), logging.LevelNotice, "port state written", attrs...)
	}
	for _, port := range out.deleted {
		logging.Notice(w.log, "port state deleted", logging.KeyPort, port)
	}
	for _, port := range out.stale {
		logging.Notice(w.log, "stale STATE_DB entry deleted", "port", port)
	}
	for _, port := range out.notInTable {
		if !w.reported[port] {
			w.reported[port] = true
			w.log.Info("port not in APPL_DB port table, state held back", "port", port)
		}
	}
	for _, r := range out.rejected {
		w.log.Error("redis rejected write", "key", w.cfg.DBs.State.Key(sonicdb.PortTable, r.op.port), "err", r.err)
	}
	if out.applRejected > 0 {
		w.log.Error("redis rejected APPL_DB producer write; retrying", "keys", out.applRejected)
	}
	if out.configSent {
		logging.Notice(w.log, "port configuration published", "ports", len(w.cfg.Owned.ConfigPorts), "port_config_done", w.cfg.Owned.ColdStart)
	}
	if out.initDoneSent {
		logging.Notice(w.log, "PortInitDone published")
	}
	if out.stateRestarted {
		w.log.Warn("STATE_DB server restarted; rewriting owned state", "ports", len(w.core.pending))
	}
	if out.applRestarted {
		w.log.Warn("APPL_DB server restarted; republishing port configuration", "ports", len(w.cfg.Owned.ConfigPorts))
	}
}

// watchChanged takes the watch goroutine's news: keyspace events of APPL_DB
// PORT_TABLE come, or no longer do.
func (w *stateWriter) watchChanged(m *watchState) {
	if m.on != w.core.watching {
		if m.on {
			logging.Notice(w.log, "following APPL_DB port table by keyspace events")
		} else {
			w.log.Warn("no keyspace events for APPL_DB port table; checking it before each write", "recheck", w.recheck(), "reason", m.reason)
		}
	}
	w.core.watch(m.on)
	w.cfg.Stats.Watching.Store(m.on)
	w.armRecheck()
}

func (w *stateWriter) recheck() time.Duration {
	if w.cfg.Recheck > 0 {
		return w.cfg.Recheck
	}
	return DefaultRecheck
}

// armRecheck starts the slow re-check timer when writes wait for APPL_DB
// PORT_TABLE and no keyspace event will release them.
func (w *stateWriter) armRecheck() {
	if w.recheckTimer != nil || !w.core.recheckDue() {
		return
	}
	w.recheckTimer = w.after(w.recheck(), &recheckTick{owner: w})
}

func (w *stateWriter) armRetry() {
	if w.retryTimer != nil {
		return
	}
	w.retryTimer = w.after(w.retryIn, &retryTick{owner: w})
	w.retryIn = min(w.retryIn*2, max(w.cfg.MaxBackoff, minRetry))
}

// answerFlushes answers Flush once nothing is pending, naming the ports
// whose newest state Redis refused.
func (w *stateWriter) answerFlushes() {
	if len(w.flushes) == 0 || !w.core.drained() {
		return
	}
	unwritten := slices.Sorted(maps.Keys(w.core.held))
	for _, p := range w.flushes {
		w.root.Send(p, &messages.Flushed{Unwritten: unwritten})
	}
	w.flushes = w.flushes[:0]
}
