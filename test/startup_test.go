package test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Section 2 step 4: every CONFIG_DB port is published verbatim to APPL_DB
// with the producer protocol, then PortConfigDone with the count; one
// PUBLISH per newly staged key.
func TestIntegrationColdStartPublishesPortConfig(t *testing.T) {
	e := newEnv(t)
	odd := map[string]string{
		"alias":       `"quoted" alias; with spaces`,
		"description": "Größe 端口 ✓",
		"lanes":       "0,1,2,3",
		"empty":       "",
		"newline":     "a\nb",
	}
	var fv []string
	for k, v := range odd {
		fv = append(fv, k, v)
	}
	e.hset(e.config, "PORT|Ethernet0", fv...)
	e.configure("Ethernet4", "Ethernet8")

	ctx := context.Background()
	sub := e.appl.Subscribe(ctx, "PORT_TABLE_CHANNEL@0")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	e.start()

	// 3 ports + PortConfigDone were staged, each announced once. PortInitDone
	// cannot come yet: nothing consumed the entries.
	got := 0
	deadline := time.After(time.Second)
	for done := false; !done; {
		select {
		case m := <-sub.Channel():
			if m.Payload != "G" {
				t.Errorf("publish payload = %q, want G", m.Payload)
			}
			got++
		case <-deadline:
			done = true
		}
	}
	if got != 4 {
		t.Errorf("PUBLISH count = %d, want 4 (one per staged key)", got)
	}
	if diff := cmp.Diff(odd, e.hgetall(e.appl, "_PORT_TABLE:Ethernet0")); diff != "" {
		t.Errorf("staged Ethernet0 fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"count": "3"}, e.hgetall(e.appl, "_PORT_TABLE:PortConfigDone")); diff != "" {
		t.Errorf("PortConfigDone (-want +got):\n%s", diff)
	}
	keys, _ := e.appl.SMembers(ctx, "PORT_TABLE_KEY_SET").Result()
	if len(keys) != 4 {
		t.Errorf("PORT_TABLE_KEY_SET = %v, want 3 ports and PortConfigDone", keys)
	}
	if diff := cmp.Diff(map[string]string{"restore_count": "0"}, e.hgetall(e.state, "WARM_RESTART_TABLE|portsyncd")); diff != "" {
		t.Errorf("restore_count on a cold start (-want +got):\n%s", diff)
	}

	e.orch.Run(t)
	if diff := cmp.Diff(odd, e.waitAppl("Ethernet0")); diff != "" {
		t.Errorf("consumed Ethernet0 (-want +got):\n%s", diff)
	}
}

// Section 2 step 4 and 7 with no ports: PortConfigDone count 0, and
// PortInitDone follows since nothing is pending.
func TestIntegrationNoPorts(t *testing.T) {
	e := newEnv(t)
	e.orch.Run(t)
	e.start()
	if diff := cmp.Diff(map[string]string{"count": "0"}, e.waitAppl("PortConfigDone")); diff != "" {
		t.Errorf("PortConfigDone (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"lanes": "0"}, e.waitAppl("PortInitDone")); diff != "" {
		t.Errorf("PortInitDone (-want +got):\n%s", diff)
	}
}

// Section 2 step 7: PortInitDone is published once per run, and only after
// Redis has acknowledged the STATE_DB entries of every configured port.
func TestIntegrationPortInitDoneAfterPortStates(t *testing.T) {
	e := newEnv(t)
	ports := []string{"Ethernet0", "Ethernet4", "Ethernet8", "Ethernet12"}
	e.configure(ports...)
	events := e.watchKeyspace()
	e.orch.Run(t)
	e.start()
	for _, p := range ports {
		e.waitAppl(p)
	}
	for _, p := range ports {
		e.ns.AddPort(t, p, e.peers)
	}
	e.waitAppl("PortInitDone")
	for _, p := range ports {
		e.waitState(p, want("up", "up", 1500))
	}
	// Flaps after PortInitDone must not publish it again.
	e.ns.SetUp(t, "Ethernet0", false)
	e.waitState("Ethernet0", want("down", "down", 1500))
	e.settle("Ethernet4", 9100)

	seq := events()
	initDone := -1
	for i, ev := range seq {
		if ev == "0:_PORT_TABLE:PortInitDone:hset" {
			if initDone >= 0 {
				t.Errorf("PortInitDone staged twice: %v", seq)
			}
			initDone = i
		}
	}
	if initDone < 0 {
		t.Fatalf("PortInitDone never staged: %v", seq)
	}
	for _, p := range ports {
		first := indexOf(seq, "6:PORT_TABLE|"+p+":hset")
		if first < 0 || first > initDone {
			t.Errorf("STATE_DB %s first written at %d, PortInitDone at %d: %v", p, first, initDone, seq)
		}
	}
	if n := e.countLog("PortInitDone published"); n != 1 {
		t.Errorf("log says PortInitDone published %d times, want 1", n)
	}
}

// watchKeyspace records keyspace events of APPL_DB and STATE_DB in the order
// Redis emitted them, as "db:key:event"; the returned function reads them.
func (e *env) watchKeyspace() func() []string {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.appl.ConfigSet(ctx, "notify-keyspace-events", "KA").Err(); err != nil {
		e.t.Fatal(err)
	}
	ps := e.appl.PSubscribe(ctx, "__keyspace@0__:*", "__keyspace@6__:*")
	if _, err := ps.Receive(ctx); err != nil {
		e.t.Fatal(err)
	}
	if _, err := ps.Receive(ctx); err != nil {
		e.t.Fatal(err)
	}
	ch := ps.Channel(redis.WithChannelSize(4096))
	// A snapshot writes a marker key and waits for its event: Redis emits
	// events in the order it runs commands, so every event of a command run
	// before the snapshot has arrived by then.
	const marker = "portsyncd-test:marker:"
	got := make(chan []string)
	req := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var seq []string
		var awaited string
		for {
			select {
			case m, ok := <-ch:
				if !ok {
					return
				}
				db, key, _ := strings.Cut(strings.TrimPrefix(m.Channel, "__keyspace@"), "__:")
				if strings.HasPrefix(key, marker) {
					if key == awaited {
						select {
						case got <- append([]string(nil), seq...):
						case <-ctx.Done():
							return
						}
						awaited = ""
					}
					continue
				}
				seq = append(seq, db+":"+key+":"+m.Payload)
			case awaited = <-req:
			case <-ctx.Done():
				return
			}
		}
	}()
	e.t.Cleanup(func() {
		cancel()
		ps.Close()
		<-done
	})
	snapshots := 0
	return func() []string {
		e.t.Helper()
		snapshots++
		key := fmt.Sprintf("%s%d", marker, snapshots)
		req <- key
		if err := e.appl.HSet(ctx, key, "n", snapshots).Err(); err != nil {
			e.t.Fatal(err)
		}
		select {
		case seq := <-got:
			return seq
		case <-time.After(waitFor):
			e.t.Fatalf("no keyspace event for %s", key)
			return nil
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// Section 2 step 5: a port whose consumed APPL_DB entry already has
// admin_status is not waited for.
func TestIntegrationInitializedPortsNotPending(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	e.hset(e.appl, "PORT_TABLE:Ethernet0", "admin_status", "up", "lanes", "0,1,2,3")
	e.orch.Run(t)
	e.start()
	e.waitAppl("Ethernet4")
	e.ns.AddPort(t, "Ethernet4", e.peers)
	// Ethernet0 never shows up in the kernel; PortInitDone still comes.
	e.waitAppl("PortInitDone")
	e.waitState("Ethernet4", want("up", "up", 1500))
}

// Section 2 step 6: on a cold start, Ethernet netdevs that exist already are
// brought down and every later message for them is ignored.
func TestIntegrationOldInterfacesDownAndIgnored(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	old := e.ns.AddPort(t, "Ethernet0", e.peers)
	e.ns.AddPort(t, "eth1", e.peers) // not a front-panel name: left alone
	e.orch.Run(t)
	e.start()
	if l := e.ns.Link(t, "Ethernet0"); l.AdminUp {
		t.Errorf("old interface Ethernet0 (ifindex %d) still admin up", old)
	}
	if l := e.ns.Link(t, "eth1"); !l.AdminUp {
		t.Errorf("eth1 was brought down; only Ethernet* ports are old")
	}
	e.waitAppl("Ethernet0")
	e.ns.AddPort(t, "Ethernet4", e.peers)
	e.ns.SetUp(t, "Ethernet0", true)
	e.ns.SetMTU(t, "Ethernet0", 9000)
	e.settle("Ethernet4", 9100)
	if e.exists(e.state, "PORT_TABLE|Ethernet0") {
		t.Errorf("old interface Ethernet0 written to STATE_DB: %v", e.portState("Ethernet0"))
	}
	if !strings.Contains(e.log(), "old interface brought down") {
		t.Errorf("no log line for the old interface:\n%s", e.log())
	}
}

// Section 2 step 6, DPU exception: a DPU keeps its existing interfaces.
func TestIntegrationDPUKeepsExistingInterfaces(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.hset(e.config, "DEVICE_METADATA|localhost", "switch_type", "dpu")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.orch.Run(t)
	e.start()
	if l := e.ns.Link(t, "Ethernet0"); !l.AdminUp {
		t.Errorf("Ethernet0 brought down on a DPU")
	}
	e.waitAppl("Ethernet0")
	e.ns.SetMTU(t, "Ethernet0", 9000)
	e.waitState("Ethernet0", want("up", "up", 9000))
}

// Section 2 step 2 and 4, warm start: restore_count goes up by one, nothing
// is published to APPL_DB, and STATE_DB is brought up to date from the
// dump (existing interfaces are not old).
func TestIntegrationWarmStart(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	e.hset(e.state, "WARM_RESTART_ENABLE_TABLE|swss", "enable", "true")
	e.hset(e.state, "WARM_RESTART_TABLE|portsyncd", "restore_count", "3")
	// What orchagent consumed before the restart.
	e.hset(e.appl, "PORT_TABLE:Ethernet0", "admin_status", "up", "mtu", "9100")
	e.hset(e.appl, "PORT_TABLE:Ethernet4", "admin_status", "up", "mtu", "9100")
	e.hset(e.state, "PORT_TABLE|Ethernet0", "state", "ok", "netdev_oper_status", "up", "admin_status", "up", "mtu", "9100")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.ns.AddPort(t, "Ethernet4", e.peers, harness.PeerDown())
	e.ns.SetMTU(t, "Ethernet0", 1500)
	e.orch.Run(t)
	e.start()

	e.waitState("Ethernet0", want("up", "up", 1500))
	e.waitState("Ethernet4", want("up", "down", 1500))
	e.waitAppl("PortInitDone")
	if l := e.ns.Link(t, "Ethernet0"); !l.AdminUp {
		t.Errorf("warm start brought Ethernet0 down")
	}
	if diff := cmp.Diff(map[string]string{"restore_count": "4"}, e.hgetall(e.state, "WARM_RESTART_TABLE|portsyncd")); diff != "" {
		t.Errorf("restore_count (-want +got):\n%s", diff)
	}
	for _, p := range e.orch.Popped() {
		if p.Key != "PortInitDone" {
			t.Errorf("warm start published APPL_DB %s %v", p.Key, p.Fields)
		}
	}
	e.ns.SetPeerUp(t, "Ethernet4", true)
	e.waitState("Ethernet4", want("up", "up", 1500))
}

// Section 2 step 2: warm restart enabled but never restored: restore_count
// 0 is written and the start is cold.
func TestIntegrationWarmWithoutRestoreCountIsCold(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.hset(e.state, "WARM_RESTART_ENABLE_TABLE|system", "enable", "true")
	e.orch.Run(t)
	e.start()
	e.waitAppl("PortConfigDone")
	e.waitAppl("Ethernet0")
	if diff := cmp.Diff(map[string]string{"restore_count": "0"}, e.hgetall(e.state, "WARM_RESTART_TABLE|portsyncd")); diff != "" {
		t.Errorf("restore_count (-want +got):\n%s", diff)
	}
}
