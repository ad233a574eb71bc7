package status

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fields = map[string]string

// written is what portsyncd writes for a port.
func written(admin, oper, mtu string) fields {
	return fields{"state": "ok", "admin_status": admin, "netdev_oper_status": oper, "mtu": mtu}
}

func TestBuild(t *testing.T) {
	conf := fields{"lanes": "0,1,2,3", "speed": "100000", "mtu": "9100", "admin_status": "up"}
	up := Link{Up: true, Running: true, MTU: 9100}
	kernelUp := &KernelLink{Admin: "up", Oper: "up", MTU: "9100"}
	tests := []struct {
		name string
		snap Snapshot
		want Report
	}{
		{
			name: "empty",
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "not_read", Ports: []Port{}},
		},
		{
			name: "consumed port in step with the kernel",
			snap: Snapshot{
				Config: map[string]fields{"Ethernet0": conf},
				Appl:   map[string]fields{"Ethernet0": conf, "PortConfigDone": {"count": "1"}, "PortInitDone": {"lanes": "0"}},
				State:  map[string]fields{"Ethernet0": written("up", "up", "9100")},
				Kernel: map[string]Link{"Ethernet0": up, "lo": {Up: true, Running: true, MTU: 65536}},
			},
			want: Report{Schema: 1, PortConfigDone: "consumed", PortInitDone: "consumed", Kernel: "compared", Ports: []Port{{
				Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", MTU: "9100", Admin: "up", Oper: "up",
				ApplDB: "consumed", State: "ok", Kernel: kernelUp, Diff: []string{},
			}}},
		},
		{
			name: "every field differs",
			snap: Snapshot{
				Appl:   map[string]fields{"Ethernet0": conf},
				State:  map[string]fields{"Ethernet0": written("down", "down", "1500")},
				Kernel: map[string]Link{"Ethernet0": up},
			},
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "compared", Ports: []Port{{
				Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", MTU: "1500", Admin: "down", Oper: "down",
				ApplDB: "consumed", State: "ok", Kernel: kernelUp, Diff: []string{"admin", "oper", "mtu"},
			}}},
		},
		{
			name: "oper follows IFF_RUNNING alone",
			snap: Snapshot{
				Appl:   map[string]fields{"Ethernet0": conf},
				State:  map[string]fields{"Ethernet0": written("up", "up", "9100")},
				Kernel: map[string]Link{"Ethernet0": {Up: true, MTU: 9100}},
			},
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "compared", Ports: []Port{{
				Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", MTU: "9100", Admin: "up", Oper: "up",
				ApplDB: "consumed", State: "ok", Kernel: &KernelLink{Admin: "up", Oper: "down", MTU: "9100"}, Diff: []string{"oper"},
			}}},
		},
		{
			name: "consumed port with a link but no STATE_DB entry is missing",
			snap: Snapshot{
				Appl: map[string]fields{"Ethernet0": conf},
				// Another daemon's field alone is not portsyncd's entry.
				State:  map[string]fields{"Ethernet0": {"speed": "100000"}},
				Kernel: map[string]Link{"Ethernet0": up},
			},
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "compared", Ports: []Port{{
				Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", ApplDB: "consumed", Kernel: kernelUp, Diff: []string{"missing"},
			}}},
		},
		{
			name: "staged port with a link is not written yet: no diff",
			snap: Snapshot{
				Config: map[string]fields{"Ethernet0": conf},
				Staged: map[string]bool{"Ethernet0": true, "PortConfigDone": true},
				Kernel: map[string]Link{"Ethernet0": up},
			},
			want: Report{Schema: 1, PortConfigDone: "staged", PortInitDone: "absent", Kernel: "compared", Ports: []Port{{
				Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", ApplDB: "staged", Kernel: kernelUp, Diff: []string{},
			}}},
		},
		{
			name: "entry for a link that is gone is stale",
			snap: Snapshot{
				Appl:   map[string]fields{"Ethernet0": conf, "Ethernet4": conf},
				Staged: map[string]bool{"Ethernet0": true},
				State:  map[string]fields{"Ethernet0": written("up", "up", "9100"), "Ethernet4": {"speed": "100000"}},
				Kernel: map[string]Link{"PortChannel1": up},
			},
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "compared", Ports: []Port{
				{
					Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", MTU: "9100", Admin: "up", Oper: "up",
					ApplDB: "consumed+staged", State: "ok", Diff: []string{"stale"},
				},
				// Only another daemon's fields: nothing of portsyncd's is stale.
				{Name: "Ethernet4", Lanes: "0,1,2,3", Speed: "100000", ApplDB: "consumed", Diff: []string{}},
			}},
		},
		{
			name: "namespace without port links is not compared",
			snap: Snapshot{
				Appl:   map[string]fields{"Ethernet0": conf},
				State:  map[string]fields{"Ethernet0": written("up", "up", "9100")},
				Kernel: map[string]Link{"lo": up, "eth0": up},
			},
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "no_port_links", Ports: []Port{{
				Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", MTU: "9100", Admin: "up", Oper: "up",
				ApplDB: "consumed", State: "ok", Diff: []string{},
			}}},
		},
		{
			name: "configuration from APPL_DB wins over CONFIG_DB; rows from every database, sorted naturally",
			snap: Snapshot{
				Config: map[string]fields{"Ethernet12": {"lanes": "12", "speed": "40000"}, "Ethernet4": {"lanes": "4"}},
				Appl:   map[string]fields{"Ethernet12": {"speed": "100000"}},
				State:  map[string]fields{"Ethernet100": written("up", "down", "1500")},
			},
			want: Report{Schema: 1, PortConfigDone: "absent", PortInitDone: "absent", Kernel: "not_read", Ports: []Port{
				{Name: "Ethernet4", Lanes: "4", ApplDB: "absent", Diff: []string{}},
				{Name: "Ethernet12", Lanes: "12", Speed: "100000", ApplDB: "consumed", Diff: []string{}},
				{Name: "Ethernet100", MTU: "1500", Admin: "up", Oper: "down", ApplDB: "absent", State: "ok", Diff: []string{}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(tt.snap)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Build (-want +got):\n%s", diff)
			}
			wantDiffers := slices.ContainsFunc(tt.want.Ports, func(p Port) bool { return len(p.Diff) > 0 })
			if got.Differs() != wantDiffers {
				t.Errorf("Differs() = %v, want %v", got.Differs(), wantDiffers)
			}
		})
	}
}

func TestNaturalCompare(t *testing.T) {
	got := []string{"Ethernet100", "PortChannel2", "Ethernet12", "Ethernet4", "Ethernet0", "Ethernet004a", "Ethernet4a", "PortChannel10", "Ethernet"}
	slices.SortFunc(got, NaturalCompare)
	want := []string{"Ethernet", "Ethernet0", "Ethernet4", "Ethernet004a", "Ethernet4a", "Ethernet12", "Ethernet100", "PortChannel2", "PortChannel10"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"Ethernet4", "Ethernet4", 0},
		{"Ethernet4", "Ethernet12", -1},
		{"Ethernet12", "Ethernet4", 1},
		{"a", "b", -1},
		{"Ethernet4", "Ethernet", 1},
	} {
		if got := NaturalCompare(tt.a, tt.b); got != tt.want {
			t.Errorf("NaturalCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{
			name: "compared",
			r: Report{PortConfigDone: "consumed", PortInitDone: "absent", Kernel: "compared", Ports: []Port{
				{Name: "Ethernet0", Lanes: "0,1,2,3", Speed: "100000", MTU: "9100", Admin: "up", Oper: "up", ApplDB: "consumed", State: "ok", Diff: []string{}},
				{Name: "Ethernet100", Lanes: "100", ApplDB: "staged", Diff: []string{"admin", "mtu"}},
			}},
			want: `PortConfigDone: consumed  PortInitDone: absent  kernel: compared
NAME         LANES    SPEED   MTU   ADMIN  OPER  APPL_DB   STATE  DIFF
Ethernet0    0,1,2,3  100000  9100  up     up    consumed  ok     -
Ethernet100  100      -       -     -      -     staged    -      admin,mtu
`,
		},
		{
			name: "not compared: no DIFF column",
			r: Report{PortConfigDone: "absent", PortInitDone: "absent", Kernel: "no_port_links", Ports: []Port{
				{Name: "Ethernet0", ApplDB: "absent", Diff: []string{}},
			}},
			want: `PortConfigDone: absent  PortInitDone: absent  kernel: no port links
NAME       LANES  SPEED  MTU  ADMIN  OPER  APPL_DB  STATE
Ethernet0  -      -      -    -      -     absent   -
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Table(tt.r)); diff != "" {
				t.Errorf("Table (-want +got):\n%s", diff)
			}
		})
	}
}

// The JSON schema is a contract with scripts: the exact keys are pinned.
func TestJSONSchema(t *testing.T) {
	r := Build(Snapshot{
		Appl:   map[string]fields{"Ethernet0": {"lanes": "0", "speed": "1000"}, "PortInitDone": {"lanes": "0"}},
		State:  map[string]fields{"Ethernet0": written("up", "up", "1500"), "Ethernet8": written("up", "up", "1500")},
		Kernel: map[string]Link{"Ethernet0": {Up: true, Running: true, MTU: 9100}},
	})
	got := JSON(r)
	want := `{"schema":1,"port_config_done":"absent","port_init_done":"consumed","kernel":"compared","ports":[` +
		`{"name":"Ethernet0","lanes":"0","speed":"1000","mtu":"1500","admin_status":"up","netdev_oper_status":"up","appl_db":"consumed","state":"ok",` +
		`"kernel":{"admin_status":"up","oper_status":"up","mtu":"9100"},"diff":["mtu"]},` +
		`{"name":"Ethernet8","lanes":"","speed":"","mtu":"1500","admin_status":"up","netdev_oper_status":"up","appl_db":"absent","state":"ok",` +
		`"kernel":null,"diff":["stale"]}]}` + "\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	var back Report
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatalf("JSON does not parse back: %v", err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	empty := JSON(Build(Snapshot{}))
	if !strings.Contains(empty, `"ports":[]`) {
		t.Errorf("no ports must be [], not null: %s", empty)
	}
}

// Watch draws the first frame and then only frames that changed; the frame
// function ends the watch itself, so nothing depends on the period.
func TestWatchDrawsOnlyChanges(t *testing.T) {
	frames := []string{"a", "a", "b", "b", "b", "a", "c", "c"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	frame := func(context.Context) string {
		f := frames[calls]
		calls++
		if calls == len(frames) {
			cancel()
		}
		return f
	}
	var drawn []string
	done := make(chan struct{})
	go func() {
		Watch(ctx, time.Millisecond, frame, func(s string) { drawn = append(drawn, s) })
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
	// The last "c" came as the context ended: not drawn, and not needed.
	if diff := cmp.Diff([]string{"a", "b", "a", "c"}, drawn); diff != "" {
		t.Errorf("drawn (-want +got):\n%s", diff)
	}
	if calls != len(frames) {
		t.Errorf("frame called %d times, want %d", calls, len(frames))
	}
}
