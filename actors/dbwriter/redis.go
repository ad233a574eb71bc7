package dbwriter

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// keyOp is one port's pending STATE_DB work in a batch.
type keyOp struct {
	port string
	op   stateOp
	// check: write op.set only if APPL_DB PORT_TABLE:<port> exists.
	check bool
	// prev is the state written before this op, if any: what the change
	// is from.
	prev    messages.PortState
	hadPrev bool
}

// batch is one pipelined write: everything pending when it was made.
type batch struct {
	ops []keyOp
	// appl are producer-protocol sets for APPL_DB, written after ops.
	appl []applSet
	// config: appl starts with the port configuration.
	config bool
	// initDone: appl ends with PortInitDone, asked for by portstate.
	initDone bool
	// restoreCount, when set, rewrites WARM_RESTART_TABLE|portsyncd.
	restoreCount *int64
	// probe asks for a check that no server restarted.
	probe bool
	// present, when set, are the links of a dump: portsyncd's STATE_DB
	// entries of other ports are stale and deleted, before ops.
	present map[string]bool
	// watchGen is the core's watch generation when the batch was made.
	watchGen int
}

type applSet struct {
	key    string
	fields []string
}

// result is Redis's answer to a batch.
type result struct {
	b          *batch
	acked      []string // ports whose HSET Redis acknowledged
	deleted    []string // ports whose DEL Redis acknowledged
	stale      []string // ports whose stale STATE_DB entry was deleted
	found      []string // ports checked and found in APPL_DB PORT_TABLE
	notInTable []keyOp  // HSETs held back: APPL_DB PORT_TABLE:<port> missing
	rejected   []rejection
	applDone   bool
	// refused: Redis refuses a producer write for good (an ACL): retrying
	// cannot help.
	refused error
	// Restarts of the servers noticed while writing this batch.
	stateRestarted, applRestarted bool
}

type rejection struct {
	op  keyOp
	err error
}

// redisIO does all of dbwriter's Redis I/O, one batch at a time, on the
// actor's Loop; the actor bounds each batch with a context deadline.
type redisIO struct {
	dbs *sonicdb.DBs
	// Server restarts noticed during batches that failed: a later batch
	// that lands still has to act on them.
	stateRestarted, applRestarted bool
}

// carry makes the server restarts noticed while writing res (and in failed
// batches before it) part of res once it landed, and keeps them for the
// next batch otherwise.
func (w *redisIO) carry(res *result, landed bool) {
	res.stateRestarted = res.stateRestarted || w.stateRestarted
	res.applRestarted = res.applRestarted || w.applRestarted
	w.stateRestarted, w.applRestarted = false, false
	if !landed {
		w.stateRestarted, w.applRestarted = res.stateRestarted, res.applRestarted
	}
}

// try writes b once. A non-nil error means a connection failure or the
// deadline: the whole batch is to be sent again (every command in it is
// idempotent). The result is never nil: it says which server restarts were
// noticed, also when the batch failed.
func (w *redisIO) try(ctx context.Context, b *batch) (*result, error) {
	res := &result{b: b}
	// APPL_DB first: on a cold start the port configuration and
	// PortConfigDone precede every STATE_DB write, as in SONiC's start-up.
	if err := w.publish(ctx, b, res); err != nil {
		return res, err
	}
	if b.present != nil {
		stale, err := w.deleteStale(ctx, b.present)
		if err != nil {
			return res, err
		}
		res.stale = stale
	}
	inTable, err := w.checkPortTable(ctx, b, res)
	if err != nil {
		return res, err
	}
	return res, w.writeState(ctx, b, inTable, res)
}

// publish writes the batch's producer-protocol sets to APPL_DB. A rejected
// one is not retried here: the core holds it and the actor tries again
// later; one refused for good is res.refused.
func (w *redisIO) publish(ctx context.Context, b *batch, res *result) error {
	if len(b.appl) == 0 {
		return nil
	}
	appl := w.dbs.Appl
	pipe := appl.Client.Pipeline()
	sets := make([]*redis.Cmd, len(b.appl))
	for i, a := range b.appl {
		sets[i] = sonicdb.ProducerSet(ctx, pipe, appl, sonic.PortTable, a.key, a.fields)
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !sonicdb.IsRedisError(err) {
		return fmt.Errorf("dbwriter: write APPL_DB: %w", err)
	}
	for _, set := range sets {
		if res.refused = sonicdb.ProducerRefusal(ctx, appl, set.Err()); res.refused != nil {
			break
		}
	}
	res.applDone = err == nil
	if appl.Restarted() { // read, and so cleared, every time
		res.applRestarted = true
	}
	return nil
}

// checkPortTable says which of the batch's ports may be written: SONiC
// writes STATE_DB only for ports orchagent has put in APPL_DB PORT_TABLE.
// The core says which to check; all are checked in one round trip.
func (w *redisIO) checkPortTable(ctx context.Context, b *batch, res *result) (map[string]bool, error) {
	appl := w.dbs.Appl
	inTable := make(map[string]bool)
	var checks []*redis.IntCmd
	var pipe redis.Pipeliner
	for _, ko := range b.ops {
		if !ko.check {
			continue
		}
		if pipe == nil {
			pipe = appl.Client.Pipeline()
		}
		checks = append(checks, pipe.Exists(ctx, appl.Key(sonic.PortTable, ko.port)))
	}
	if pipe == nil {
		return inTable, nil
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("dbwriter: check APPL_DB port table: %w", err)
	}
	if appl.Restarted() { // read, and so cleared, every time
		res.applRestarted = true
	}
	i := 0
	for _, ko := range b.ops {
		if ko.check {
			if checks[i].Val() > 0 {
				inTable[ko.port] = true
				res.found = append(res.found, ko.port)
			}
			i++
		}
	}
	return inTable, nil
}

// writeState sends the batch's STATE_DB deletes and writes in one pipeline
// and sorts Redis's answers into res: acknowledged, rejected, and writes
// held back for ports not in APPL_DB PORT_TABLE.
func (w *redisIO) writeState(ctx context.Context, b *batch, inTable map[string]bool, res *result) error {
	state := w.dbs.State
	pipe := state.Client.Pipeline()
	type sent struct {
		ko       keyOp
		del, set redis.Cmder
	}
	sends := make([]sent, 0, len(b.ops))
	for _, ko := range b.ops {
		s := sent{ko: ko}
		key := state.Key(sonic.PortTable, ko.port)
		if ko.op.del {
			s.del = pipe.Del(ctx, key)
		}
		if ko.op.set {
			if !ko.check || inTable[ko.port] {
				s.set = pipe.HSet(ctx, key, fields(ko.op.state)...)
			} else {
				res.notInTable = append(res.notInTable, keyOp{port: ko.port, op: stateOp{set: true, state: ko.op.state, force: ko.op.force}})
			}
		}
		sends = append(sends, s)
	}
	if b.restoreCount != nil {
		pipe.HSet(ctx, sonicdb.RestoreCountKey(state), sonic.FieldRestoreCount, *b.restoreCount)
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !sonicdb.IsRedisError(err) {
			return fmt.Errorf("dbwriter: write STATE_DB: %w", err)
		}
	}
	if state.Restarted() {
		res.stateRestarted = true
	}
	for _, s := range sends {
		if s.del != nil {
			if err := s.del.Err(); err != nil {
				res.rejected = append(res.rejected, rejection{op: s.ko, err: err})
				continue
			}
			res.deleted = append(res.deleted, s.ko.port)
		}
		if s.set != nil {
			if err := s.set.Err(); err != nil {
				res.rejected = append(res.rejected, rejection{op: s.ko, err: err})
				continue
			}
			res.acked = append(res.acked, s.ko.port)
		}
	}
	return nil
}

// deleteStale deletes the STATE_DB PORT_TABLE entries that a portsyncd wrote
// (they have netdev_oper_status) for SONiC port names not in present.
func (w *redisIO) deleteStale(ctx context.Context, present map[string]bool) ([]string, error) {
	state := w.dbs.State
	prefix := state.Key(sonic.PortTable, "")
	var candidates []string
	iter := state.Client.Scan(ctx, 0, sonicdb.EscapeGlob(prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		port := strings.TrimPrefix(iter.Val(), prefix)
		if !present[port] && sonic.IsPortName(port) {
			candidates = append(candidates, port)
		}
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("dbwriter: scan STATE_DB ports: %w", err)
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	// One script per key: check and delete atomically, so an entry written
	// meanwhile by another daemon without our fields is left alone.
	pipe := state.Client.Pipeline()
	cmds := make([]*redis.Cmd, len(candidates))
	for i, port := range candidates {
		cmds[i] = delIfOurs.Eval(ctx, pipe, []string{state.Key(sonic.PortTable, port)})
	}
	if _, err := pipe.Exec(ctx); err != nil && !sonicdb.IsRedisError(err) {
		return nil, fmt.Errorf("dbwriter: delete stale STATE_DB ports: %w", err)
	}
	var stale []string
	for i, port := range candidates {
		if n, _ := cmds[i].Int(); n == 1 {
			stale = append(stale, port)
		}
	}
	return stale, nil
}

var delIfOurs = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'netdev_oper_status') == 1 then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// probeRestarts makes each client connect again after a failure, so that a
// server that restarted is noticed even by a client this batch did not use
// (APPL_DB and STATE_DB often share one server). A ping that fails leaves
// the question for the next probe.
func (w *redisIO) probeRestarts(ctx context.Context, res *result) error {
	for _, db := range []*sonicdb.DB{w.dbs.Appl, w.dbs.State} {
		// A first ping may meet a pooled connection the server closed.
		if db.Client.Ping(ctx).Err() != nil {
			if err := db.Client.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("dbwriter: ping %s: %w", db.Name, err)
			}
		}
	}
	if w.dbs.State.Restarted() {
		res.stateRestarted = true
	}
	if w.dbs.Appl.Restarted() {
		res.applRestarted = true
	}
	return nil
}

// auditFields are the STATE_DB fields portsyncd owns, in fields' order.
var auditFields = []string{sonic.FieldState, sonic.FieldOperStatus, sonic.FieldAdminStatus, sonic.FieldMTU}

// audit reads back what a has: the fields of every written port's STATE_DB
// entry (drifted: they differ, or the entry is gone) and the existence of
// every cached APPL_DB PORT_TABLE entry (gone: it no longer exists). One
// round trip per database.
func (w *redisIO) audit(ctx context.Context, a *audit) (drifted, gone []string, err error) {
	state, appl := w.dbs.State, w.dbs.Appl
	if len(a.written) > 0 {
		pipe := state.Client.Pipeline()
		ports := make([]string, 0, len(a.written))
		cmds := make([]*redis.SliceCmd, 0, len(a.written))
		for port := range a.written {
			ports = append(ports, port)
			cmds = append(cmds, pipe.HMGet(ctx, state.Key(sonic.PortTable, port), auditFields...))
		}
		if _, err := pipe.Exec(ctx); err != nil && !sonicdb.IsRedisError(err) {
			return nil, nil, fmt.Errorf("dbwriter: audit STATE_DB: %w", err)
		}
		for i, port := range ports {
			want := fields(a.written[port])
			got, err := cmds[i].Result()
			if err != nil {
				continue // a rejected read is no evidence of drift
			}
			for j, v := range got {
				if s, ok := v.(string); !ok || s != want[2*j+1] {
					drifted = append(drifted, port)
					break
				}
			}
		}
	}
	if len(a.known) > 0 {
		// HLEN, not EXISTS: the same answer for a hash, and on the wire an
		// audit read tells itself apart from a write's check.
		pipe := appl.Client.Pipeline()
		cmds := make([]*redis.IntCmd, len(a.known))
		for i, port := range a.known {
			cmds[i] = pipe.HLen(ctx, appl.Key(sonic.PortTable, port))
		}
		if _, err := pipe.Exec(ctx); err != nil && !sonicdb.IsRedisError(err) {
			return nil, nil, fmt.Errorf("dbwriter: audit APPL_DB port table: %w", err)
		}
		for i, port := range a.known {
			if n, err := cmds[i].Result(); err == nil && n == 0 {
				gone = append(gone, port)
			}
		}
	}
	return drifted, gone, nil
}
