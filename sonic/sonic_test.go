package sonic_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/sonic"
)

// The wire spellings are SONiC's: orchagent, the CLI and dashboards match
// on them, so a change here is a change of contract.
func TestWireSpellings(t *testing.T) {
	tests := []struct {
		name      string
		got, want []string
	}{
		{"state fields, the original's order", sonic.StateFields(true, false, "9100"),
			[]string{"state", "ok", "netdev_oper_status", "down", "admin_status", "up", "mtu", "9100"}},
		{"PortConfigDone", sonic.PortConfigDoneFields(0), []string{"count", "0"}},
		{"PortConfigDone of 32", sonic.PortConfigDoneFields(32), []string{"count", "32"}},
		{"PortInitDone", sonic.PortInitDoneFields(), []string{"lanes", "0"}},
		{"producer names", []string{sonic.KeySet(sonic.PortTable), sonic.Channel(sonic.PortTable, 0), sonic.Staging("PORT_TABLE:Ethernet0")},
			[]string{"PORT_TABLE_KEY_SET", "PORT_TABLE_CHANNEL@0", "_PORT_TABLE:Ethernet0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name        string
		flags       uint32
		admin, oper bool
	}{
		{"none", 0, false, false},
		{"IFF_UP", 0x1, true, false},
		{"IFF_RUNNING", 0x40, false, true},
		{"IFF_UP|IFF_RUNNING|IFF_LOWER_UP|IFF_BROADCAST", 0x1 | 0x40 | 0x10000 | 0x2, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if sonic.AdminUp(tt.flags) != tt.admin || sonic.OperUp(tt.flags) != tt.oper {
				t.Errorf("flags %#x: admin %v oper %v, want %v %v", tt.flags, sonic.AdminUp(tt.flags), sonic.OperUp(tt.flags), tt.admin, tt.oper)
			}
			if got := tt.flags & sonic.FlagsRead; sonic.AdminUp(got) != tt.admin || sonic.OperUp(got) != tt.oper {
				t.Errorf("flags %#x masked to %#x: loses what SONiC reads", tt.flags, got)
			}
		})
	}
}

func TestPortNames(t *testing.T) {
	tests := []struct {
		name      string
		port, old bool
	}{
		{"Ethernet0", true, true},
		{"PortChannel0001", true, false},
		{"eth0", false, false},
		{"ethernet0", false, false},
		{"Ethernet", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sonic.IsPortName(tt.name); got != tt.port {
				t.Errorf("IsPortName = %v, want %v", got, tt.port)
			}
			if got := sonic.IsOldInterfaceName(tt.name); got != tt.old {
				t.Errorf("IsOldInterfaceName = %v, want %v", got, tt.old)
			}
		})
	}
	for _, m := range []string{"PortConfigDone", "PortInitDone"} {
		if !sonic.IsMarker(m) {
			t.Errorf("IsMarker(%q) = false", m)
		}
	}
	if sonic.IsMarker("Ethernet0") {
		t.Error("IsMarker(Ethernet0) = true")
	}
}

func TestNeverNetdev(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for a name that can be a followed link
	}{
		{"Ethernet0", ""},
		{"Ethernet1234567", ""}, // 15 bytes: the longest
		{"PortChannel0001", ""},
		{"Ethernet", ""},
		{"", "empty name"},
		{"Ethernet12345678", "longer than 15 bytes (16)"},
		{"Ethernet0/1", `contains '/'`},
		{"Ethernet0:1", `contains ':'`},
		{"Ethernet%d", `contains '%'`},
		{"Ethernet\x000", `contains '\x00'`},
		{"Ethernet 0", "contains white space"},
		{"Ethernet\t0", "contains white space"},
		{"Ethernet\n0", "contains white space"},
		{"Ethernet\xa00", "contains white space"},
		{"eth0", "not named Ethernet* or PortChannel*, so never followed"},
		{"..", "not a link name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sonic.NeverNetdev(tt.name); got != tt.want {
				t.Errorf("NeverNetdev(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	got := sonic.NeverAppear([]string{"Ethernet0", "Ethernet0/1", "eth0"})
	want := map[string]string{"Ethernet0/1": `contains '/'`, "eth0": "not named Ethernet* or PortChannel*, so never followed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NeverAppear (-want +got):\n%s", diff)
	}
	if got := sonic.NeverAppear([]string{"Ethernet0"}); got != nil {
		t.Errorf("NeverAppear of good names = %v, want nil", got)
	}
}

// The labels are portsyncd_events_ignored_total's: dashboards and alerts
// select on them.
func TestReasonLabels(t *testing.T) {
	var got []string
	for _, r := range sonic.Reasons() {
		got = append(got, r.String())
	}
	want := []string{"family", "name", "team", "dellink_master", "old_interface", "not_configured", "unchanged"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sonic.Reasons()[:5], sonic.Filters()); diff != "" {
		t.Errorf("filters are not the first reasons (-want +got):\n%s", diff)
	}
	if s := sonic.Reason(200).String(); s != "unknown" {
		t.Errorf("out of range reason = %q", s)
	}
}
