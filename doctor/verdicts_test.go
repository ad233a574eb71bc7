package doctor

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// verdict is what a table row checks of a Check: its verdict, found value,
// and a word its fix must hold ("" for no fix).
type verdict struct {
	Verdict Verdict
	Found   string
	FixHas  string
}

func judge(t *testing.T, c Check, want verdict) {
	t.Helper()
	got := verdict{Verdict: c.Verdict, Found: c.Found}
	if want.FixHas != "" && strings.Contains(c.Fix, want.FixHas) {
		got.FixHas = want.FixHas
	} else if want.FixHas == "" && c.Fix != "" {
		got.FixHas = c.Fix
	}
	if c.Verdict != OK && c.Fix == "" {
		t.Errorf("%s %s has no fix", c.Verdict, c.Name)
	}
	if c.Wanted == "" {
		t.Errorf("%s: nothing wanted", c.Name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", c.Name, diff)
	}
}

func TestRmemMax(t *testing.T) {
	tests := []struct {
		name        string
		rmem, want  int
		force       bool
		wantVerdict verdict
	}{
		{"at the size asked", 16 << 20, 16 << 20, false, verdict{OK, "16777216", ""}},
		{"above", 256 << 20, 16 << 20, false, verdict{OK, "268435456", ""}},
		{"kernel default asked", 4096, 0, false, verdict{OK, "4096", ""}},
		{"tiny, forced past it", 4096, 16 << 20, true, verdict{Warn, "4096", "sysctl -w net.core.rmem_max=16777216"}},
		{"tiny, no force", 4096, 16 << 20, false, verdict{Fail, "4096", "portsyncd_netlink_overruns_total"}},
		{"one byte short", 16<<20 - 1, 16 << 20, false, verdict{Fail, "16777215", "sysctl -w net.core.rmem_max=16777216"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { judge(t, RmemMax(tt.rmem, tt.want, tt.force), tt.wantVerdict) })
	}
}

func TestRcvBufForce(t *testing.T) {
	judge(t, RcvBufForce(true), verdict{OK, "permitted", ""})
	judge(t, RcvBufForce(false), verdict{Warn, "not permitted: no CAP_NET_ADMIN in the effective set", "AmbientCapabilities=CAP_NET_ADMIN"})
}

func TestTHP(t *testing.T) {
	tests := []struct {
		enabled string
		want    verdict
	}{
		{"always [madvise] never\n", verdict{OK, "madvise", ""}},
		{"always madvise [never]\n", verdict{OK, "never", ""}},
		{"[always] madvise never\n", verdict{Warn, "always", "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"}},
		{"", verdict{OK, "not in this kernel", ""}},
		{"garbage\n", verdict{Warn, "unreadable: garbage", "in brackets"}},
	}
	for _, tt := range tests {
		t.Run(tt.enabled, func(t *testing.T) { judge(t, THP(tt.enabled), tt.want) })
	}
}

func TestMemlock(t *testing.T) {
	judge(t, Memlock(Unlimited, false), verdict{OK, "unlimited", ""})
	judge(t, Memlock(8<<20, true), verdict{OK, "CAP_IPC_LOCK (the limit does not apply)", ""})
	judge(t, Memlock(8<<20, false), verdict{Fail, "8192 KiB, no CAP_IPC_LOCK", "LimitMEMLOCK=infinity with CAP_IPC_LOCK"})
}

func TestAffinity(t *testing.T) {
	judge(t, Affinity([]int{0, 1, 2, 3}, 4), verdict{OK, "CPUs 0-3 (all 4)", ""})
	judge(t, Affinity([]int{6, 1, 2, 3, 9}, 16), verdict{OK, "CPUs 1-3,6,9 of 16", ""})
	judge(t, Affinity(nil, 0), verdict{Warn, "unknown", "taskset"})
}

func TestSched(t *testing.T) {
	tests := []struct {
		name         string
		policy, prio uint32
		nice         int32
		want         verdict
	}{
		{"default", SchedOther, 0, 0, verdict{OK, "SCHED_OTHER, nice 0", ""}},
		{"niced up", SchedOther, 0, -10, verdict{Warn, "SCHED_OTHER, nice -10", "2.3x"}},
		{"niced down", SchedOther, 0, 5, verdict{Warn, "SCHED_OTHER, nice 5", "Nice="}},
		{"round robin", SchedRR, 10, 0, verdict{Warn, "SCHED_RR, priority 10", "CPUSchedulingPolicy="}},
		{"fifo", SchedFIFO, 50, 0, verdict{Warn, "SCHED_FIFO, priority 50", "CPUSchedulingPolicy="}},
		{"idle", SchedIdle, 0, 0, verdict{Warn, "SCHED_IDLE", "CPUSchedulingPolicy=other"}},
		{"batch", SchedBatch, 0, 0, verdict{Warn, "SCHED_BATCH", "CPUSchedulingPolicy=other"}},
		{"deadline", 6, 0, 0, verdict{Warn, "policy 6", "chrt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { judge(t, Sched(tt.policy, tt.prio, tt.nice), tt.want) })
	}
}

func TestDBConfig(t *testing.T) {
	judge(t, DBConfig("/x/database_config.json", 3, nil), verdict{OK, "/x/database_config.json: 3 databases", ""})
	judge(t, DBConfig("/x/database_config.json", 0, errors.New("dbconfig: /x/database_config.json: invalid JSON")),
		verdict{Fail, "dbconfig: /x/database_config.json: invalid JSON", "exits 78"})
}

func TestPing(t *testing.T) {
	refused := errors.New("dial unix /run/redis/redis.sock: connect: connection refused")
	tests := []struct {
		name string
		rtt  time.Duration
		err  error
		used bool
		want verdict
	}{
		{"answers", 42 * time.Microsecond, nil, true, verdict{OK, "PONG in 42 us (unix /s)", ""}},
		{"slow", 25 * time.Millisecond, nil, true, verdict{Warn, "PONG in 25000 us (unix /s)", "unix socket"}},
		{"down, used", 0, refused, true, verdict{Fail, "unix /s: " + refused.Error(), "never becomes ready"}},
		{"down, not used", 0, refused, false, verdict{Warn, "unix /s: " + refused.Error(), "redis-server running"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { judge(t, Ping("APPL_DB", "unix /s", tt.rtt, tt.err, tt.used), tt.want) })
	}
}

func TestPorts(t *testing.T) {
	judge(t, Ports(32, nil, nil), verdict{OK, "32", ""})
	judge(t, Ports(0, nil, nil), verdict{Warn, "none", "PortConfigDone with count 0"})
	judge(t, Ports(3, map[string]string{"Eth 1": "white space", "Ethernet0/1": "has /"}, nil),
		verdict{Warn, `3, of which 2 can never be a link: "Eth 1" (white space), "Ethernet0/1" (has /)`, "PortInitDone waits"})
	judge(t, Ports(0, nil, errors.New("NOPERM")), verdict{Fail, "NOPERM", "redis CONFIG_DB row"})
}

func TestKeyspace(t *testing.T) {
	tests := []struct {
		setting string
		err     error
		want    verdict
	}{
		{"AKE", nil, verdict{OK, `"AKE"`, ""}},
		{"KA", nil, verdict{OK, `"KA"`, ""}},
		{"Khg", nil, verdict{OK, `"Khg"`, ""}},
		{"ghK", nil, verdict{OK, `"ghK"`, ""}},
		{"", nil, verdict{Warn, `"" (off)`, "--port-table-recheck"}},
		{"Kh", nil, verdict{Warn, `"Kh"`, "EXISTS"}}, // no del events: a removal goes unseen
		{"EA", nil, verdict{Warn, `"EA"`, "CONFIG SET notify-keyspace-events AKE"}},
		{"", errors.New("NOPERM"), verdict{Warn, "unreadable: NOPERM", "takes a refusal as off"}},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) { judge(t, Keyspace(tt.setting, tt.err), tt.want) })
	}
}

func TestGuard(t *testing.T) {
	judge(t, Guard(false, 0, "", nil), verdict{OK, "free", ""})
	judge(t, Guard(true, 4242, "portsyncd", nil), verdict{OK, "held by pid 4242 (portsyncd)", ""})
	judge(t, Guard(true, 0, "", nil), verdict{OK, "held (pid not visible from here)", ""})
	judge(t, Guard(true, 77, "nc", nil), verdict{Warn, "held by pid 77 (nc)", "ps -p 77"})
	judge(t, Guard(false, 0, "", errors.New("redis down")), verdict{Warn, "not checked: redis down", "redis rows"})
}

func TestReadyz(t *testing.T) {
	refused := errors.New("connection refused")
	notReady := `{"status":"not_ready","initial_sync":true,"redis_connected":true,"port_init_done":false,"pending_ports":["Ethernet8","Ethernet12"]}`
	tests := []struct {
		name string
		addr string
		code int
		body string
		err  error
		held bool
		want verdict
	}{
		{"off", "", 0, "", nil, false, verdict{OK, "not asked (--metrics-addr empty)", ""}},
		{"none runs", "127.0.0.1:9123", 0, "", refused, false, verdict{OK, "no answer on 127.0.0.1:9123 (no portsyncd runs)", ""}},
		{"runs, silent", "127.0.0.1:9123", 0, "", refused, true, verdict{Warn, "no answer on 127.0.0.1:9123: connection refused", "--metrics-addr"}},
		{"ready", "127.0.0.1:9123", 200, `{"status":"ready"}`, nil, true, verdict{OK, "200 ready", ""}},
		{"not ready", "127.0.0.1:9123", 503, notReady, nil, true, verdict{Warn,
			"503 not ready: initial_sync=true redis_connected=true port_init_done=false, waiting for 2 ports (Ethernet8 Ethernet12)", "PortInitDone never sent"}},
		{"someone else", "127.0.0.1:9123", 404, "nope", nil, false, verdict{Warn, "404: nope", "is it portsyncd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			judge(t, Readyz(tt.addr, tt.code, []byte(tt.body), tt.err, tt.held), tt.want)
		})
	}
}

func TestNetns(t *testing.T) {
	judge(t, Netns("asic0", nil), verdict{OK, "/run/netns/asic0", ""})
	judge(t, Netns("asic9", fs.ErrNotExist), verdict{Fail, "no /run/netns/asic9", "ip netns list"})
	judge(t, Netns("asic9", fs.ErrPermission), verdict{Fail, "permission denied", "ls -l /run/netns"})
}

func TestParsers(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{{"0-1\n", 2, true}, {"0\n", 1, true}, {"0-3,6,8-9\n", 7, true}, {"x", 0, false}, {"3-1", 0, false}} {
		n, err := countCPUList(tt.in)
		if n != tt.want || (err == nil) != tt.ok {
			t.Errorf("countCPUList(%q) = %d, %v; want %d, ok %v", tt.in, n, err, tt.want, tt.ok)
		}
	}
	status := "Name:\tportsyncd\nCapInh:\t0000000000000000\nCapEff:\t0000000000001000\nCapBnd:\t000001ffffffffff\n"
	if got, err := parseCapEff(status); err != nil || got != 1<<capNetAdmin {
		t.Errorf("parseCapEff = %#x, %v; want CAP_NET_ADMIN only", got, err)
	}
	if _, err := parseCapEff("Name:\tx\n"); err == nil {
		t.Error("parseCapEff without a CapEff line: no error")
	}
}

func TestReportRendering(t *testing.T) {
	r := Report{Schema: 1, Checks: []Check{
		{Name: "a", Verdict: OK, Found: "1", Wanted: "1"},
		{Name: "long name", Verdict: Fail, Found: "two\nlines", Wanted: "one", Fix: "do\tthis"},
		{Name: "c", Verdict: Warn, Found: "x", Wanted: "y", Fix: "that"},
	}}
	if !r.Failed() || (Report{Checks: r.Checks[:1]}).Failed() {
		t.Error("Failed: want true only with a FAIL row")
	}
	want := "" +
		"VERDICT  CHECK      FOUND      WANTED\n" +
		"OK       a          1          1\n" +
		"FAIL     long name  two lines  one\n" +
		"         fix: do this\n" +
		"WARN     c          x          y\n" +
		"         fix: that\n" +
		"1 OK, 1 WARN, 1 FAIL\n"
	if diff := cmp.Diff(want, Table(r)); diff != "" {
		t.Errorf("Table (-want +got):\n%s", diff)
	}
	r.Checks[0].Wanted = ">= 1 & more"
	if js := JSON(r); !strings.Contains(js, `"verdict": "FAIL"`) || !strings.Contains(js, `"schema": 1`) || !strings.Contains(js, `">= 1 & more"`) {
		t.Errorf("JSON:\n%s", js)
	}
}
