package portstate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

func newlink(idx uint32, name string, flags uint32, mtu uint32) messages.LinkEvent {
	return messages.LinkEvent{Kind: messages.NewLink, Index: idx, Name: name, Flags: flags, MTU: mtu}
}

func dellink(idx uint32, name string) messages.LinkEvent {
	return messages.LinkEvent{Kind: messages.DelLink, Index: idx, Name: name}
}

const upRunning = sonic.FlagUp | sonic.FlagRunning

func set(name string, admin, oper bool, mtu uint32) messages.PortOp {
	return messages.PortOp{Port: name, Set: true, State: messages.PortState{AdminUp: admin, OperUp: oper, MTU: mtu}}
}

func forced(op messages.PortOp) messages.PortOp { op.Force = true; return op }

func del(name string) messages.PortOp { return messages.PortOp{Port: name, Del: true} }

// step is one input to the core: a batch of events, or Redis's
// acknowledgement of ports' writes.
type step struct {
	events []messages.LinkEvent
	dump   bool
	acked  []string
}

func live(evs ...messages.LinkEvent) step { return step{events: evs} }
func dump(evs ...messages.LinkEvent) step { return step{events: evs, dump: true} }
func acked(ports ...string) step          { return step{acked: ports} }

// TestCore has one row per rule of docs/SONIC_CONTRACT.md that the core decides; the
// effects of the last step are compared.
func TestCore(t *testing.T) {
	eth0 := newlink(10, "Ethernet0", upRunning, 9100)
	tests := []struct {
		name    string
		start   Start
		restart bool
		steps   []step
		want    Effects
		// wantInitDone collects InitDone over every step.
		wantInitDones int
	}{
		{name: "4.7 newlink writes the four fields: admin=IFF_UP oper=IFF_RUNNING mtu",
			steps: []step{live(eth0)},
			want:  Effects{Ops: []messages.PortOp{set("Ethernet0", true, true, 9100)}, InitDone: true}, wantInitDones: 1},
		{name: "4.7 admin down, no carrier",
			steps: []step{live(newlink(10, "Ethernet0", 0, 1500))},
			want:  Effects{Ops: []messages.PortOp{set("Ethernet0", false, false, 1500)}, InitDone: true}, wantInitDones: 1},
		{name: "4.7 admin up, no carrier",
			steps: []step{live(newlink(10, "Ethernet0", sonic.FlagUp, 9100))},
			want:  Effects{Ops: []messages.PortOp{set("Ethernet0", true, false, 9100)}, InitDone: true}, wantInitDones: 1},
		{name: "4.7 PortChannel newlink writes",
			steps: []step{live(newlink(11, "PortChannel0001", upRunning, 9100))},
			want:  Effects{Ops: []messages.PortOp{set("PortChannel0001", true, true, 9100)}, InitDone: true}, wantInitDones: 1},
		{name: "4.6 dellink deletes the key",
			steps: []step{live(eth0), live(dellink(10, "Ethernet0"))},
			want:  Effects{Ops: []messages.PortOp{del("Ethernet0")}}, wantInitDones: 1},
		{name: "4.6 dellink of an untracked port still deletes",
			steps: []step{live(dellink(10, "Ethernet0"))},
			want:  Effects{Ops: []messages.PortOp{del("Ethernet0")}, InitDone: true}, wantInitDones: 1},
		{name: "4.1 AF_BRIDGE messages ignored",
			steps: []step{live(messages.LinkEvent{Kind: messages.NewLink, Family: 7, Index: 10, Name: "Ethernet0"})},
			want:  Effects{InitDone: true, Ignored: ignored(sonic.ReasonFamily, 1)}, wantInitDones: 1},
		{name: "4.2 names other than Ethernet*/PortChannel* ignored",
			steps: []step{live(newlink(3, "eth0", upRunning, 1500), newlink(4, "Vlan1000", upRunning, 1500))},
			want:  Effects{InitDone: true, Ignored: ignored(sonic.ReasonName, 2)}, wantInitDones: 1},
		{name: "4.3 team devices ignored",
			steps: []step{live(messages.LinkEvent{Kind: messages.NewLink, Index: 12, Name: "PortChannel1", InfoKind: "team"})},
			want:  Effects{InitDone: true, Ignored: ignored(sonic.ReasonTeam, 1)}, wantInitDones: 1},
		{name: "4.4 dellink with a master ignored (the member left a bridge or LAG)",
			steps: []step{live(messages.LinkEvent{Kind: messages.DelLink, Index: 10, Name: "Ethernet0", Master: 3})},
			want:  Effects{InitDone: true, Ignored: ignored(sonic.ReasonMaster, 1)}, wantInitDones: 1},
		{name: "4.4 newlink with a master writes (LAG members keep oper status current)",
			steps: []step{live(messages.LinkEvent{Kind: messages.NewLink, Index: 10, Name: "Ethernet0", Master: 3, Flags: upRunning, MTU: 9100})},
			want:  Effects{Ops: []messages.PortOp{set("Ethernet0", true, true, 9100)}, InitDone: true}, wantInitDones: 1},
		{name: "4.5 old interface: newlink and dellink ignored",
			start: Start{Old: map[uint32]bool{10: true}},
			steps: []step{live(eth0, dellink(10, "Ethernet0"))},
			want:  Effects{InitDone: true, Ignored: ignored(sonic.ReasonOld, 2)}, wantInitDones: 1},
		{name: "4.5 a new ifindex for an old name is not old",
			start: Start{Old: map[uint32]bool{10: true}},
			steps: []step{live(newlink(20, "Ethernet0", upRunning, 9100))},
			want:  Effects{Ops: []messages.PortOp{set("Ethernet0", true, true, 9100)}, InitDone: true}, wantInitDones: 1},
		{name: "2.7 PortInitDone waits for every pending port's acknowledged write",
			start: Start{Pending: []string{"Ethernet0", "Ethernet4"}},
			steps: []step{live(eth0), acked("Ethernet0")},
			want:  Effects{}},
		{name: "2.7 PortInitDone once the last pending port is acknowledged",
			start: Start{Pending: []string{"Ethernet0", "Ethernet4"}},
			steps: []step{live(eth0), acked("Ethernet0"), acked("Ethernet4")},
			want:  Effects{InitDone: true}, wantInitDones: 1},
		{name: "2.7 a decided but unacknowledged write does not count",
			start: Start{Pending: []string{"Ethernet0"}},
			steps: []step{live(eth0)},
			want:  Effects{Ops: []messages.PortOp{set("Ethernet0", true, true, 9100)}}},
		{name: "2.7 PortInitDone is asked for once per run",
			steps: []step{live(eth0), acked("Ethernet0"), live(newlink(10, "Ethernet0", 0, 9100)), acked("Ethernet0")},
			want:  Effects{}, wantInitDones: 1},
		{name: "2.7 no PortInitDone before the first batch, even with nothing pending",
			steps: []step{acked()},
			want:  Effects{}},
		{name: "2.7 zero configured ports: PortInitDone after the first (empty) batch",
			steps: []step{dump()},
			want:  Effects{Present: map[string]bool{}, InitDone: true}, wantInitDones: 1},
		{name: "8 rename deletes the old name's key",
			steps: []step{live(eth0), live(newlink(10, "Ethernet4", upRunning, 9100))},
			want: Effects{Ops: []messages.PortOp{del("Ethernet0"), set("Ethernet4", true, true, 9100)},
				Renamed: []Rename{{Index: 10, From: "Ethernet0", To: "Ethernet4"}}}, wantInitDones: 1},
		{name: "8 rename to a foreign name deletes the old key and writes nothing",
			steps: []step{live(eth0), live(newlink(10, "eth9", upRunning, 9100))},
			want: Effects{Ops: []messages.PortOp{del("Ethernet0")},
				Renamed: []Rename{{Index: 10, From: "Ethernet0", To: "eth9"}}, Ignored: ignored(sonic.ReasonName, 1)}, wantInitDones: 1},
		{name: "8 dump: every present port written with force, names reported",
			steps: []step{dump(eth0, newlink(1, "lo", upRunning, 65536))},
			want: Effects{Ops: []messages.PortOp{forced(set("Ethernet0", true, true, 9100))},
				Present: map[string]bool{"Ethernet0": true, "lo": true}, InitDone: true, Ignored: ignored(sonic.ReasonName, 1)}, wantInitDones: 1},
		{name: "8 dump: a link gone without a DELLINK is deleted",
			steps: []step{live(eth0, newlink(11, "Ethernet4", upRunning, 9100)), dump(eth0)},
			want: Effects{Ops: []messages.PortOp{del("Ethernet4"), forced(set("Ethernet0", true, true, 9100))},
				Present: map[string]bool{"Ethernet0": true}, Vanished: []Vanished{{Index: 11, Name: "Ethernet4"}}}, wantInitDones: 1},
		{name: "8 dump: an AF_BRIDGE entry does not keep a link present",
			steps: []step{live(eth0), dump(messages.LinkEvent{Kind: messages.NewLink, Family: 7, Index: 10, Name: "Ethernet0"})},
			want: Effects{Ops: []messages.PortOp{del("Ethernet0")}, Present: map[string]bool{},
				Vanished: []Vanished{{Index: 10, Name: "Ethernet0"}}, Ignored: ignored(sonic.ReasonFamily, 1)}, wantInitDones: 1},
		{name: "restart: live events dropped until a dump",
			restart: true,
			steps:   []step{live(eth0)},
			want:    Effects{}},
		{name: "restart: the dump rebuilds",
			restart: true,
			steps:   []step{live(eth0), dump(eth0)},
			want: Effects{Ops: []messages.PortOp{forced(set("Ethernet0", true, true, 9100))},
				Present: map[string]bool{"Ethernet0": true}, InitDone: true}, wantInitDones: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCore(tt.start)
			if tt.restart {
				c.AwaitResync()
			}
			var got Effects
			initDones := 0
			for _, s := range tt.steps {
				if s.acked != nil || s.events == nil && !s.dump {
					got = Effects{InitDone: c.Written(s.acked)}
				} else {
					got = c.Batch(&messages.LinkBatch{Events: s.events, Dump: s.dump}, nil)
				}
				if got.InitDone {
					initDones++
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("effects of the last step (-want +got):\n%s", diff)
			}
			if initDones != tt.wantInitDones {
				t.Errorf("PortInitDone asked %d times, want %d", initDones, tt.wantInitDones)
			}
		})
	}
}

func ignored(r sonic.Reason, n uint32) [sonic.NumReasons]uint32 {
	var a [sonic.NumReasons]uint32
	a[r] = n
	return a
}

func TestCorePendingAndLinks(t *testing.T) {
	c := NewCore(Start{Pending: []string{"Ethernet8", "Ethernet0"}})
	c.Batch(&messages.LinkBatch{Events: []messages.LinkEvent{
		newlink(10, "Ethernet0", upRunning, 9100), newlink(11, "Ethernet8", 0, 9100), newlink(1, "lo", 0, 65536)}}, nil)
	if diff := cmp.Diff([]string{"Ethernet0", "Ethernet8"}, c.Pending()); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if c.Links() != 2 {
		t.Errorf("links = %d, want 2 (lo is not tracked)", c.Links())
	}
	c.Written([]string{"Ethernet8"})
	if diff := cmp.Diff([]string{"Ethernet0"}, c.Pending()); diff != "" {
		t.Errorf("pending after ack (-want +got):\n%s", diff)
	}
}

// TestCoreReusesOps: deciding an event allocates nothing when the caller
// passes a slice with room.
func TestCoreReusesOps(t *testing.T) {
	c := NewCore(Start{Pending: []string{"Ethernet0"}})
	b := &messages.LinkBatch{Events: []messages.LinkEvent{newlink(10, "Ethernet0", upRunning, 9100)}}
	ops := make([]messages.PortOp, 0, 4)
	c.Batch(b, ops)
	if n := testing.AllocsPerRun(100, func() { c.Batch(b, ops) }); n != 0 {
		t.Errorf("Batch allocates %v times per event, want 0", n)
	}
}

func TestOldInterfaces(t *testing.T) {
	dumpEvs := []messages.LinkEvent{
		newlink(1, "lo", upRunning, 65536),
		newlink(10, "Ethernet0", upRunning, 9100),
		newlink(11, "Ethernet4", 0, 9100),
		newlink(12, "PortChannel1", upRunning, 9100),
		{Kind: messages.NewLink, Family: 7, Index: 10, Name: "Ethernet0"},
		newlink(13, "eth0", upRunning, 1500),
	}
	tests := []struct {
		name       string
		warm       bool
		switchType string
		want       []uint32
	}{
		{"2.6 cold start of a switch: every Ethernet netdev is old", false, "switch", []uint32{10, 11}},
		{"2.6 also when switch_type is something else", false, "voq", []uint32{10, 11}},
		{"2.6 warm start: none", true, "switch", nil},
		{"2.6 DPU: none", false, "dpu", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint32
			for _, ev := range OldInterfaces(dumpEvs, tt.warm, tt.switchType) {
				got = append(got, ev.Index)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("old (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPending(t *testing.T) {
	configured := []string{"Ethernet0", "Ethernet4", "Ethernet8"}
	initialized := map[string]bool{"Ethernet4": true}
	tests := []struct {
		name string
		warm bool
		init map[string]bool
		want []string
	}{
		{"2.4 every configured port is pending", false, nil, configured},
		{"2.5 cold: ports whose APPL_DB entry has admin_status are not", false, initialized, []string{"Ethernet0", "Ethernet8"}},
		{"2.5 warm: all stay pending", true, initialized, configured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Pending(configured, tt.init, tt.warm)); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
		})
	}
}
