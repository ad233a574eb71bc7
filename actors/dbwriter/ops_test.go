package dbwriter

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/messages"
)

func TestMerge(t *testing.T) {
	up := messages.PortState{AdminUp: true, OperUp: true, MTU: 9100}
	down := messages.PortState{MTU: 1500}
	set := func(st messages.PortState) stateOp { return stateOp{set: true, state: st} }
	forced := func(st messages.PortState) stateOp { return stateOp{set: true, state: st, force: true} }
	del := stateOp{del: true}
	delSet := func(st messages.PortState) stateOp { return stateOp{del: true, set: true, state: st} }
	tests := []struct {
		name         string
		older, newer stateOp
		want         stateOp
	}{
		{"set then set: newest state", set(up), set(down), set(down)},
		{"set then same set", set(up), set(up), set(up)},
		{"older force survives a newer set", forced(up), set(down), forced(down)},
		{"newer force kept", set(up), forced(down), forced(down)},
		{"force and force", forced(up), forced(down), forced(down)},
		{"del then set: del first, then newest state", del, set(up), delSet(up)},
		{"del then forced set", del, forced(up), stateOp{del: true, set: true, state: up, force: true}},
		{"set then del: del supersedes", set(up), del, del},
		{"forced set then del: force dropped with the set", forced(up), del, del},
		{"set then del+set: the newer op whole", forced(up), delSet(down), delSet(down)},
		{"del+set then del: del supersedes", delSet(up), del, del},
		{"del then del", del, del, del},
		{"del+set then set: del kept, newest state", delSet(up), set(down), delSet(down)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, merge(tt.older, tt.newer), cmp.AllowUnexported(stateOp{})); diff != "" {
				t.Errorf("merge (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMergeSequence folds a run of ops left to right, as dbwriter does while a
// batch is in flight, and checks that the result writes what the last op
// leaves behind.
func TestMergeSequence(t *testing.T) {
	st := func(mtu uint32) messages.PortState { return messages.PortState{AdminUp: true, MTU: mtu} }
	set := func(mtu uint32) stateOp { return stateOp{set: true, state: st(mtu)} }
	del := stateOp{del: true}
	tests := []struct {
		name string
		ops  []stateOp
		want stateOp
	}{
		{"flap", []stateOp{set(1500), set(9100), set(1500), set(9100)}, set(9100)},
		{"delete and re-create", []stateOp{set(1500), del, set(9100)}, stateOp{del: true, set: true, state: st(9100)}},
		{"re-create then delete", []stateOp{del, set(9100), set(1500), del}, del},
		{"force anywhere after the last del", []stateOp{del, set(1), {set: true, state: st(2), force: true}, set(3)}, stateOp{del: true, set: true, state: st(3), force: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ops[0]
			for _, op := range tt.ops[1:] {
				got = merge(got, op)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(stateOp{})); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFields(t *testing.T) {
	tests := []struct {
		name string
		st   messages.PortState
		want []any
	}{
		{"up", messages.PortState{AdminUp: true, OperUp: true, MTU: 9100},
			[]any{"state", "ok", "netdev_oper_status", "up", "admin_status", "up", "mtu", "9100"}},
		{"admin up, oper down", messages.PortState{AdminUp: true, MTU: 1500},
			[]any{"state", "ok", "netdev_oper_status", "down", "admin_status", "up", "mtu", "1500"}},
		{"admin down, oper up", messages.PortState{OperUp: true, MTU: 9216},
			[]any{"state", "ok", "netdev_oper_status", "up", "admin_status", "down", "mtu", "9216"}},
		{"down, mtu 0", messages.PortState{},
			[]any{"state", "ok", "netdev_oper_status", "down", "admin_status", "down", "mtu", "0"}},
		{"uncached mtu", messages.PortState{MTU: 4242},
			[]any{"state", "ok", "netdev_oper_status", "down", "admin_status", "down", "mtu", "4242"}},
		{"largest mtu", messages.PortState{AdminUp: true, OperUp: true, MTU: 4294967295},
			[]any{"state", "ok", "netdev_oper_status", "up", "admin_status", "up", "mtu", "4294967295"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fields(tt.st)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMTUString(t *testing.T) {
	tests := []struct {
		mtu    uint32
		want   string
		cached bool
	}{
		{0, "0", true},
		{68, "68", true},
		{1500, "1500", true},
		{9100, "9100", true},
		{9216, "9216", true},
		{65535, "65535", true},
		{65536, "65536", true},
		{1, "1", false},
		{1499, "1499", false},
		{4242, "4242", false},
		{9101, "9101", false},
		{100000, "100000", false},
		{4294967295, "4294967295", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := mtuString(tt.mtu); got != tt.want {
				t.Errorf("mtuString(%d) = %q, want %q", tt.mtu, got, tt.want)
			}
			if _, ok := mtuStrings[tt.mtu]; ok != tt.cached {
				t.Errorf("mtu %d cached = %v, want %v", tt.mtu, ok, tt.cached)
			}
			if tt.cached {
				if n := testing.AllocsPerRun(100, func() { mtuString(tt.mtu) }); n != 0 {
					t.Errorf("mtuString(%d) allocates %v times, want 0", tt.mtu, n)
				}
			}
		})
	}
}
