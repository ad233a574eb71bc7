package dbwriter

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
)

var (
	up   = messages.PortState{AdminUp: true, OperUp: true, MTU: 9100}
	down = messages.PortState{MTU: 9100}
)

func setOp(port string, st messages.PortState) messages.PortOp {
	return messages.PortOp{Port: port, Set: true, State: st}
}

func delOp(port string) messages.PortOp { return messages.PortOp{Port: port, Del: true} }

func ops(o ...messages.PortOp) *messages.StateOps { return &messages.StateOps{Ops: o} }

// view is a batch as a test compares it.
type view struct {
	Ops     map[string]stateOp
	Appl    []string // keys, in order
	Restore *int64
	Present map[string]bool
	Probe   bool
}

func viewOf(b *batch) *view {
	if b == nil {
		return nil
	}
	v := &view{Ops: map[string]stateOp{}, Restore: b.restoreCount, Present: b.present, Probe: b.probe}
	for _, ko := range b.ops {
		v.Ops[ko.port] = ko.op
	}
	for _, a := range b.appl {
		v.Appl = append(v.Appl, a.key)
	}
	return v
}

// acked is a result in which Redis took every command of b.
func acked(b *batch) *result {
	res := &result{b: b, applDone: true}
	for _, ko := range b.ops {
		if ko.op.set {
			res.acked = append(res.acked, ko.port)
		}
	}
	slices.Sort(res.acked)
	return res
}

// found is a result in which Redis took every command of b and, of the
// ports b checked in APPL_DB PORT_TABLE, found only those of in.
func found(b *batch, in ...string) *result {
	res := &result{b: b, applDone: true}
	for _, ko := range b.ops {
		switch {
		case ko.check && slices.Contains(in, ko.port):
			res.found = append(res.found, ko.port)
			res.acked = append(res.acked, ko.port)
		case ko.check && ko.op.set:
			res.notInTable = append(res.notInTable, keyOp{port: ko.port, op: ko.op})
		case ko.op.set:
			res.acked = append(res.acked, ko.port)
		}
	}
	return res
}

// checked are the ports whose write b makes only if they are in APPL_DB
// PORT_TABLE, sorted.
func checked(b *batch) []string {
	var out []string
	for _, ko := range b.ops {
		if ko.check {
			out = append(out, ko.port)
		}
	}
	slices.Sort(out)
	return out
}

var cmpOpts = []cmp.Option{cmp.AllowUnexported(stateOp{}), cmpopts.EquateEmpty()}

func checkNext(t *testing.T, c *core, want *view) *batch {
	t.Helper()
	b := c.next()
	if diff := cmp.Diff(want, viewOf(b), cmpOpts...); diff != "" {
		t.Fatalf("next batch (-want +got):\n%s", diff)
	}
	return b
}

func cold(ports ...string) Owned {
	o := Owned{ColdStart: true, RestoreCount: 0}
	for _, p := range ports {
		o.ConfigPorts = append(o.ConfigPorts, sonicdb.Port{Name: p, Fields: []string{"lanes", "0"}})
	}
	return o
}

var warm = Owned{RestoreCount: 4}

func n64(n int64) *int64 { return &n }

// TestCore has one row per rule of the writer: SONIC_SPEC.md sections 2.4,
// 2.7, 4.6, 4.7 and our section 8.
func TestCore(t *testing.T) {
	tests := []struct {
		name  string
		owned Owned
		run   func(t *testing.T, c *core)
	}{
		{"8 coalescing: the newest state of a port wins", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up), setOp("Ethernet4", up)))
			c.take(ops(setOp("Ethernet0", down)))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: down}, "Ethernet4": {set: true, state: up}}})
			if c.stats.Coalesced.Load() != 1 {
				t.Errorf("coalesced = %d, want 1", c.stats.Coalesced.Load())
			}
		}},
		{"8 a DEL supersedes the state before it (4.6)", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up), delOp("Ethernet0")))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {del: true}}})
		}},
		{"8 DEL then re-create: DEL first, then the new state", warm, func(t *testing.T, c *core) {
			c.take(ops(delOp("Ethernet0"), setOp("Ethernet0", up)))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {del: true, set: true, state: up}}})
		}},
		{"8 a state equal to the one written is not written again", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(acked(c.next()))
			c.take(ops(setOp("Ethernet0", up)))
			checkNext(t, c, nil)
			if c.stats.Unchanged.Load() != 1 {
				t.Errorf("unchanged = %d, want 1", c.stats.Unchanged.Load())
			}
		}},
		{"8 forced (after a dump) is written even when unchanged", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(acked(c.next()))
			op := setOp("Ethernet0", up)
			op.Force = true
			c.take(ops(op))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: up, force: true}}})
		}},
		{"8 one batch in flight: newer work waits and coalesces", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			b := c.next()
			c.take(ops(setOp("Ethernet0", down)))
			c.take(ops(setOp("Ethernet0", up)))
			checkNext(t, c, nil)
			out := c.finish(acked(b))
			if diff := cmp.Diff([]string{"Ethernet0"}, out.acked); diff != "" {
				t.Errorf("acked (-want +got):\n%s", diff)
			}
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: up}}})
		}},
		{"2.4 cold start: the first batch publishes every port, then PortConfigDone", cold("Ethernet0", "Ethernet4"), func(t *testing.T, c *core) {
			b := checkNext(t, c, &view{Appl: []string{"Ethernet0", "Ethernet4", "PortConfigDone"}})
			if diff := cmp.Diff([]string{"count", "2"}, b.appl[2].fields); diff != "" {
				t.Errorf("PortConfigDone fields (-want +got):\n%s", diff)
			}
			c.finish(acked(b))
			checkNext(t, c, nil)
		}},
		{"2.4 cold start with no ports: PortConfigDone count 0", cold(), func(t *testing.T, c *core) {
			b := checkNext(t, c, &view{Appl: []string{"PortConfigDone"}})
			if diff := cmp.Diff([]string{"count", "0"}, b.appl[0].fields); diff != "" {
				t.Errorf("PortConfigDone fields (-want +got):\n%s", diff)
			}
		}},
		{"2.4 warm start publishes nothing", warm, func(t *testing.T, c *core) {
			checkNext(t, c, nil)
		}},
		{"2.7 PortInitDone is published when asked, once", warm, func(t *testing.T, c *core) {
			c.take(&messages.StateOps{InitDone: true})
			b := checkNext(t, c, &view{Appl: []string{"PortInitDone"}})
			if diff := cmp.Diff([]string{"lanes", "0"}, b.appl[0].fields); diff != "" {
				t.Errorf("PortInitDone fields (-want +got):\n%s", diff)
			}
			if out := c.finish(acked(b)); !out.initDoneSent {
				t.Errorf("PortInitDone not reported sent")
			}
			c.take(&messages.StateOps{InitDone: true})
			checkNext(t, c, nil)
		}},
		{"2.7 PortInitDone asked while another batch is in flight is sent in the next", cold(), func(t *testing.T, c *core) {
			b := c.next() // PortConfigDone
			c.take(&messages.StateOps{InitDone: true})
			if out := c.finish(acked(b)); out.initDoneSent {
				t.Errorf("PortInitDone reported sent with a batch that did not hold it")
			}
			checkNext(t, c, &view{Appl: []string{"PortInitDone"}})
		}},
		{"2.7 an incarnation after PortInitDone never publishes it again", warm, func(t *testing.T, _ *core) {
			c := newCore(warm, true, &Stats{})
			c.take(&messages.StateOps{InitDone: true})
			checkNext(t, c, nil)
		}},
		{"a rejected APPL_DB write waits for the retry", cold("Ethernet0"), func(t *testing.T, c *core) {
			b := c.next()
			res := acked(b)
			res.applDone = false
			if out := c.finish(res); !out.retry || out.applRejected != 2 {
				t.Errorf("outcome %+v, want a retry of 2 keys", out)
			}
			c.take(ops(setOp("Ethernet0", up)))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: up}}})
			c.finish(acked(&batch{}))
			c.retry()
			checkNext(t, c, &view{Appl: []string{"Ethernet0", "PortConfigDone"}})
		}},
		{"4.7 without keyspace events every write checks APPL_DB PORT_TABLE first", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up), delOp("Ethernet4")))
			b := c.next()
			if diff := cmp.Diff([]string{"Ethernet0"}, checked(b)); diff != "" {
				t.Errorf("checked (-want +got):\n%s", diff)
			}
			c.finish(found(b, "Ethernet0"))
			c.take(ops(setOp("Ethernet0", down)))
			if diff := cmp.Diff([]string{"Ethernet0"}, checked(c.next())); diff != "" {
				t.Errorf("checked again (-want +got):\n%s", diff)
			}
		}},
		{"4.7 a port not in APPL_DB PORT_TABLE waits; without events the slow re-check checks again, forced", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			out := c.finish(found(c.next()))
			if out.retry || !slices.Equal(out.notInTable, []string{"Ethernet0"}) || !c.recheckDue() {
				t.Errorf("outcome %+v recheckDue %v, want Ethernet0 waiting for the slow re-check, no retry", out, c.recheckDue())
			}
			checkNext(t, c, nil)
			if !c.drained() {
				t.Errorf("waiting work counts as pending for a drain")
			}
			c.retry() // the backoff timer of rejected writes leaves it alone
			checkNext(t, c, nil)
			c.recheck()
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: up, force: true}}})
		}},
		{"4.7 a DEL supersedes a waiting write", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(found(c.next()))
			c.take(ops(delOp("Ethernet0")))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {del: true}}})
			if len(c.waiting) != 0 {
				t.Errorf("waiting = %v, want nothing", c.waiting)
			}
		}},
		{"4.7 with events, a port found in PORT_TABLE is written without a check", warm, func(t *testing.T, c *core) {
			c.watch(true)
			c.take(ops(setOp("Ethernet0", up)))
			b := c.next()
			if diff := cmp.Diff([]string{"Ethernet0"}, checked(b)); diff != "" {
				t.Errorf("first write checked (-want +got):\n%s", diff)
			}
			c.finish(found(b, "Ethernet0"))
			c.take(ops(setOp("Ethernet0", down)))
			if got := checked(c.next()); len(got) != 0 {
				t.Errorf("checked %v, want no check for a known port", got)
			}
			if c.recheckDue() {
				t.Errorf("slow re-check due while watching")
			}
		}},
		{"4.7 with events, orchagent's hset releases the waiting write at once", warm, func(t *testing.T, c *core) {
			c.watch(true)
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(found(c.next()))
			if c.recheckDue() {
				t.Errorf("slow re-check due while watching")
			}
			c.recheck() // a stale tick changes nothing
			checkNext(t, c, nil)
			c.portTableEvent("Ethernet0", false)
			b := checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: up, force: true}}})
			if got := checked(b); len(got) != 0 {
				t.Errorf("checked %v after the hset event, want none", got)
			}
		}},
		{"4.7 with events, a del forgets the port: its next write is checked (and held if absent)", warm, func(t *testing.T, c *core) {
			c.watch(true)
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(found(c.next(), "Ethernet0"))
			c.portTableEvent("Ethernet0", true)
			c.take(ops(setOp("Ethernet0", down)))
			b := c.next()
			if diff := cmp.Diff([]string{"Ethernet0"}, checked(b)); diff != "" {
				t.Errorf("checked (-want +got):\n%s", diff)
			}
			if out := c.finish(found(b)); !slices.Equal(out.notInTable, []string{"Ethernet0"}) {
				t.Errorf("outcome %+v, want Ethernet0 waiting", out)
			}
		}},
		{"4.7 events start or stop: what was known is forgotten and everything waiting is checked again", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			b := c.next()
			c.watch(true) // subscribed while the batch was in flight
			c.finish(found(b, "Ethernet0"))
			c.take(ops(setOp("Ethernet0", down), setOp("Ethernet4", up)))
			b = c.next()
			if diff := cmp.Diff([]string{"Ethernet0", "Ethernet4"}, checked(b)); diff != "" {
				t.Errorf("a batch from before the subscription filled the cache (-want +got):\n%s", diff)
			}
			c.finish(found(b, "Ethernet0"))
			c.watch(false) // subscription lost
			b = checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet4": {set: true, state: up, force: true}}})
			c.finish(found(b))
			c.watch(true) // subscribed again
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet4": {set: true, state: up, force: true}}})
		}},
		{"4.7 events of other keys and events while not watching are ignored", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(found(c.next()))
			c.portTableEvent("Ethernet0", false) // not watching: cannot be trusted
			checkNext(t, c, nil)
			c.watch(true)
			c.finish(found(c.next()))
			c.portTableEvent("PortInitDone", false)
			if len(c.known) != 0 || c.stats.PortTableEvents.Load() != 0 {
				t.Errorf("known %v events %d, want nothing taken", c.known, c.stats.PortTableEvents.Load())
			}
		}},
		{"8 APPL_DB restarted: what was known of PORT_TABLE is forgotten", warm, func(t *testing.T, c *core) {
			c.watch(true)
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(found(c.next(), "Ethernet0"))
			c.take(ops(setOp("Ethernet0", down)))
			res := found(c.next())
			res.applRestarted = true
			c.finish(res)
			c.take(ops(setOp("Ethernet0", up)))
			if diff := cmp.Diff([]string{"Ethernet0"}, checked(c.next())); diff != "" {
				t.Errorf("checked (-want +got):\n%s", diff)
			}
		}},
		{"4.7 events that happened during a batch are taken after its result, and win", warm, func(t *testing.T, c *core) {
			c.watch(true)
			c.take(ops(setOp("Ethernet0", up), setOp("Ethernet4", up)))
			b := c.next()
			c.finish(found(b, "Ethernet0"))      // Ethernet4 waits
			c.portTableEvent("Ethernet0", true)  // removed after the EXISTS found it
			c.portTableEvent("Ethernet4", false) // appeared after the EXISTS missed it
			b = checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet4": {set: true, state: up, force: true}}})
			if got := checked(b); len(got) != 0 {
				t.Errorf("checked %v, want none: the hset event vouches for Ethernet4", got)
			}
			c.finish(found(b))
			c.take(ops(setOp("Ethernet0", down)))
			if diff := cmp.Diff([]string{"Ethernet0"}, checked(c.next())); diff != "" {
				t.Errorf("checked (-want +got):\n%s", diff)
			}
		}},
		{"a rejected write is held, newer work for the port replaces it", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			b := c.next()
			res := &result{b: b, applDone: true, rejected: []rejection{{op: keyOp{port: "Ethernet0", op: stateOp{set: true, state: up}}, err: errors.New("WRONGTYPE")}}}
			if out := c.finish(res); len(out.rejected) != 1 || !out.retry {
				t.Errorf("outcome %+v, want one rejection and a retry", out)
			}
			c.take(ops(delOp("Ethernet0")))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {del: true}}})
			if len(c.held) != 0 {
				t.Errorf("held = %v, want nothing", c.held)
			}
		}},
		{"8 STATE_DB restarted: everything written is rewritten, and restore_count", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up), setOp("Ethernet4", down), delOp("Ethernet8")))
			c.finish(acked(c.next()))
			c.take(ops(setOp("Ethernet4", up)))
			b := c.next()
			res := acked(b)
			res.stateRestarted = true
			if out := c.finish(res); !out.stateRestarted {
				t.Errorf("restart not reported")
			}
			checkNext(t, c, &view{Ops: map[string]stateOp{
				"Ethernet0": {set: true, state: up, force: true},
				"Ethernet4": {set: true, state: up, force: true},
			}, Restore: n64(4)})
		}},
		{"8 APPL_DB restarted: configuration, PortConfigDone and PortInitDone again", cold("Ethernet0"), func(t *testing.T, c *core) {
			c.finish(acked(c.next()))
			c.take(&messages.StateOps{InitDone: true})
			c.finish(acked(c.next()))
			c.probe()
			res := acked(c.next())
			res.applRestarted = true
			c.finish(res)
			checkNext(t, c, &view{Appl: []string{"Ethernet0", "PortConfigDone", "PortInitDone"}})
		}},
		{"8 APPL_DB restarted on a warm start: configuration, no PortConfigDone", Owned{ConfigPorts: cold("Ethernet0").ConfigPorts}, func(t *testing.T, c *core) {
			c.probe()
			res := acked(c.next())
			res.applRestarted = true
			c.finish(res)
			checkNext(t, c, &view{Appl: []string{"Ethernet0"}})
		}},
		{"8 after a dump, stale entries are reconciled in the next batch", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(acked(c.next()))
			c.take(&messages.StateOps{Present: map[string]bool{"Ethernet4": true}})
			b := checkNext(t, c, &view{Present: map[string]bool{"Ethernet4": true}})
			res := acked(b)
			res.stale = []string{"Ethernet0"}
			c.finish(res)
			// Ethernet0 is no longer known as written: its state is new again.
			c.take(ops(setOp("Ethernet0", up)))
			checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: up}}})
		}},
		{"8 an idle writer probes for restarted servers with an empty batch", warm, func(t *testing.T, c *core) {
			c.probe()
			checkNext(t, c, &view{Probe: true})
		}},
		{"drained only when nothing is pending or in flight", cold(), func(t *testing.T, c *core) {
			if c.drained() {
				t.Errorf("drained before the configuration was published")
			}
			b := c.next()
			if c.drained() {
				t.Errorf("drained with a batch in flight")
			}
			c.finish(acked(b))
			if !c.drained() {
				t.Errorf("not drained after the last batch")
			}
		}},
		{"8 a batch that did not reach Redis is taken back whole, and waits for the retry", cold("Ethernet0"), func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up), delOp("Ethernet4")))
			c.take(&messages.StateOps{Present: map[string]bool{"Ethernet0": true}})
			c.probe()
			b := c.next()
			c.failed(b)
			if c.stats.ConnRetries.Load() != 1 {
				t.Errorf("conn retries = %d, want 1", c.stats.ConnRetries.Load())
			}
			c.take(ops(setOp("Ethernet8", down)))
			checkNext(t, c, nil) // down until the retry timer
			if c.drained() {
				t.Errorf("drained with failed work pending")
			}
			c.retry()
			checkNext(t, c, &view{Ops: map[string]stateOp{
				"Ethernet0": {set: true, state: up, force: true},
				"Ethernet4": {del: true, force: true},
				"Ethernet8": {set: true, state: down},
			}, Appl: []string{"Ethernet0", "PortConfigDone"}, Present: map[string]bool{"Ethernet0": true}, Probe: true})
		}},
		{"8 a failed batch keeps the newer state of a port, and what was written before it", warm, func(t *testing.T, c *core) {
			c.take(ops(setOp("Ethernet0", up)))
			c.finish(acked(c.next()))
			c.take(ops(setOp("Ethernet0", down)))
			c.failed(c.next())
			c.retry()
			b := checkNext(t, c, &view{Ops: map[string]stateOp{"Ethernet0": {set: true, state: down, force: true}}})
			if ko := b.ops[0]; !ko.hadPrev || ko.prev != up {
				t.Errorf("retried op's previous state = %v (had %v), want %v: the failed write never landed", ko.prev, ko.hadPrev, up)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newCore(tt.owned, false, &Stats{}))
		})
	}
}

// TestCoreBoundedByPorts: however many updates come while Redis is away,
// pending work holds one op per port.
func TestCoreBoundedByPorts(t *testing.T) {
	c := newCore(warm, false, &Stats{})
	c.take(ops(setOp("Ethernet0", up)))
	c.failed(c.next())
	for i := 0; i < 10000; i++ {
		st := messages.PortState{MTU: uint32(1500 + i%2)}
		c.take(ops(setOp("Ethernet0", st), setOp("Ethernet4", st)))
	}
	if got := slices.Sorted(maps.Keys(c.pending)); !slices.Equal(got, []string{"Ethernet0", "Ethernet4"}) {
		t.Errorf("pending ports = %v", got)
	}
}
