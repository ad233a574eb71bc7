package test

import (
	"context"
	"syscall"
	"testing"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Issue 17 item 5: an entry portsyncd owns in STATE_DB, deleted or changed
// by someone else (DEL, HSET of one of its fields, FLUSHDB), is written
// again within seconds, without a link change; the log says so.
func TestIntegrationStateDBHeals(t *testing.T) {
	e := newEnv(t)
	e.startTwoPorts()
	ctx := context.Background()
	damage := []struct {
		name string
		do   func() error
	}{
		{"DEL", func() error { return e.state.Del(ctx, "PORT_TABLE|Ethernet0").Err() }},
		{"HSET of an owned field", func() error { return e.state.HSet(ctx, "PORT_TABLE|Ethernet0", "mtu", "1").Err() }},
		{"FLUSHDB", func() error { return e.state.FlushDB(ctx).Err() }},
	}
	for _, d := range damage {
		if err := d.do(); err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		e.waitState("Ethernet0", want("up", "up", 1500))
		e.waitState("Ethernet4", want("up", "up", 1500))
	}
	if e.countLog("STATE_DB entries changed behind portsyncd") < len(damage) {
		t.Errorf("repairs not logged:\n%s", e.log())
	}
	// Another daemon's fields in the shared key are left alone.
	e.hset(e.state, "PORT_TABLE|Ethernet4", "speed", "100000")
	e.ns.SetMTU(t, "Ethernet4", 9000)
	e.waitState("Ethernet4", map[string]string{"mtu": "9000", "speed": "100000"})
}

// Issue 17 item 6: the cache of APPL_DB PORT_TABLE membership never stays
// wrong for long: keyspace events switched off at run time are noticed (a
// port removed afterwards gets no more STATE_DB writes), and a FLUSHDB of
// APPL_DB, which sends no per-key events, is found by the audit.
func TestIntegrationPortTableCacheRevalidated(t *testing.T) {
	for _, tt := range []struct {
		name   string
		remove func(e *env)
		notice string
	}{
		{"events switched off", func(e *env) {
			if err := e.appl.ConfigSet(context.Background(), "notify-keyspace-events", "").Err(); err != nil {
				e.t.Fatal(err)
			}
			e.daemon.WaitLog(e.t, "no keyspace events for APPL_DB port table", waitFor)
			if err := e.appl.Del(context.Background(), "PORT_TABLE:Ethernet0").Err(); err != nil {
				e.t.Fatal(err)
			}
		}, "no keyspace events for APPL_DB port table"},
		{"APPL_DB flushed", func(e *env) {
			if err := e.appl.FlushDB(context.Background()).Err(); err != nil {
				e.t.Fatal(err)
			}
			e.daemon.WaitLog(e.t, "port gone from APPL_DB port table without an event", waitFor)
		}, "port gone from APPL_DB port table without an event"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.notify("AKE")
			e.startTwoPorts()
			e.daemon.WaitLog(t, "following APPL_DB port table by keyspace events", waitFor)
			tt.remove(e)
			// Ethernet4 stays in APPL_DB (put back after a flush): its
			// change shows the daemon got past Ethernet0's.
			e.hset(e.appl, "PORT_TABLE:Ethernet4", "admin_status", "up")
			e.ns.SetMTU(t, "Ethernet0", 9000)
			e.ns.SetMTU(t, "Ethernet4", 9000)
			e.waitState("Ethernet4", map[string]string{"mtu": "9000"})
			if got := e.portState("Ethernet0"); got["mtu"] != "1500" {
				t.Errorf("STATE_DB PORT_TABLE|Ethernet0 = %v: written although gone from APPL_DB PORT_TABLE\n%s", got, e.log())
			}
		})
	}
}

// Issue 17 item 7: with Redis refusing writes (out of memory under
// maxmemory), SIGTERM does not claim success: the port whose newest state
// was refused is named and the exit status is 1. A start while Redis
// refuses writes waits, then goes on once it takes them.
func TestIntegrationWritesRefused(t *testing.T) {
	ctx := context.Background()
	oom := func(e *env, on bool) {
		v := "0"
		if on {
			v = "1"
		}
		if err := e.appl.ConfigSet(ctx, "maxmemory", v).Err(); err != nil {
			e.t.Fatal(err)
		}
	}
	t.Run("drain", func(t *testing.T) {
		e := newEnv(t)
		e.configure("Ethernet0")
		e.orch.Run(t)
		e.start()
		e.ns.AddPort(t, "Ethernet0", e.peers)
		e.waitState("Ethernet0", want("up", "up", 1500))
		oom(e, true)
		t.Cleanup(func() { oom(e, false) })
		e.ns.SetMTU(t, "Ethernet0", 9000)
		e.daemon.WaitLog(t, "redis rejected write", waitFor)
		e.daemon.Signal(t, syscall.SIGTERM)
		code, err := e.daemon.Wait(waitFor)
		if err != nil || code != 1 || !containsAll(e.log(), "port state unwritten", "Ethernet0") || e.countLog("msg=drained") != 0 {
			t.Errorf("exit %d, %v; want 1 and a line naming Ethernet0, no \"drained\":\n%s", code, err, e.log())
		}
	})
	t.Run("start", func(t *testing.T) {
		e := newEnv(t)
		e.configure("Ethernet0")
		e.orch.Run(t)
		oom(e, true)
		e.daemon = harness.StartDaemon(t, e.ns, e.args()...)
		e.daemon.WaitLog(t, "redis refuses writes; retrying", waitFor)
		oom(e, false)
		e.daemon.WaitLog(t, "msg=ready", waitFor)
		e.ns.AddPort(t, "Ethernet0", e.peers)
		e.waitState("Ethernet0", want("up", "up", 1500))
	})
}

// startTwoPorts configures Ethernet0 and Ethernet4, runs the daemon and
// orchagent's part, creates both links and waits for their state.
func (e *env) startTwoPorts() {
	e.t.Helper()
	e.configure("Ethernet0", "Ethernet4")
	e.orch.Run(e.t)
	e.start()
	for _, p := range []string{"Ethernet0", "Ethernet4"} {
		e.ns.AddPort(e.t, p, e.peers)
	}
	for _, p := range []string{"Ethernet0", "Ethernet4"} {
		e.waitState(p, want("up", "up", 1500))
	}
}
