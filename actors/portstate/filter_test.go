package portstate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

func TestClassify(t *testing.T) {
	const oldIndex = 99
	newlink := func(name string) messages.LinkEvent {
		return messages.LinkEvent{Kind: messages.NewLink, Index: 5, Name: name, Flags: sonic.FlagUp, MTU: 9100}
	}
	with := func(ev messages.LinkEvent, f func(*messages.LinkEvent)) messages.LinkEvent {
		f(&ev)
		return ev
	}
	del := func(e *messages.LinkEvent) { e.Kind = messages.DelLink }
	team := func(e *messages.LinkEvent) { e.InfoKind = "team" }
	master := func(e *messages.LinkEvent) { e.Master = 3 }
	old := func(e *messages.LinkEvent) { e.Index = oldIndex }
	bridgeFamily := func(e *messages.LinkEvent) { e.Family = 7 }
	all := func(fs ...func(*messages.LinkEvent)) func(*messages.LinkEvent) {
		return func(e *messages.LinkEvent) {
			for _, f := range fs {
				f(e)
			}
		}
	}
	tests := []struct {
		name       string
		ev         messages.LinkEvent
		want       Verdict
		wantReason sonic.Reason
	}{
		// Rule by rule.
		{"ethernet newlink updates", newlink("Ethernet0"), Update, sonic.ReasonNone},
		{"portchannel newlink updates", newlink("PortChannel0001"), Update, sonic.ReasonNone},
		{"Ethernet alone is a port name", newlink("Ethernet"), Update, sonic.ReasonNone},
		{"PortChannel alone is a port name", newlink("PortChannel"), Update, sonic.ReasonNone},
		{"15-byte name", newlink("Ethernet1234567"), Update, sonic.ReasonNone},
		{"newlink of a link that is down updates", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Flags = 0 }), Update, sonic.ReasonNone},
		{"ethernet dellink deletes", with(newlink("Ethernet0"), del), Delete, sonic.ReasonNone},
		{"portchannel dellink deletes", with(newlink("PortChannel5"), del), Delete, sonic.ReasonNone},
		{"bridge family ignored", with(newlink("Ethernet0"), bridgeFamily), Ignore, sonic.ReasonFamily},
		{"inet family ignored", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Family = 2 }), Ignore, sonic.ReasonFamily},
		{"bridge family dellink ignored", with(newlink("Ethernet0"), all(bridgeFamily, del)), Ignore, sonic.ReasonFamily},
		{"eth0 ignored", newlink("eth0"), Ignore, sonic.ReasonName},
		{"lo ignored", newlink("lo"), Ignore, sonic.ReasonName},
		{"empty name ignored", newlink(""), Ignore, sonic.ReasonName},
		{"lowercase ethernet ignored", newlink("ethernet0"), Ignore, sonic.ReasonName},
		{"lowercase portchannel ignored", newlink("portchannel1"), Ignore, sonic.ReasonName},
		{"prefix must lead", newlink("xEthernet0"), Ignore, sonic.ReasonName},
		{"truncated prefix ignored", newlink("Etherne"), Ignore, sonic.ReasonName},
		{"Vlan ignored", newlink("Vlan1000"), Ignore, sonic.ReasonName},
		{"eth0 dellink ignored", with(newlink("eth0"), del), Ignore, sonic.ReasonName},
		{"team ignored", with(newlink("PortChannel1"), team), Ignore, sonic.ReasonTeam},
		{"team dellink ignored", with(newlink("PortChannel1"), all(team, del)), Ignore, sonic.ReasonTeam},
		{"team kind on an Ethernet name ignored", with(newlink("Ethernet0"), team), Ignore, sonic.ReasonTeam},
		{"bridge kind is not team", with(newlink("PortChannel1"), func(e *messages.LinkEvent) { e.InfoKind = "bridge" }), Update, sonic.ReasonNone},
		{"kind compared exactly", with(newlink("PortChannel1"), func(e *messages.LinkEvent) { e.InfoKind = "Team" }), Update, sonic.ReasonNone},
		{"dellink with master ignored", with(newlink("Ethernet0"), all(del, master)), Ignore, sonic.ReasonMaster},
		{"newlink with master updates", with(newlink("Ethernet0"), master), Update, sonic.ReasonNone},
		{"old interface ignored", with(newlink("Ethernet0"), old), Ignore, sonic.ReasonOld},
		{"old dellink ignored", with(newlink("Ethernet0"), all(old, del)), Ignore, sonic.ReasonOld},
		{"old newlink with master ignored", with(newlink("Ethernet0"), all(old, master)), Ignore, sonic.ReasonOld},
		{"index next to an old one updates", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Index = oldIndex + 1 }), Update, sonic.ReasonNone},
		// Precedence follows SONiC's order of checks.
		{"family before name", with(newlink("eth0"), bridgeFamily), Ignore, sonic.ReasonFamily},
		{"family before everything", with(newlink("PortChannel1"), all(bridgeFamily, team, del, master, old)), Ignore, sonic.ReasonFamily},
		{"name before team", with(newlink("team0"), team), Ignore, sonic.ReasonName},
		{"name before master", with(newlink("eth0"), all(del, master)), Ignore, sonic.ReasonName},
		{"name before old", with(newlink("eth0"), old), Ignore, sonic.ReasonName},
		{"team before master", with(newlink("PortChannel1"), all(team, del, master)), Ignore, sonic.ReasonTeam},
		{"team before old", with(newlink("PortChannel1"), all(team, old)), Ignore, sonic.ReasonTeam},
		{"master before old", with(newlink("Ethernet0"), all(del, master, old)), Ignore, sonic.ReasonMaster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isOld := func(idx uint32) bool { return idx == oldIndex }
			got, reason := Classify(tt.ev, isOld)
			if got != tt.want || reason != tt.wantReason {
				t.Errorf("Classify = %v %v, want %v %v", got, reason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		name string
		ev   messages.LinkEvent
		want messages.PortState
	}{
		{"up and running", messages.LinkEvent{Flags: sonic.FlagUp | sonic.FlagRunning, MTU: 9100},
			messages.PortState{AdminUp: true, OperUp: true, MTU: 9100}},
		{"up, no carrier", messages.LinkEvent{Flags: sonic.FlagUp, MTU: 1500},
			messages.PortState{AdminUp: true, MTU: 1500}},
		{"running, admin down", messages.LinkEvent{Flags: sonic.FlagRunning, MTU: 9216},
			messages.PortState{OperUp: true, MTU: 9216}},
		{"down", messages.LinkEvent{MTU: 1500},
			messages.PortState{MTU: 1500}},
		{"no mtu", messages.LinkEvent{Flags: sonic.FlagUp},
			messages.PortState{AdminUp: true}},
		{"other flags ignored (IFF_BROADCAST, IFF_MULTICAST, IFF_LOWER_UP)", messages.LinkEvent{Flags: 0x2 | 0x1000 | 0x10000 | sonic.FlagUp, MTU: 1500},
			messages.PortState{AdminUp: true, MTU: 1500}},
		{"kind, master, name and index do not matter",
			messages.LinkEvent{Kind: messages.DelLink, Family: 7, Index: 3, Name: "Ethernet0", Master: 4, InfoKind: "team", Flags: sonic.FlagRunning, MTU: 65535},
			messages.PortState{OperUp: true, MTU: 65535}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, StateOf(tt.ev)); diff != "" {
				t.Errorf("StateOf (-want +got):\n%s", diff)
			}
		})
	}
}
