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
	del := stateOp{del: true}
	tests := []struct {
		name         string
		older, newer stateOp
		want         stateOp
	}{
		{"set then set: newest state", set(up), set(down), set(down)},
		{"force survives a newer set", stateOp{set: true, state: up, force: true}, set(down), stateOp{set: true, state: down, force: true}},
		{"del then set: del first, then newest state", del, set(up), stateOp{del: true, set: true, state: up}},
		{"set then del: del supersedes", set(up), del, del},
		{"del+set then del: del supersedes", stateOp{del: true, set: true, state: up}, del, del},
		{"del then del", del, del, del},
		{"del+set then set: del kept, newest state", stateOp{del: true, set: true, state: up}, set(down), stateOp{del: true, set: true, state: down}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, merge(tt.older, tt.newer), cmp.AllowUnexported(stateOp{})); diff != "" {
				t.Errorf("merge (-want +got):\n%s", diff)
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
		{"uncached mtu", messages.PortState{MTU: 4242},
			[]any{"state", "ok", "netdev_oper_status", "down", "admin_status", "down", "mtu", "4242"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fields(tt.st)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddCoalescesAndSkipsUnchanged(t *testing.T) {
	up := messages.PortState{AdminUp: true, OperUp: true, MTU: 9100}
	down := messages.PortState{MTU: 9100}
	newWriter := func() *writer {
		return &writer{
			cfg:     &Config{Stats: &Stats{}},
			pending: map[string]stateOp{},
			written: map[string]messages.PortState{"Ethernet0": up},
			held:    map[string]stateOp{},
		}
	}
	t.Run("equal to what was written: dropped", func(t *testing.T) {
		w := newWriter()
		w.add("Ethernet0", stateOp{set: true, state: up})
		if len(w.pending) != 0 || w.cfg.Stats.Unchanged.Load() != 1 {
			t.Errorf("pending %v unchanged %d, want nothing pending, 1 unchanged", w.pending, w.cfg.Stats.Unchanged.Load())
		}
	})
	t.Run("forced: written even if equal", func(t *testing.T) {
		w := newWriter()
		w.add("Ethernet0", stateOp{set: true, state: up, force: true})
		if _, ok := w.pending["Ethernet0"]; !ok {
			t.Errorf("forced write dropped")
		}
	})
	t.Run("flap coalesces to the newest state", func(t *testing.T) {
		w := newWriter()
		w.add("Ethernet0", stateOp{set: true, state: down})
		w.add("Ethernet0", stateOp{set: true, state: up})
		if diff := cmp.Diff(map[string]stateOp{"Ethernet0": {set: true, state: up}}, w.pending, cmp.AllowUnexported(stateOp{})); diff != "" {
			t.Errorf("pending (-want +got):\n%s", diff)
		}
		if w.cfg.Stats.Coalesced.Load() != 1 {
			t.Errorf("coalesced = %d, want 1", w.cfg.Stats.Coalesced.Load())
		}
	})
	t.Run("held write folds into newer work", func(t *testing.T) {
		w := newWriter()
		w.held["Ethernet4"] = stateOp{set: true, state: up}
		w.add("Ethernet4", stateOp{del: true})
		if len(w.held) != 0 {
			t.Errorf("held not cleared: %v", w.held)
		}
		if diff := cmp.Diff(map[string]stateOp{"Ethernet4": {del: true}}, w.pending, cmp.AllowUnexported(stateOp{})); diff != "" {
			t.Errorf("pending (-want +got):\n%s", diff)
		}
	})
}
