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
	ConnRetries   atomic.Uint64 // batches sent again after a connection failure
	RedisRestarts atomic.Uint64 // restarted servers noticed; owned state rewritten
	MaxBatch      atomic.Uint64 // largest batch, in ports
	Reconciled    atomic.Uint64 // stale STATE_DB entries deleted after a dump
	Restarts      atomic.Uint64 // incarnations after the first
	InitDoneSent  atomic.Bool   // PortInitDone published in this run
	ConfigSent    atomic.Bool   // the port configuration (and PortConfigDone) published
	HeldBack      atomic.Int64  // ports whose state waits: not in APPL_DB PORT_TABLE, or rejected
	RedisDown     atomic.Bool   // the last write attempt failed to reach Redis
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
	// Recheck is how often writes held for ports not in APPL_DB
	// PORT_TABLE are checked again when Redis sends no keyspace events
	// (notify-keyspace-events off, or the subscription lost); 0 means
	// DefaultRecheck.
	Recheck time.Duration
	Logger  *slog.Logger
	Stats   *Stats
	// Observer may be nil.
	Observer Observer
}

// New returns the props of the dbwriter actor.
//
// It runs on its sender's goroutine (actors.Inline): portstate's StateOps
// are folded in on the reader goroutine, and a result is taken on the
// writer goroutine that produced it, which then starts the next batch
// itself. So the only goroutine hand-off between the socket and Redis is the
// batch given to the writer goroutine.
func New(cfg Config) *actor.Props {
	l := &lineage{}
	return actor.PropsFromProducer(func() actor.Actor { return &writer{cfg: cfg, lineage: l} },
		actor.WithDispatcher(actors.Inline))
}

// lineage is what one dbwriter incarnation leaves the next: the facts about
// Redis it established, and its writer goroutine, which the next waits for
// before it writes.
type lineage struct {
	incarnations int
	initDoneSent bool
	lastDone     chan struct{}
}

// retryTick and probeTick are sent by the actor's timers to itself; they
// carry the actor instance so that a tick outliving a restart is ignored.
type (
	retryTick   struct{ owner *writer }
	probeTick   struct{ owner *writer }
	recheckTick struct{ owner *writer }
)

// DefaultRecheck is Config.Recheck's default.
const DefaultRecheck = 10 * time.Second

// probeEvery is how often an idle writer checks that its Redis servers have
// not restarted (and lost what it wrote) behind its back.
const probeEvery = time.Second

// minRetry is the first wait before held work is retried; it doubles up to
// the configured maximum backoff.
const minRetry = 100 * time.Millisecond

type writer struct {
	cfg     Config
	lineage *lineage
	core    *core
	log     *slog.Logger

	reported     map[string]bool // held ports already logged
	retryIn      time.Duration
	retryTimer   *time.Timer
	probeTimer   *time.Timer
	recheckTimer *time.Timer
	flushes      []*actor.PID

	self   *actor.PID
	root   *actor.RootContext
	in     chan *batch
	cancel context.CancelFunc
}

func (w *writer) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		w.stop()
	case *messages.StateOps:
		w.core.take(msg)
		w.dispatch()
	case *result:
		if msg.owner != w {
			return // written by the goroutine of an incarnation before a restart
		}
		w.finish(msg)
		w.dispatch()
	case *probeTick:
		if msg.owner == w {
			w.core.probe()
			w.dispatch()
		}
	case *retryTick:
		if msg.owner == w {
			w.retryTimer = nil
			w.core.retry()
			w.dispatch()
		}
	case *recheckTick:
		if msg.owner == w {
			w.recheckTimer = nil
			w.core.recheck()
			w.dispatch()
		}
	case *portTableEvent:
		if msg.owner == w {
			if w.core.portTableEvent(msg.port, msg.gone) {
				logging.Notice(w.log, "port left APPL_DB port table; no STATE_DB writes until it is back", "port", msg.port)
			}
			w.dispatch()
		}
	case *watchState:
		if msg.owner == w {
			w.watchChanged(msg)
			w.dispatch()
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
			"pending": len(w.core.pending), "held": slices.Sorted(maps.Keys(w.core.held)), "busy": w.core.busy,
			"written": w.core.writtenView(),
			"waiting": len(w.core.waiting), "watching": w.core.watching, "port_table_events": s.PortTableEvents.Load(),
			"batches": s.Batches.Load(), "writes": s.Writes.Load(), "deletes": s.Deletes.Load(),
			"coalesced": s.Coalesced.Load(), "unchanged": s.Unchanged.Load(),
			"not_in_table": s.NotInTable.Load(), "rejected": s.Rejected.Load(),
			"conn_retries": s.ConnRetries.Load(), "redis_restarts": s.RedisRestarts.Load(),
			"init_done_sent": w.core.initDoneSent, "reconciled": s.Reconciled.Load(),
			"restarts": s.Restarts.Load(),
		}})
	}
}

func (w *writer) start(ctx actor.Context) {
	w.log = w.cfg.Logger
	w.core = newCore(w.cfg.Owned, w.lineage.initDoneSent, w.cfg.Stats)
	w.reported = make(map[string]bool)
	w.retryIn = minRetry
	w.self = ctx.Self()
	w.root = ctx.ActorSystem().Root
	w.in = make(chan *batch, 1)
	done := make(chan struct{})
	var runCtx context.Context
	runCtx, w.cancel = context.WithCancel(context.Background())
	rw := &redisWriter{dbs: w.cfg.DBs, log: w.log, maxBackoff: w.cfg.MaxBackoff, down: &w.cfg.Stats.RedisDown}
	go w.loop(runCtx, rw, w.lineage.lastDone, done)
	go w.watchLoop(runCtx, w.cfg.DBs.Appl)
	w.lineage.lastDone = done
	w.armProbe()
	w.lineage.incarnations++
	if w.lineage.incarnations > 1 {
		// What the predecessor had pending is gone: rebuild it all from
		// the kernel.
		w.cfg.Stats.Restarts.Add(1)
		ctx.Send(w.cfg.Netlink, &messages.ResyncRequest{Reason: "dbwriter restarted"})
	}
	w.dispatch()
}

// loop is the writer goroutine: Redis I/O never runs inside Receive. It
// first waits for its predecessor's goroutine, so that a batch of an older
// incarnation never lands after a newer one.
func (w *writer) loop(ctx context.Context, rw *redisWriter, prev <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if prev != nil {
		select {
		case <-prev:
		case <-ctx.Done():
			return
		}
	}
	for {
		select {
		case b := <-w.in:
			res, err := rw.write(ctx, b)
			if err != nil {
				return // stopping
			}
			res.owner = w
			// Inline: this goroutine takes the result and starts the next
			// batch, unless another goroutine is in the actor already.
			w.root.Send(w.self, res)
		case <-ctx.Done():
			return
		}
	}
}

// stop ends the writer goroutine. It does not wait for it: stop may run on
// that very goroutine (Inline); the next incarnation's goroutine waits.
func (w *writer) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	w.cancel = nil
	if w.retryTimer != nil {
		w.retryTimer.Stop()
	}
	if w.recheckTimer != nil {
		w.recheckTimer.Stop()
	}
	w.probeTimer.Stop()
	w.cfg.Stats.Watching.Store(false)
}

func (w *writer) armProbe() {
	owner, root, self := w, w.root, w.self
	w.probeTimer = time.AfterFunc(probeEvery, func() { root.Send(self, &probeTick{owner: owner}) })
}

// dispatch hands the next batch to the writer goroutine if it is idle. The
// channel has room: at most one batch is in flight.
func (w *writer) dispatch() {
	if b := w.core.next(); b != nil {
		w.in <- b
		return
	}
	w.answerFlushes()
}

// finish carries out what the result of the batch in flight means.
func (w *writer) finish(res *result) {
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
	for _, port := range out.stale {
		logging.Notice(w.log, "stale STATE_DB entry deleted", "port", port)
	}
	for _, port := range out.notInTable {
		if !w.reported[port] {
			w.reported[port] = true
			w.log.Info("port not in APPL_DB port table, state held back", "port", port)
		}
	}
	for _, rj := range out.rejected {
		w.log.Error("redis rejected write", "key", w.cfg.DBs.State.Key(sonicdb.PortTable, rj.ko.port), "err", rj.err)
	}
	if out.applRejected > 0 {
		w.log.Error("redis rejected APPL_DB producer write; retrying", "keys", out.applRejected)
	}
	if len(out.acked) > 0 {
		for _, p := range out.acked {
			delete(w.reported, p)
		}
		w.root.Send(w.cfg.Acks, &messages.StateWritten{Ports: out.acked})
	}
	if out.configSent {
		w.cfg.Stats.ConfigSent.Store(true)
		logging.Notice(w.log, "port configuration published", "ports", len(w.cfg.Owned.ConfigPorts), "port_config_done", w.cfg.Owned.ColdStart)
	}
	if out.initDoneSent {
		w.lineage.initDoneSent = true
		w.cfg.Stats.InitDoneSent.Store(true)
		logging.Notice(w.log, "PortInitDone published")
	}
	if out.stateRestarted {
		w.log.Warn("STATE_DB server restarted; rewriting owned state", "ports", len(w.core.pending))
	}
	if out.applRestarted {
		w.log.Warn("APPL_DB server restarted; republishing port configuration", "ports", len(w.cfg.Owned.ConfigPorts))
	}
	if out.retry {
		w.armRetry()
	} else if len(w.core.held) == 0 {
		w.retryIn = minRetry
	}
	w.armRecheck()
}

// watchChanged takes the watch goroutine's news: keyspace events of APPL_DB
// PORT_TABLE come, or no longer do.
func (w *writer) watchChanged(m *watchState) {
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

func (w *writer) recheck() time.Duration {
	if w.cfg.Recheck > 0 {
		return w.cfg.Recheck
	}
	return DefaultRecheck
}

// armRecheck starts the slow re-check timer when writes wait for APPL_DB
// PORT_TABLE and no keyspace event will release them.
func (w *writer) armRecheck() {
	if w.recheckTimer != nil || !w.core.recheckDue() {
		return
	}
	owner, root, self := w, w.root, w.self
	w.recheckTimer = time.AfterFunc(w.recheck(), func() { root.Send(self, &recheckTick{owner: owner}) })
}

func (w *writer) armRetry() {
	if w.retryTimer != nil {
		return
	}
	owner, root, self := w, w.root, w.self
	w.retryTimer = time.AfterFunc(w.retryIn, func() { root.Send(self, &retryTick{owner: owner}) })
	w.retryIn = min(w.retryIn*2, max(w.cfg.MaxBackoff, minRetry))
}

// answerFlushes answers Flush once nothing is pending or in flight.
func (w *writer) answerFlushes() {
	if len(w.flushes) == 0 || !w.core.drained() {
		return
	}
	for _, p := range w.flushes {
		w.root.Send(p, &messages.Flushed{})
	}
	w.flushes = w.flushes[:0]
}
