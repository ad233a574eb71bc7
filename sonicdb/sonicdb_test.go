package sonicdb_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/dbconfig"
	"github.com/sonic-go/portsyncd/sonicdb"
	"github.com/sonic-go/portsyncd/test/harness"
)

// LoadPorts keeps the fields in the order CONFIG_DB's HGETALL returns them,
// as the original stages them: not sorted.
func TestLoadPortsKeepsFieldOrder(t *testing.T) {
	harness.RequireRoot(t)
	r := harness.StartRedis(t)
	cfg, err := dbconfig.Load(r.WriteDBConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	dbs, err := sonicdb.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dbs.Close)
	ctx := context.Background()
	// A small hash (listpack) keeps insertion order.
	order := []string{"speed", "100000", "lanes", "0,1,2,3", "alias", "etp1", "admin_status", "up", "mtu", "9100"}
	args := make([]any, len(order))
	for i, v := range order {
		args[i] = v
	}
	config := r.Client(t, 4)
	if err := config.HSet(ctx, "PORT|Ethernet0", args...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := config.HSet(ctx, "PORT|Ethernet4", "lanes", "4").Err(); err != nil {
		t.Fatal(err)
	}
	ports, err := sonicdb.LoadPorts(ctx, dbs.Config)
	if err != nil {
		t.Fatal(err)
	}
	want := []sonicdb.Port{{Name: "Ethernet0", Fields: order}, {Name: "Ethernet4", Fields: []string{"lanes", "4"}}}
	if diff := cmp.Diff(want, ports); diff != "" {
		t.Errorf("LoadPorts (-want +got):\n%s", diff)
	}
	// Our connections are named, so that CLIENT LIST (and the golden test)
	// tell them apart.
	list, err := dbs.Config.Client.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !containsName(list, sonicdb.ClientName) {
		t.Errorf("no connection named %s in CLIENT LIST:\n%s", sonicdb.ClientName, list)
	}
}

func containsName(list, name string) bool {
	return slices.Contains(strings.Fields(list), "name="+name)
}

func TestNeverNetdev(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for a name that can be a tracked link
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
			if got := sonicdb.NeverNetdev(tt.name); got != tt.want {
				t.Errorf("sonicdb.NeverNetdev(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	got := sonicdb.NeverAppear([]string{"Ethernet0", "Ethernet0/1", "eth0"})
	want := map[string]string{"Ethernet0/1": `contains '/'`, "eth0": "not named Ethernet* or PortChannel*, so never followed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NeverAppear (-want +got):\n%s", diff)
	}
	if got := sonicdb.NeverAppear([]string{"Ethernet0"}); got != nil {
		t.Errorf("NeverAppear of good names = %v, want nil", got)
	}
}
