package test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// startWithPorts starts the daemon with names configured and consumed, then
// creates the ports (after start-up, so they are not old interfaces) and
// waits for their first state.
func startWithPorts(t *testing.T, names ...string) *env {
	t.Helper()
	e := newEnv(t)
	e.configure(names...)
	e.orch.Run(t)
	e.start()
	for _, n := range names {
		e.waitAppl(n)
		e.ns.AddPort(t, n, e.peers)
	}
	for _, n := range names {
		e.waitState(n, want("up", "up", 1500))
	}
	return e
}

// Section 4 step 7: the four fields follow admin state, carrier and MTU.
func TestIntegrationPortStateFollowsKernel(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	if diff := cmp.Diff(want("up", "up", 1500), e.portState("Ethernet0")); diff != "" {
		t.Errorf("after create (-want +got):\n%s", diff)
	}
	steps := []struct {
		name string
		do   func()
		want map[string]string
	}{
		{"admin down", func() { e.ns.SetUp(t, "Ethernet0", false) }, want("down", "down", 1500)},
		{"admin up", func() { e.ns.SetUp(t, "Ethernet0", true) }, want("up", "up", 1500)},
		{"peer down", func() { e.ns.SetPeerUp(t, "Ethernet0", false) }, want("up", "down", 1500)},
		{"peer up", func() { e.ns.SetPeerUp(t, "Ethernet0", true) }, want("up", "up", 1500)},
		{"mtu 9100", func() { e.ns.SetMTU(t, "Ethernet0", 9100) }, want("up", "up", 9100)},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			e.waitState("Ethernet0", s.want)
		})
	}
}

// Section 4 step 6: RTM_DELLINK deletes the whole key.
func TestIntegrationDeleteRemovesKey(t *testing.T) {
	e := startWithPorts(t, "Ethernet0", "Ethernet4")
	e.ns.Delete(t, "Ethernet0")
	e.waitGone("Ethernet0")
	e.waitState("Ethernet4", want("up", "up", 1500))
	// Issue 17 item 12: a deletion is logged at NOTICE, as a change is.
	e.daemon.WaitLog(t, `level=NOTICE msg="port state deleted" actor=dbwriter port=Ethernet0`, waitFor)
	// Re-created, it is written again.
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
}

// Section 4: the key is shared, written with HSET: fields other daemons
// wrote survive every update.
func TestIntegrationOtherDaemonsFieldsSurvive(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	e.hset(e.state, "PORT_TABLE|Ethernet0", "speed", "100000", "supported_fecs", "rs,none")
	e.ns.SetUp(t, "Ethernet0", false)
	e.ns.SetMTU(t, "Ethernet0", 9000)
	w := want("down", "down", 9000)
	w["speed"] = "100000"
	w["supported_fecs"] = "rs,none"
	e.waitState("Ethernet0", w)
}

// Section 4 step 2 and 7: names without the prefixes, and Ethernet ports
// that are not in APPL_DB PORT_TABLE, are never written.
func TestIntegrationUnconfiguredAndForeignNamesNotWritten(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	e.ns.AddPort(t, "Ethernet96", e.peers) // unconfigured front-panel name
	e.ns.AddPort(t, "eth1", e.peers)
	e.ns.AddPort(t, "xEthernet8", e.peers)
	// Present in APPL_DB but not a SONiC port name: the prefix filter wins.
	e.hset(e.appl, "PORT_TABLE:eth1", "admin_status", "up")
	e.ns.SetMTU(t, "Ethernet96", 9000)
	e.ns.SetMTU(t, "eth1", 9000)
	e.settle("Ethernet0", 9100)
	for _, n := range []string{"Ethernet96", "eth1", "xEthernet8"} {
		if e.exists(e.state, "PORT_TABLE|"+n) {
			t.Errorf("STATE_DB PORT_TABLE|%s written: %v", n, e.portState(n))
		}
	}
}

// A port that orchagent consumes after its netdev appeared gets its state
// once the APPL_DB entry exists, without waiting for another link change:
// released by orchagent's keyspace event when Redis sends them (as SONiC's
// does), else found by the slow re-check.
func TestIntegrationLateConsumerStillGetsState(t *testing.T) {
	for _, tt := range []struct {
		name   string
		notify string
		args   []string
	}{
		{"keyspace events", "AKE", []string{"--port-table-recheck", "1h"}},
		{"no keyspace events", "", []string{"--port-table-recheck", "200ms"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.notify(tt.notify)
			e.configure("Ethernet0")
			e.start(tt.args...)
			e.ns.AddPort(t, "Ethernet0", e.peers)
			e.orch.Run(t)
			e.waitState("Ethernet0", want("up", "up", 1500))
			e.waitAppl("PortInitDone")
		})
	}
}

// A port whose APPL_DB entry is removed while its netdev stays gets no more
// STATE_DB writes, as with the original (which reads the entry on every
// NEWLINK); with and without keyspace events.
func TestIntegrationRemovedFromPortTableNotWritten(t *testing.T) {
	for _, tt := range []struct {
		name   string
		notify string
	}{{"keyspace events", "AKE"}, {"no keyspace events", ""}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.notify(tt.notify)
			e.configure("Ethernet0", "Ethernet4")
			e.orch.Run(t)
			e.start("--port-table-recheck", "1h")
			for _, n := range []string{"Ethernet0", "Ethernet4"} {
				e.waitAppl(n)
				e.ns.AddPort(t, n, e.peers)
				e.waitState(n, want("up", "up", 1500))
			}
			if tt.notify != "" {
				e.daemon.WaitLog(t, "following APPL_DB port table by keyspace events", waitFor)
			}
			if err := e.appl.Del(context.Background(), "PORT_TABLE:Ethernet0").Err(); err != nil {
				t.Fatal(err)
			}
			if tt.notify != "" {
				// The daemon took the del event before the link changes.
				e.daemon.WaitLog(t, "port left APPL_DB port table", waitFor)
			}
			e.ns.SetMTU(t, "Ethernet0", 9000)
			e.settle("Ethernet4", 9100)
			if got := e.portState("Ethernet0")["mtu"]; got != "1500" {
				t.Errorf("Ethernet0 mtu = %q in STATE_DB after its PORT_TABLE entry was deleted, want 1500 (untouched)", got)
			}
		})
	}
}

// Section 8: a renamed interface (same ifindex) loses its old key.
func TestIntegrationRenameDeletesOldKey(t *testing.T) {
	e := startWithPorts(t, "Ethernet0", "Ethernet4")
	// As orchagent would after a port breakout added Ethernet100.
	e.hset(e.appl, "PORT_TABLE:Ethernet100", "admin_status", "up")
	e.ns.Rename(t, "Ethernet0", "Ethernet100")
	e.waitGone("Ethernet0")
	e.waitState("Ethernet100", want("up", "up", 1500))
	// Renamed to a name SONiC does not track: the old key goes too.
	e.ns.Rename(t, "Ethernet4", "veth4")
	e.waitGone("Ethernet4")
}

// A LAG or bridge member keeps its state current; a bridge's own messages
// (AF_BRIDGE family) do not disturb it.
func TestIntegrationBridgeMemberKeepsState(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	e.ns.IP(t, "link", "add", "br0", "type", "bridge")
	e.ns.IP(t, "link", "set", "Ethernet0", "master", "br0")
	e.ns.IP(t, "link", "set", "br0", "up")
	e.ns.SetPeerUp(t, "Ethernet0", false)
	e.waitState("Ethernet0", want("up", "down", 1500))
	e.ns.SetPeerUp(t, "Ethernet0", true)
	e.waitState("Ethernet0", want("up", "up", 1500))
}

// A storm of 400 flaps on one port ends in the port's final state.
func TestIntegrationFlapStormEndsInFinalState(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	for i := 0; i < 200; i++ {
		e.ns.SetUp(t, "Ethernet0", false)
		e.ns.SetUp(t, "Ethernet0", true)
	}
	e.ns.SetMTU(t, "Ethernet0", 9000)
	e.ns.SetUp(t, "Ethernet0", false)
	e.waitState("Ethernet0", want("down", "down", 9000))
	if diff := cmp.Diff(want("down", "down", 9000), e.portState("Ethernet0")); diff != "" {
		t.Errorf("after storm (-want +got):\n%s", diff)
	}
	e.dumpState(t)
}

// dumpState asks the daemon for its state (SIGUSR1) and checks every actor
// answered, with what an operator needs per port.
func (e *env) dumpState(t *testing.T) {
	t.Helper()
	doc := e.stateDump(t)
	actors, _ := doc["actors"].(map[string]any)
	for _, a := range []string{"netlinkrx", "portstate", "dbwriter", "kstats"} {
		if _, ok := actors[a]; !ok {
			t.Errorf("state dump lacks %s: %v", a, doc)
		}
	}
	ps, _ := actors["portstate"].(map[string]any)
	ports, _ := ps["ports"].([]any)
	if len(ports) == 0 {
		t.Errorf("state dump has no ports: %v", ps)
	}
	wr, _ := actors["dbwriter"].(map[string]any)
	if written, _ := wr["written"].(map[string]any); written["Ethernet0"] == nil {
		t.Errorf("state dump lacks dbwriter's last write of Ethernet0: %v", wr)
	}
}
