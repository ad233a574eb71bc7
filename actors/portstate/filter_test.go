package portstate

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/messages"
)

func TestClassify(t *testing.T) {
	newlink := func(name string) messages.LinkEvent {
		return messages.LinkEvent{Kind: messages.NewLink, Index: 5, Name: name, Flags: messages.FlagUp, MTU: 9100}
	}
	with := func(ev messages.LinkEvent, f func(*messages.LinkEvent)) messages.LinkEvent {
		f(&ev)
		return ev
	}
	old := func(idx uint32) bool { return idx == 99 }
	tests := []struct {
		name       string
		ev         messages.LinkEvent
		want       Verdict
		wantReason string
	}{
		{"ethernet newlink updates", newlink("Ethernet0"), Update, ""},
		{"portchannel newlink updates", newlink("PortChannel0001"), Update, ""},
		{"Ethernet alone is a port name", newlink("Ethernet"), Update, ""},
		{"dellink deletes", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Kind = messages.DelLink }), Delete, ""},
		{"bridge family ignored", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Family = 7 }), Ignore, ReasonFamily},
		{"eth0 ignored", newlink("eth0"), Ignore, ReasonName},
		{"lowercase ethernet ignored", newlink("ethernet0"), Ignore, ReasonName},
		{"prefix must lead", newlink("xEthernet0"), Ignore, ReasonName},
		{"team ignored", with(newlink("PortChannel1"), func(e *messages.LinkEvent) { e.InfoKind = "team" }), Ignore, ReasonTeam},
		{"bridge kind is not team", with(newlink("PortChannel1"), func(e *messages.LinkEvent) { e.InfoKind = "bridge" }), Update, ""},
		{"dellink with master ignored", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Kind, e.Master = messages.DelLink, 3 }), Ignore, ReasonMaster},
		{"newlink with master updates", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Master = 3 }), Update, ""},
		{"old interface ignored", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Index = 99 }), Ignore, ReasonOld},
		{"old dellink ignored", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Index, e.Kind = 99, messages.DelLink }), Ignore, ReasonOld},
		// Precedence follows SONiC's order of checks.
		{"family before name", with(newlink("eth0"), func(e *messages.LinkEvent) { e.Family = 7 }), Ignore, ReasonFamily},
		{"name before team", with(newlink("team0"), func(e *messages.LinkEvent) { e.InfoKind = "team" }), Ignore, ReasonName},
		{"team before old", with(newlink("PortChannel1"), func(e *messages.LinkEvent) { e.InfoKind, e.Index = "team", 99 }), Ignore, ReasonTeam},
		{"master before old", with(newlink("Ethernet0"), func(e *messages.LinkEvent) { e.Kind, e.Master, e.Index = messages.DelLink, 3, 99 }), Ignore, ReasonMaster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := Classify(tt.ev, old)
			if got != tt.want || reason != tt.wantReason {
				t.Errorf("Classify = %v %q, want %v %q", got, reason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	tests := []struct {
		name  string
		flags uint32
		want  messages.PortState
	}{
		{"up and running", messages.FlagUp | messages.FlagRunning, messages.PortState{AdminUp: true, OperUp: true, MTU: 1500}},
		{"up, no carrier", messages.FlagUp, messages.PortState{AdminUp: true, MTU: 1500}},
		{"down", 0, messages.PortState{MTU: 1500}},
		{"other flags ignored", 0x1000 | messages.FlagUp, messages.PortState{AdminUp: true, MTU: 1500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StateOf(messages.LinkEvent{Flags: tt.flags, MTU: 1500})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("StateOf (-want +got):\n%s", diff)
			}
		})
	}
}
