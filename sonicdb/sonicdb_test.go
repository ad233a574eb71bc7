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
