package dbwriter

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Stats are dbwriter's counters. They outlive restarts of the actor.
type Stats struct {
	Batches       atomic.Uint64 // pipelines written
	Writes        atomic.Uint64 // STATE_DB HSETs acknowledged
	Deletes       atomic.Uint64 // STATE_DB DELs sent
	Coalesced     atomic.Uint64 // updates folded into a pending one for the same port
	Unchanged     atomic.Uint64 // updates dropped: STATE_DB already holds that state
	NotInTable    atomic.Uint64 // HSETs held back: port not in APPL_DB PORT_TABLE yet
	Rejected      atomic.Uint64 // commands Redis answered with an error
	ConnRetries   atomic.Uint64 // batches sent again after a connection failure
	RedisRestarts atomic.Uint64 // restarted servers noticed; owned state rewritten
	MaxBatch      atomic.Uint64 // largest batch, in ports
	Reconciled    atomic.Uint64 // stale STATE_DB entries deleted after a dump
}

// Config wires dbwriter.
type Config struct {
	DBs    *sonicdb.DBs
	Logger *slog.Logger
	Stats  *Stats
	// Router receives StateWritten; set before any link event flows.
	Router atomic.Pointer[actor.PID]
	// Owned APPL_DB state, published at start-up and republished after an
	// APPL_DB restart: the CONFIG_DB ports and PortConfigDone (cold start).
	ConfigPorts []sonicdb.Port
	ColdStart   bool
	// RestoreCount is rewritten after a STATE_DB restart.
	RestoreCount int64
	// InitDoneSent is true once PortInitDone was published in this run.
	InitDoneSent *atomic.Bool
	// MaxBackoff caps the wait between retries of a failed write.
	MaxBackoff time.Duration
	started    atomic.Bool
}

// New returns the props of the dbwriter actor.
func New(cfg *Config) *actor.Props {
	// Not actors.Inline: Restarting waits for the writer goroutine, which
	// must never be the one running the mailbox.
	return actor.PropsFromProducer(func() actor.Actor { return &writer{cfg: cfg} })
}

// retryTick and probeTick are sent by the actor's timers to itself; they
// carry the actor instance so that a tick outliving a restart is ignored.
type (
	retryTick struct{ owner *writer }
	probeTick struct{ owner *writer }
)

// probeEvery is how often an idle writer checks that its Redis servers have
// not restarted (and lost what it wrote) behind its back.
const probeEvery = time.Second

type writer struct {
	cfg *Config
	log *slog.Logger

	// pending holds the coalesced, not yet sent work: at most one op per
	// port, so memory is bounded by the number of ports, however long Redis
	// is away.
	pending map[string]stateOp
	// written is the state last sent for each port; an update equal to it
	// changes nothing and is dropped.
	written map[string]messages.PortState
	// held are HSETs that could not be written yet (port not in APPL_DB
	// PORT_TABLE, or rejected by Redis); retried on a timer until newer
	// work for the port replaces them.
	held       map[string]stateOp
	reported   map[string]bool // held ports already logged
	retryIn    time.Duration
	retryTimer *time.Timer
	probeTimer *time.Timer
	probeDue   bool

	initDoneWanted bool
	applRewrite    bool
	// applHeld pauses APPL_DB writes after Redis rejected one, until the
	// retry timer fires, so a rejecting server is not hammered.
	applHeld       bool
	restoreRewrite bool

	// reconcile is the newest dump's link names, until its stale STATE_DB
	// entries are deleted.
	reconcile map[string]bool

	busy    bool
	flushes []*actor.PID

	self   *actor.PID
	root   *actor.RootContext
	in     chan *batch
	cancel context.CancelFunc
	done   chan struct{}
}

const (
	minRetry = 100 * time.Millisecond
	maxRetry = 2 * time.Second
)

func (w *writer) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *actor.Stopping, *actor.Restarting:
		w.stop()
	case *messages.StateWrite:
		w.add(msg.Port, stateOp{set: true, state: msg.State, force: msg.Force})
		w.dispatch()
	case *messages.StateDelete:
		w.add(msg.Port, stateOp{del: true})
		w.dispatch()
	case *messages.Reconcile:
		w.reconcile = msg.Present
		w.dispatch()
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.PublishInitDone:
		if !w.cfg.InitDoneSent.Load() {
			w.initDoneWanted = true
			w.dispatch()
		}
	case *result:
		if msg.owner != w {
			return // written by the goroutine of an incarnation before a restart
		}
		w.finish(msg)
		w.dispatch()
	case *probeTick:
		if msg.owner == w {
			w.probeDue = true
			w.dispatch()
		}
	case *retryTick:
		if msg.owner == w {
			w.retryTimer = nil
			w.applHeld = false
			w.retryHeld()
			w.dispatch()
		}
	case *messages.Flush:
		w.flushes = append(w.flushes, ctx.Sender())
		w.answerFlushes()
	case *messages.DumpState:
		s := w.cfg.Stats
		ctx.Respond(&messages.StateDump{Actor: "dbwriter", State: map[string]any{
			"pending": len(w.pending), "held": len(w.held), "busy": w.busy,
			"batches": s.Batches.Load(), "writes": s.Writes.Load(), "deletes": s.Deletes.Load(),
			"coalesced": s.Coalesced.Load(), "unchanged": s.Unchanged.Load(),
			"not_in_table": s.NotInTable.Load(), "rejected": s.Rejected.Load(),
			"conn_retries": s.ConnRetries.Load(), "redis_restarts": s.RedisRestarts.Load(),
			"init_done_sent": w.cfg.InitDoneSent.Load(), "reconciled": s.Reconciled.Load(),
		}})
	}
}

func (w *writer) start(ctx actor.Context) {
	w.log = w.cfg.Logger
	w.pending = make(map[string]stateOp)
	w.written = make(map[string]messages.PortState)
	w.held = make(map[string]stateOp)
	w.reported = make(map[string]bool)
	w.retryIn = minRetry
	w.self = ctx.Self()
	w.root = ctx.ActorSystem().Root
	w.in = make(chan *batch, 1)
	w.done = make(chan struct{})
	var runCtx context.Context
	runCtx, w.cancel = context.WithCancel(context.Background())
	rw := &redisWriter{dbs: w.cfg.DBs, log: w.log, maxBackoff: w.cfg.MaxBackoff, inPortTable: make(map[string]bool)}
	go w.loop(runCtx, rw)
	w.armProbe()
	if w.cfg.started.Swap(true) {
		// What the predecessor had pending is gone: rebuild it all from
		// the kernel.
		ctx.Send(ctx.Parent(), &messages.ResyncRequest{Reason: "dbwriter restarted"})
	}
}

// loop is the writer goroutine: Redis I/O never runs inside Receive.
func (w *writer) loop(ctx context.Context, rw *redisWriter) {
	defer close(w.done)
	for {
		select {
		case b := <-w.in:
			res, err := rw.write(ctx, b)
			if err != nil {
				return // stopping
			}
			res.owner = w
			w.root.Send(w.self, res)
		case <-ctx.Done():
			return
		}
	}
}

func (w *writer) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	<-w.done
	w.cancel = nil
	if w.retryTimer != nil {
		w.retryTimer.Stop()
	}
	w.probeTimer.Stop()
}

func (w *writer) armProbe() {
	owner, root, self := w, w.root, w.self
	w.probeTimer = time.AfterFunc(probeEvery, func() { root.Send(self, &probeTick{owner: owner}) })
}

// add coalesces op into the pending work for port.
func (w *writer) add(port string, op stateOp) {
	if h, ok := w.held[port]; ok {
		op = merge(h, op)
		delete(w.held, port)
	}
	if p, ok := w.pending[port]; ok {
		w.cfg.Stats.Coalesced.Add(1)
		w.pending[port] = merge(p, op)
		return
	}
	if op.set && !op.del && !op.force {
		if st, ok := w.written[port]; ok && st == op.state {
			w.cfg.Stats.Unchanged.Add(1)
			return
		}
	}
	w.pending[port] = op
}

// dispatch hands all pending work to the writer goroutine if it is idle.
// While a batch is in flight new work accumulates and coalesces, so the
// batch size adapts to Redis's round-trip time.
func (w *writer) dispatch() {
	if w.busy {
		return
	}
	b := &batch{}
	if len(w.pending) > 0 {
		b.ops = make([]keyOp, 0, len(w.pending))
		for port, op := range w.pending {
			b.ops = append(b.ops, keyOp{port: port, op: op})
			if op.del {
				delete(w.written, port)
			}
			if op.set {
				w.written[port] = op.state
			}
		}
		clear(w.pending)
	}
	if w.applRewrite && !w.applHeld {
		for _, p := range w.cfg.ConfigPorts {
			b.appl = append(b.appl, applSet{key: p.Name, fields: p.Fields})
		}
		if w.cfg.ColdStart {
			b.appl = append(b.appl, portConfigDone(len(w.cfg.ConfigPorts)))
		}
		if w.cfg.InitDoneSent.Load() {
			b.appl = append(b.appl, portInitDone())
		}
	}
	// PortInitDone goes last: the router asked for it only after Redis had
	// acknowledged the STATE_DB writes of every configured port.
	if w.initDoneWanted && !w.applHeld && !w.cfg.InitDoneSent.Load() {
		b.appl = append(b.appl, portInitDone())
	}
	if w.restoreRewrite {
		n := w.cfg.RestoreCount
		b.restoreCount = &n
	}
	b.present, w.reconcile = w.reconcile, nil
	// Any batch notices a restarted server; an idle writer sends an empty
	// one now and then for that alone.
	b.probe, w.probeDue = w.probeDue, false
	if len(b.ops) == 0 && len(b.appl) == 0 && b.restoreCount == nil && b.present == nil && !b.probe {
		w.answerFlushes()
		return
	}
	w.busy = true
	w.cfg.Stats.Batches.Add(1)
	if n := uint64(len(b.ops)); n > w.cfg.Stats.MaxBatch.Load() {
		w.cfg.Stats.MaxBatch.Store(n)
	}
	w.in <- b
}

func portConfigDone(n int) applSet {
	return applSet{key: "PortConfigDone", fields: []string{"count", itoa(n)}}
}

func portInitDone() applSet {
	return applSet{key: "PortInitDone", fields: []string{"lanes", "0"}}
}

// finish takes the writer goroutine's result for the batch in flight.
func (w *writer) finish(res *result) {
	w.busy = false
	if res.b.probe {
		w.armProbe()
	}
	s := w.cfg.Stats
	if res.attempts > 1 {
		s.ConnRetries.Add(uint64(res.attempts - 1))
	}
	b := res.b
	for _, ko := range b.ops {
		if ko.op.del {
			s.Deletes.Add(1)
		}
	}
	s.Writes.Add(uint64(len(res.acked)))
	for _, port := range res.stale {
		delete(w.written, port)
		s.Reconciled.Add(1)
		w.log.Info("stale STATE_DB entry deleted", "port", port)
	}
	for _, ko := range res.notInTable {
		delete(w.written, ko.port)
		s.NotInTable.Add(1)
		if !w.reported[ko.port] {
			w.reported[ko.port] = true
			w.log.Info("port not in APPL_DB port table, state held back", "port", ko.port)
		}
		w.hold(ko)
	}
	for _, rj := range res.rejected {
		delete(w.written, rj.ko.port)
		s.Rejected.Add(1)
		w.log.Error("redis rejected write", "key", w.cfg.DBs.State.Key(sonicdb.PortTable, rj.ko.port), "err", rj.err)
		w.hold(rj.ko)
	}
	if len(res.acked) > 0 {
		for _, p := range res.acked {
			delete(w.reported, p)
		}
		if r := w.cfg.Router.Load(); r != nil {
			w.root.Send(r, &messages.StateWritten{Ports: res.acked})
		}
	}
	if len(b.appl) > 0 {
		if res.applDone {
			w.applRewrite = false
			if w.initDoneWanted {
				w.initDoneWanted = false
				w.cfg.InitDoneSent.Store(true)
				w.log.Info("PortInitDone published")
			}
		} else {
			s.Rejected.Add(1)
			w.log.Error("redis rejected APPL_DB producer write; retrying", "keys", len(b.appl))
			w.applHeld = true
			w.armRetry()
		}
	}
	if b.restoreCount != nil {
		w.restoreRewrite = false
	}
	if res.stateRestarted {
		// The server lost everything: send again all the state this daemon
		// owns, older than anything pending.
		s.RedisRestarts.Add(1)
		w.log.Warn("STATE_DB server restarted; rewriting owned state", "ports", len(w.written))
		for port, st := range w.written {
			op := stateOp{set: true, state: st, force: true}
			if p, ok := w.pending[port]; ok {
				op = merge(op, p)
			}
			w.pending[port] = op
		}
		w.restoreRewrite = true
	}
	if res.applRestarted {
		s.RedisRestarts.Add(1)
		w.log.Warn("APPL_DB server restarted; republishing port configuration", "ports", len(w.cfg.ConfigPorts))
		w.applRewrite = true
	}
	if len(w.held) == 0 {
		w.retryIn = minRetry
	}
	w.answerFlushes()
}

// hold keeps ko for a later retry, unless newer work for the port is pending.
func (w *writer) hold(ko keyOp) {
	if _, newer := w.pending[ko.port]; newer {
		return
	}
	if h, ok := w.held[ko.port]; ok {
		ko.op = merge(h, ko.op)
	}
	w.held[ko.port] = ko.op
	w.armRetry()
}

func (w *writer) armRetry() {
	if w.retryTimer != nil {
		return
	}
	owner, root, self := w, w.root, w.self
	w.retryTimer = time.AfterFunc(w.retryIn, func() { root.Send(self, &retryTick{owner: owner}) })
	w.retryIn = min(w.retryIn*2, maxRetry)
}

func (w *writer) retryHeld() {
	for port, op := range w.held {
		op.force = true
		if p, ok := w.pending[port]; ok {
			op = merge(op, p)
		}
		w.pending[port] = op
	}
	clear(w.held)
}

// answerFlushes answers Flush once nothing is pending or in flight. Held
// writes do not count: they wait for other daemons, not for Redis.
func (w *writer) answerFlushes() {
	if len(w.flushes) == 0 || w.busy || len(w.pending) > 0 || w.initDoneWanted || w.applRewrite || w.reconcile != nil {
		return
	}
	for _, p := range w.flushes {
		w.root.Send(p, &messages.Flushed{})
	}
	w.flushes = w.flushes[:0]
}
