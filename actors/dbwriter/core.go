package dbwriter

import (
	"maps"
	"slices"
	"time"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Owned is the APPL_DB and STATE_DB state portsyncd owns beyond the ports'
// STATE_DB entries, fixed at start-up: what a cold start publishes, and what
// is written again after a server restart.
type Owned struct {
	// ConfigPorts are published to APPL_DB PORT_TABLE on a cold start, then
	// PortConfigDone with their count; on a warm start neither. Both are
	// published again when the APPL_DB server restarted.
	ConfigPorts []sonicdb.Port
	ColdStart   bool
	// RestoreCount is STATE_DB WARM_RESTART_TABLE|portsyncd restore_count.
	RestoreCount int64
}

// core is dbwriter's state machine, with no Redis, no actor and no clock:
// it coalesces what portstate decided into one pending operation per port,
// says what the next batch to Redis holds, and takes the batch's result.
type core struct {
	owned Owned
	// pending holds the coalesced, not yet sent work: at most one op per
	// port, so memory is bounded by the number of ports, however long Redis
	// is away.
	pending map[string]stateOp
	// written is the state last sent for each port; an update equal to it
	// changes nothing and is dropped.
	written map[string]messages.PortState
	// held are writes Redis rejected, until a retry (backoff timer) or
	// newer work.
	held map[string]stateOp
	// waiting are HSETs for ports not in APPL_DB PORT_TABLE (SONiC writes
	// STATE_DB only for ports orchagent has consumed), until the entry
	// appears (a keyspace event), a slow re-check (without events), or
	// newer work.
	waiting map[string]stateOp
	// known are the ports seen in APPL_DB PORT_TABLE while keyspace events
	// are watched: their writes need no EXISTS. A del event forgets a port,
	// so a port removed from PORT_TABLE gets no more STATE_DB writes.
	// Without events it stays empty and every write checks, as the
	// original does.
	known map[string]bool
	// watching: keyspace events of APPL_DB PORT_TABLE are being received.
	watching bool
	// watchGen counts changes of watching; a batch built under another
	// generation must not fill known.
	watchGen int
	// reconcile is the newest dump's link names, until its stale STATE_DB
	// entries are deleted.
	reconcile map[string]bool
	// drifted are ports an audit found changed in STATE_DB behind this
	// daemon's back, until their rewrite is acknowledged.
	drifted map[string]bool

	busy           bool // a batch is with Redis
	down           bool // the last batch did not reach Redis: wait for the retry
	configWanted   bool // publish ConfigPorts (and PortConfigDone)
	initDoneWanted bool // publish PortInitDone
	initDoneSent   bool
	applHeld       bool // an APPL_DB write was rejected: wait for the retry
	restoreWanted  bool // rewrite restore_count
	probeDue       bool // check the servers did not restart

	stats *Stats
}

func newCore(owned Owned, initDoneSent bool, stats *Stats) *core {
	return &core{
		owned:        owned,
		pending:      make(map[string]stateOp),
		written:      make(map[string]messages.PortState),
		held:         make(map[string]stateOp),
		waiting:      make(map[string]stateOp),
		known:        make(map[string]bool),
		drifted:      make(map[string]bool),
		configWanted: owned.ColdStart,
		initDoneSent: initDoneSent,
		stats:        stats,
	}
}

// take folds portstate's decisions into the pending work.
func (c *core) take(m *messages.StateOps) {
	for _, op := range m.Ops {
		c.add(op.Port, stateOp{del: op.Del, set: op.Set, state: op.State, force: op.Force, received: op.Received})
	}
	if m.Present != nil {
		c.reconcile = m.Present
	}
	if m.InitDone && !c.initDoneSent {
		c.initDoneWanted = true
	}
}

// add coalesces op into the pending work for port: the newest state wins and
// a DEL supersedes what came before it.
func (c *core) add(port string, op stateOp) {
	if h, ok := c.held[port]; ok {
		op = merge(h, op)
		delete(c.held, port)
	}
	if w, ok := c.waiting[port]; ok {
		op = merge(w, op)
		delete(c.waiting, port)
	}
	if p, ok := c.pending[port]; ok {
		c.stats.Coalesced.Add(1)
		c.pending[port] = merge(p, op)
		return
	}
	if op.set && !op.del && !op.force {
		if st, ok := c.written[port]; ok && st == op.state {
			c.stats.Unchanged.Add(1)
			return
		}
	}
	c.pending[port] = op
}

// next returns the batch to hand to Redis, or nil when a batch is in flight
// or nothing is to be written. While a batch is in flight new work
// accumulates and coalesces, so batches grow with Redis's round-trip time.
func (c *core) next() *batch {
	if c.busy || c.down {
		return nil
	}
	b := &batch{}
	if len(c.pending) > 0 {
		b.ops = make([]keyOp, 0, len(c.pending))
		for port, op := range c.pending {
			prev, had := c.written[port]
			// Unless keyspace events vouch for it, a port's presence in
			// APPL_DB PORT_TABLE is checked before its write.
			check := op.set && !(c.watching && c.known[port])
			b.ops = append(b.ops, keyOp{port: port, op: op, check: check, prev: prev, hadPrev: had && !op.del})
			if op.del {
				delete(c.written, port)
				delete(c.drifted, port)
			}
			if op.set {
				c.written[port] = op.state
			}
		}
		clear(c.pending)
	}
	if !c.applHeld {
		if c.configWanted {
			b.config = true
			for _, p := range c.owned.ConfigPorts {
				b.appl = append(b.appl, applSet{key: p.Name, fields: p.Fields})
			}
			if c.owned.ColdStart {
				b.appl = append(b.appl, portConfigDone(len(c.owned.ConfigPorts)))
			}
			if c.initDoneSent {
				b.appl = append(b.appl, portInitDone())
			}
		}
		// PortInitDone was asked for only after Redis had acknowledged the
		// STATE_DB writes of every configured port, in earlier batches.
		if c.initDoneWanted && !c.initDoneSent {
			b.appl = append(b.appl, portInitDone())
			b.initDone = true
		}
	}
	if c.restoreWanted {
		n := c.owned.RestoreCount
		b.restoreCount = &n
	}
	b.present, c.reconcile = c.reconcile, nil
	b.watchGen = c.watchGen
	// Any batch notices a restarted server; an idle writer sends an empty
	// one now and then for that alone.
	b.probe, c.probeDue = c.probeDue, false
	if len(b.ops) == 0 && len(b.appl) == 0 && b.restoreCount == nil && b.present == nil && !b.probe {
		return nil
	}
	c.busy = true
	c.stats.Batches.Add(1)
	if n := uint64(len(b.ops)); n > c.stats.MaxBatch.Load() {
		c.stats.MaxBatch.Store(n)
	}
	return b
}

func portConfigDone(n int) applSet {
	return applSet{key: sonic.PortConfigDone, fields: sonic.PortConfigDoneFields(n)}
}

func portInitDone() applSet {
	return applSet{key: sonic.PortInitDone, fields: sonic.PortInitDoneFields()}
}

// outcome is what a finished batch means for the actor: whom to tell, what
// to log, whether to retry later.
type outcome struct {
	acked []string // ports whose STATE_DB write Redis acknowledged
	// deleted are ports whose STATE_DB entry was deleted (a DELLINK, or a
	// DEL before a re-creation).
	deleted []string
	// received are the kernel receive times of the acknowledged writes,
	// where known: the end-to-end latency starts there.
	received []time.Time
	// changes are the acknowledged writes that changed a port's state.
	changes        []change
	stale          []string // stale STATE_DB entries deleted
	notInTable     []string // newly waiting: not in APPL_DB PORT_TABLE
	rejected       []rejection
	applRejected   int // producer writes Redis rejected
	initDoneSent   bool
	configSent     bool // the port configuration was published
	stateRestarted bool // rewriting everything this daemon owns in STATE_DB
	applRestarted  bool // republishing the port configuration
	retry          bool // held work waits: arm the retry timer
}

// change is a port's state as written, and what it was before.
type change struct {
	port    string
	prev    messages.PortState
	hadPrev bool
	state   messages.PortState
}

// recheckDue reports whether writes wait for APPL_DB PORT_TABLE with no
// keyspace events to release them: the slow re-check timer is to run.
func (c *core) recheckDue() bool { return !c.watching && len(c.waiting) > 0 }

// finish takes the result of the batch in flight.
func (c *core) finish(res *result) outcome {
	c.busy = false
	var out outcome
	c.takeState(res, &out)
	c.takeAppl(res, &out)
	c.takeRestarts(res, &out)
	c.stats.Drifted.Store(int64(len(c.drifted)))
	return out
}

// takeState takes what Redis said of the batch's STATE_DB work: written,
// deleted, stale entries gone, writes waiting for APPL_DB PORT_TABLE, and
// writes it rejected (held for a retry).
func (c *core) takeState(res *result, out *outcome) {
	s, b := c.stats, res.b
	for _, ko := range b.ops {
		if ko.op.del {
			s.Deletes.Add(1)
		}
	}
	s.Writes.Add(uint64(len(res.acked)))
	out.acked, out.deleted, out.stale = res.acked, res.deleted, res.stale
	acked := make(map[string]bool, len(res.acked))
	for _, p := range res.acked {
		acked[p] = true
		delete(c.drifted, p)
	}
	for _, ko := range b.ops {
		if !acked[ko.port] {
			continue
		}
		if !ko.op.received.IsZero() {
			out.received = append(out.received, ko.op.received)
		}
		if !ko.hadPrev || ko.prev != ko.op.state {
			out.changes = append(out.changes, change{port: ko.port, prev: ko.prev, hadPrev: ko.hadPrev, state: ko.op.state})
		}
	}
	for _, port := range res.stale {
		delete(c.written, port)
		delete(c.drifted, port)
		s.Reconciled.Add(1)
	}
	if c.watching && b.watchGen == c.watchGen {
		for _, port := range res.found {
			c.known[port] = true
		}
	}
	for _, ko := range res.notInTable {
		delete(c.written, ko.port)
		delete(c.drifted, ko.port)
		s.NotInTable.Add(1)
		out.notInTable = append(out.notInTable, ko.port)
		c.wait(ko)
	}
	for _, r := range res.rejected {
		delete(c.written, r.op.port)
		delete(c.drifted, r.op.port)
		s.Rejected.Add(1)
		out.rejected = append(out.rejected, r)
		out.retry = c.hold(r.op) || out.retry
	}
	if b.restoreCount != nil {
		c.restoreWanted = false
	}
}

// takeAppl takes the result of the batch's APPL_DB producer writes: the
// configuration and PortInitDone published, or held for a retry.
func (c *core) takeAppl(res *result, out *outcome) {
	b := res.b
	if len(b.appl) == 0 {
		return
	}
	if !res.applDone {
		c.stats.Rejected.Add(1)
		out.applRejected = len(b.appl)
		c.applHeld = true
		out.retry = true
		return
	}
	out.configSent = b.config
	c.configWanted = c.configWanted && !b.config
	if b.initDone {
		c.initDoneWanted = false
		c.initDoneSent = true
		out.initDoneSent = true
	}
}

// takeRestarts answers a server found restarted (and so emptied): all the
// state this daemon owns there is written again.
func (c *core) takeRestarts(res *result, out *outcome) {
	s := c.stats
	if res.stateRestarted {
		// Older than anything pending.
		s.RedisRestarts.Add(1)
		out.stateRestarted = true
		for port, st := range c.written {
			op := stateOp{set: true, state: st, force: true}
			if p, ok := c.pending[port]; ok {
				op = merge(op, p)
			}
			c.pending[port] = op
		}
		c.restoreWanted = true
	}
	if res.applRestarted {
		clear(c.known)
		s.RedisRestarts.Add(1)
		out.applRestarted = true
		c.configWanted = true
	}
}

// failed takes back a batch that did not reach Redis (the connection
// failed, or the deadline passed): its work is pending again, and nothing
// is sent until retry. What it would have published stays wanted, since
// only a result clears that.
func (c *core) failed(b *batch) {
	c.busy = false
	c.down = true
	c.stats.ConnRetries.Add(1)
	for _, ko := range b.ops {
		// Nothing was added meanwhile (the write is synchronous), so the
		// state written before the batch is the one to compare with.
		if ko.op.set {
			if ko.hadPrev {
				c.written[ko.port] = ko.prev
			} else {
				delete(c.written, ko.port)
			}
		}
		c.repend(ko.port, ko.op)
	}
	if c.reconcile == nil {
		c.reconcile = b.present
	}
	c.probeDue = c.probeDue || b.probe
}

// hold keeps ko for a later retry, unless newer work for the port is
// pending; it reports whether anything is held.
func (c *core) hold(ko keyOp) bool {
	if _, newer := c.pending[ko.port]; newer {
		return false
	}
	if h, ok := c.held[ko.port]; ok {
		ko.op = merge(h, ko.op)
	}
	c.held[ko.port] = ko.op
	return true
}

// wait keeps ko until APPL_DB PORT_TABLE has the port, unless newer work
// for the port is pending.
func (c *core) wait(ko keyOp) {
	if _, newer := c.pending[ko.port]; newer {
		return
	}
	c.waiting[ko.port] = ko.op
}

// repend makes op pending again, forced and older than what is pending.
func (c *core) repend(port string, op stateOp) {
	op.force = true
	if p, ok := c.pending[port]; ok {
		op = merge(op, p)
	}
	c.pending[port] = op
}

// retry makes held and failed work pending again (the retry timer fired).
func (c *core) retry() {
	c.applHeld = false
	c.down = false
	for port, op := range c.held {
		c.repend(port, op)
	}
	clear(c.held)
}

// recheck makes every waiting write pending again, to check APPL_DB
// PORT_TABLE once more: the slow re-check timer fired, which matters only
// while no keyspace events come.
func (c *core) recheck() {
	if c.watching {
		return
	}
	c.releaseWaiting()
}

func (c *core) releaseWaiting() {
	for port, op := range c.waiting {
		c.repend(port, op)
	}
	clear(c.waiting)
}

// watch records whether keyspace events of APPL_DB PORT_TABLE are being
// received. Either way what was learnt before is void (events may have been
// missed), and every waiting write is checked again.
func (c *core) watch(on bool) {
	if on == c.watching {
		return
	}
	c.watching = on
	c.watchGen++
	clear(c.known)
	c.releaseWaiting()
}

// portTableEvent takes a keyspace event of APPL_DB PORT_TABLE:<port>: a
// removal (del, expired ...) forgets the port; anything else means the
// entry exists (orchagent's consumer HSETs it), which releases the port's
// waiting write. It reports whether a removal was taken.
func (c *core) portTableEvent(port string, gone bool) (removed bool) {
	if !c.watching || !sonic.IsPortName(port) {
		return false
	}
	c.stats.PortTableEvents.Add(1)
	if gone {
		delete(c.known, port)
		return true
	}
	c.known[port] = true
	if op, ok := c.waiting[port]; ok {
		delete(c.waiting, port)
		c.repend(port, op)
	}
	return false
}

// probe asks the next batch to check that no server restarted.
func (c *core) probe() { c.probeDue = true }

// drained reports whether nothing is pending or in flight. Held writes do
// not count: they wait for other daemons, not for Redis.
func (c *core) drained() bool {
	return !c.busy && len(c.pending) == 0 && !c.initDoneWanted && !c.configWanted && c.reconcile == nil
}

// writtenView is the state last written for each port, for state dumps.
func (c *core) writtenView() map[string]map[string]string {
	v := make(map[string]map[string]string, len(c.written))
	for port, st := range c.written {
		v[port] = map[string]string{sonic.FieldAdminStatus: sonic.UpDown(st.AdminUp), sonic.FieldOperStatus: sonic.UpDown(st.OperUp), sonic.FieldMTU: mtuString(st.MTU)}
	}
	return v
}

// audit is what a periodic audit checks in Redis: every port whose state
// this daemon wrote (does STATE_DB still hold it?), and every port the
// APPL_DB PORT_TABLE cache vouches for (does the entry still exist?).
type audit struct {
	written map[string]messages.PortState
	known   []string
}

// auditWanted returns what to audit, or nil when a batch is with Redis,
// Redis is down, or there is nothing to check.
func (c *core) auditWanted() *audit {
	if c.busy || c.down || len(c.written)+len(c.known) == 0 {
		return nil
	}
	a := &audit{written: maps.Clone(c.written), known: slices.Collect(maps.Keys(c.known))}
	return a
}

// audited takes an audit's findings: drifted are ports whose STATE_DB entry
// no longer holds what was written (someone deleted or changed it, or the
// database was flushed), gone are cached ports no longer in APPL_DB
// PORT_TABLE (an event missed: FLUSHDB sends none). A drifted port is
// written again, unless newer work for it is pending anyway; a gone port is
// checked before its next write. It reports the ports to rewrite.
func (c *core) audited(a *audit, drifted, gone []string) []string {
	for _, port := range gone {
		delete(c.known, port)
	}
	var rewrite []string
	for _, port := range drifted {
		st, ok := c.written[port]
		if !ok || st != a.written[port] {
			continue // written again since the audit read it
		}
		c.drifted[port] = true
		c.stats.DriftRepairs.Add(1)
		c.repend(port, stateOp{set: true, state: st})
		rewrite = append(rewrite, port)
	}
	c.stats.Drifted.Store(int64(len(c.drifted)))
	return rewrite
}
