package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/dbconfig"
)

func TestIntegrationRedisRestart(t *testing.T) {
	RequireRoot(t)
	ctx := context.Background()
	r := StartRedis(t)
	c := r.Client(t, 6)

	if got, err := c.ConfigGet(ctx, "notify-keyspace-events").Result(); err != nil || got["notify-keyspace-events"] != "" {
		t.Fatalf("notify-keyspace-events = %v, %v; want empty", got, err)
	}
	if got, err := c.ConfigGet(ctx, "save").Result(); err != nil || got["save"] != "" {
		t.Fatalf("save = %v, %v; want empty", got, err)
	}
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	r.Stop(t)
	if _, err := os.Stat(r.Socket); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket still there after Stop: %v", err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered while stopped")
	}
	r.Stop(t) // stopping twice is harmless

	r.Start(t)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after restart: %v", err)
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET k after restart: %v, want redis.Nil", err)
	}

	path := r.WriteDBConfig(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Instances map[string]struct {
			Hostname       string `json:"hostname"`
			Port           int    `json:"port"`
			UnixSocketPath string `json:"unix_socket_path"`
		} `json:"INSTANCES"`
		Databases map[string]struct {
			ID        int    `json:"id"`
			Separator string `json:"separator"`
			Instance  string `json:"instance"`
		} `json:"DATABASES"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	inst := cfg.Instances["redis"]
	if inst.Hostname != "127.0.0.1" || inst.Port != 6379 || inst.UnixSocketPath != r.Socket {
		t.Errorf("instance = %+v", inst)
	}
	for name, want := range map[string]struct {
		id  int
		sep string
	}{"APPL_DB": {0, ":"}, "CONFIG_DB": {4, "|"}, "STATE_DB": {6, "|"}} {
		db := cfg.Databases[name]
		if db.ID != want.id || db.Separator != want.sep || db.Instance != "redis" {
			t.Errorf("%s = %+v", name, db)
		}
	}
}

func TestIntegrationNetns(t *testing.T) {
	RequireRoot(t)
	var names []string
	t.Run("ports", func(t *testing.T) {
		ns := NewNetns(t)
		partner := NewNetns(t)
		names = []string{ns.Name, partner.Name}
		if !strings.HasPrefix(ns.Name, "psd-") || ns.Name == partner.Name {
			t.Fatalf("names %q, %q", ns.Name, partner.Name)
		}
		if lo := ns.Link(t, "lo"); !lo.Exists || !lo.AdminUp {
			t.Fatalf("lo = %+v, want up", lo)
		}

		idx := ns.AddPort(t, "Ethernet0", partner)
		st := ns.Link(t, "Ethernet0")
		if !st.Exists || !st.AdminUp || st.Ifindex != idx || idx <= 1 {
			t.Fatalf("Ethernet0 = %+v (AddPort returned %d)", st, idx)
		}
		if p := partner.Link(t, "p-Ethernet0"); !p.Exists || !p.AdminUp {
			t.Fatalf("peer p-Ethernet0 = %+v", p)
		}
		waitRunning(t, ns, "Ethernet0", true)

		ns.SetUp(t, "Ethernet0", false)
		if st := ns.Link(t, "Ethernet0"); st.AdminUp || st.Running {
			t.Fatalf("after SetUp false: %+v", st)
		}
		ns.SetUp(t, "Ethernet0", true)
		waitRunning(t, ns, "Ethernet0", true)

		ns.SetPeerUp(t, "Ethernet0", false)
		waitRunning(t, ns, "Ethernet0", false)
		if st := ns.Link(t, "Ethernet0"); !st.AdminUp {
			t.Fatalf("peer down changed admin state: %+v", st)
		}
		ns.SetPeerUp(t, "Ethernet0", true)
		waitRunning(t, ns, "Ethernet0", true)

		ns.SetMTU(t, "Ethernet0", 9100)
		if st := ns.Link(t, "Ethernet0"); st.MTU != 9100 {
			t.Fatalf("MTU = %d, want 9100", st.MTU)
		}

		ns.Rename(t, "Ethernet0", "Ethernet8")
		if ns.Link(t, "Ethernet0").Exists {
			t.Fatal("Ethernet0 still exists after rename")
		}
		st = ns.Link(t, "Ethernet8")
		if !st.Exists || st.Ifindex != idx || !st.AdminUp || st.MTU != 9100 {
			t.Fatalf("Ethernet8 = %+v", st)
		}
		waitRunning(t, ns, "Ethernet8", true)
		ns.SetPeerUp(t, "Ethernet8", false) // peer follows the rename
		waitRunning(t, ns, "Ethernet8", false)

		// Renaming a port that is down keeps it down.
		ns.SetUp(t, "Ethernet8", false)
		ns.Rename(t, "Ethernet8", "Ethernet12")
		if st := ns.Link(t, "Ethernet12"); !st.Exists || st.AdminUp {
			t.Fatalf("Ethernet12 = %+v, want down", st)
		}

		// Long names: peers are truncated to 15 bytes and kept unique.
		ns.AddPort(t, "Ethernet1000000", partner)
		ns.AddPort(t, "Ethernet1000001", partner, PortDown(), PeerDown())
		_, p1 := ns.Peer(t, "Ethernet1000000")
		_, p2 := ns.Peer(t, "Ethernet1000001")
		if p1 != "p-Ethernet10000" || p2 == p1 || len(p2) > 15 {
			t.Fatalf("peer names %q, %q", p1, p2)
		}
		if st := ns.Link(t, "Ethernet1000001"); st.AdminUp {
			t.Fatalf("PortDown port is up: %+v", st)
		}
		if st := partner.Link(t, p2); !st.Exists || st.AdminUp {
			t.Fatalf("PeerDown peer = %+v", st)
		}

		links := ns.Links(t)
		for _, name := range []string{"lo", "Ethernet12", "Ethernet1000000", "Ethernet1000001"} {
			if !links[name].Exists {
				t.Errorf("Links has no %s: %v", name, links)
			}
		}
		if links["Ethernet12"].Ifindex != idx {
			t.Errorf("Links[Ethernet12] = %+v", links["Ethernet12"])
		}

		ns.Delete(t, "Ethernet12")
		if ns.Link(t, "Ethernet12").Exists {
			t.Fatal("Ethernet12 exists after Delete")
		}
		if partner.Link(t, "p-Ethernet0").Exists {
			t.Fatal("peer of deleted port still exists")
		}
		if err := ns.TryIP("link", "set", "dev", "Ethernet12", "up"); err == nil ||
			!strings.Contains(err.Error(), "Ethernet12") {
			t.Fatalf("TryIP on missing link: %v", err)
		}
	})
	list, err := ListNetns()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if slices.Contains(list, n) {
			t.Errorf("namespace %s still exists after cleanup", n)
		}
	}
}

func waitRunning(t *testing.T, ns *Netns, name string, want bool) {
	t.Helper()
	var st LinkState
	Eventually(t, 3*time.Second, func() bool {
		st = ns.Link(t, name)
		return st.Running == want
	}, func() string { return fmt.Sprintf("%s: Running = %v, want %v (%+v)", name, st.Running, want, st) })
}

// stage writes a change the way swss-common's ProducerStateTable does.
func stage(t *testing.T, c *redis.Client, key string, del bool, fv ...string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, "PORT_TABLE_KEY_SET", key)
		if del {
			p.SAdd(ctx, "PORT_TABLE_DEL_SET", key)
			p.Del(ctx, "_PORT_TABLE:"+key)
		}
		if len(fv) > 0 {
			args := make([]any, len(fv))
			for i, s := range fv {
				args[i] = s
			}
			p.HSet(ctx, "_PORT_TABLE:"+key, args...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationOrchagentPop(t *testing.T) {
	RequireRoot(t)
	ctx := context.Background()
	r := StartRedis(t)
	c := r.Client(t, 0)
	o := NewOrchagent(t, c)

	if es, err := o.Pop(ctx, 10); err != nil || len(es) != 0 {
		t.Fatalf("Pop on empty table = %v, %v", es, err)
	}
	if _, err := o.Pop(ctx, 0); err == nil {
		t.Fatal("Pop(0) did not fail")
	}

	c.HSet(ctx, "PORT_TABLE:Ethernet0", "alias", "etp1", "speed", "100000")
	stage(t, c, "Ethernet0", false, "oper_status", "up", "speed", "40000")
	stage(t, c, "Ethernet4", false, "mtu", "9100")
	es, err := o.Pop(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
	want := []Entry{
		{Key: "Ethernet0", Fields: map[string]string{"oper_status": "up", "speed": "40000"}},
		{Key: "Ethernet4", Fields: map[string]string{"mtu": "9100"}},
	}
	checkEntries(t, es, want)
	checkHash(t, c, "PORT_TABLE:Ethernet0", map[string]string{"alias": "etp1", "speed": "40000", "oper_status": "up"})
	checkHash(t, c, "PORT_TABLE:Ethernet4", map[string]string{"mtu": "9100"})
	for _, k := range []string{"_PORT_TABLE:Ethernet0", "_PORT_TABLE:Ethernet4", "PORT_TABLE_KEY_SET"} {
		if n := c.Exists(ctx, k).Val(); n != 0 {
			t.Errorf("%s still exists", k)
		}
	}

	// Pure delete.
	stage(t, c, "Ethernet4", true)
	es, err = o.Pop(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, es, []Entry{{Key: "Ethernet4", Fields: map[string]string{}}})
	if n := c.Exists(ctx, "PORT_TABLE:Ethernet4", "PORT_TABLE_DEL_SET").Val(); n != 0 {
		t.Errorf("PORT_TABLE:Ethernet4 or the delete set still exist")
	}

	// Delete, then set: old fields are gone.
	stage(t, c, "Ethernet0", true, "speed", "25000")
	es, err = o.Pop(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, es, []Entry{{Key: "Ethernet0", Fields: map[string]string{"speed": "25000"}}})
	checkHash(t, c, "PORT_TABLE:Ethernet0", map[string]string{"speed": "25000"})

	// max limits one pop.
	for i := range 5 {
		stage(t, c, fmt.Sprintf("Ethernet%d", 100+4*i), false, "admin_status", "up")
	}
	es, err = o.Pop(ctx, 2)
	if err != nil || len(es) != 2 {
		t.Fatalf("Pop(2) = %v, %v", es, err)
	}
	if n := c.SCard(ctx, "PORT_TABLE_KEY_SET").Val(); n != 3 {
		t.Fatalf("%d keys left, want 3", n)
	}
}

func TestIntegrationOrchagentRun(t *testing.T) {
	RequireRoot(t)
	ctx := context.Background()
	r := StartRedis(t)
	c := r.Client(t, 0)
	o := NewOrchagent(t, c)
	o.Run(t)

	// Published change.
	stage(t, c, "Ethernet0", false, "oper_status", "down")
	if err := c.Publish(ctx, o.Channel(), "G").Err(); err != nil {
		t.Fatal(err)
	}
	// Unpublished change: found by polling.
	stage(t, c, "Ethernet4", false, "oper_status", "up")

	Eventually(t, 3*time.Second, func() bool { return len(o.Popped()) == 2 },
		func() string { return fmt.Sprintf("popped %v", o.Popped()) })
	es := o.Popped()
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
	checkEntries(t, es, []Entry{
		{Key: "Ethernet0", Fields: map[string]string{"oper_status": "down"}},
		{Key: "Ethernet4", Fields: map[string]string{"oper_status": "up"}},
	})
	es[0].Fields["x"] = "y"
	if _, ok := o.Popped()[0].Fields["x"]; ok {
		t.Error("Popped shares maps with the recorder")
	}
	checkHash(t, c, "PORT_TABLE:Ethernet4", map[string]string{"oper_status": "up"})
}

func checkEntries(t *testing.T, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("entries = %v, want %v", got, want)
	}
	for i := range got {
		if got[i].Key != want[i].Key || got[i].Fields == nil || !maps.Equal(got[i].Fields, want[i].Fields) {
			t.Fatalf("entries = %v, want %v", got, want)
		}
	}
}

func checkHash(t *testing.T, c *redis.Client, key string, want map[string]string) {
	t.Helper()
	got, err := c.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", key, got, want)
	}
}

func TestIntegrationProcess(t *testing.T) {
	RequireRoot(t)
	ns := NewNetns(t)
	partner := NewNetns(t)
	ns.AddPort(t, "Ethernet0", partner)

	ip, err := lookTool("ip")
	if err != nil {
		t.Fatal(err)
	}
	// Runs inside ns, traps SIGTERM and exits 3.
	d := StartProcess(t, ns, "/bin/sh", "-c",
		`trap 'echo got TERM; kill $!; exit 3' TERM; `+ip+` -o link show; echo hello; sleep 30 >/dev/null 2>&1 & wait`)
	d.WaitLog(t, "hello", 5*time.Second)
	if !strings.Contains(d.Log(), "Ethernet0") {
		t.Fatalf("process does not run in the namespace; log:\n%s", d.Log())
	}
	if _, err := d.Wait(50 * time.Millisecond); err == nil {
		t.Fatal("Wait did not time out on a running process")
	}
	d.Signal(t, syscall.SIGTERM)
	code, err := d.Wait(5 * time.Second)
	if err != nil || code != 3 {
		t.Fatalf("Wait = %d, %v; want 3; log:\n%s", code, err, d.Log())
	}
	d.WaitLog(t, "got TERM", time.Second)

	// Without a namespace; killed by a signal.
	d = StartProcess(t, nil, "/bin/sh", "-c", "echo hello; exec sleep 30")
	d.WaitLog(t, "hello", 5*time.Second)
	d.Signal(t, syscall.SIGKILL)
	if code, err := d.Wait(5 * time.Second); err != nil || code != 128+int(syscall.SIGKILL) {
		t.Fatalf("Wait = %d, %v; want %d", code, err, 128+int(syscall.SIGKILL))
	}
}

// TestIntegrationProcessOutlivesForkingThread starts a process from a
// goroutine locked to its thread, which Go ends when the goroutine returns:
// the process must live on (its Pdeathsig is for the test binary's death).
func TestIntegrationProcessOutlivesForkingThread(t *testing.T) {
	RequireRoot(t)
	ns := NewNetns(t)
	var d *Daemon
	var tid int
	for d == nil {
		started := make(chan *Daemon)
		go func() {
			runtime.LockOSThread()
			tid = syscall.Gettid()
			if tid == os.Getpid() {
				// The main thread: Go never ends it. Try another.
				runtime.UnlockOSThread()
				started <- nil
				return
			}
			started <- StartProcess(t, ns, "/bin/sh", "-c", "echo hello; exec sleep 30")
		}() // returns locked: its thread ends
		d = <-started
	}
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	Eventually(t, 10*time.Second, func() bool { _, err := os.Stat(task); return err != nil },
		func() string { return "thread " + task + " never ended" })
	d.WaitLog(t, "hello", 5*time.Second)
	if code, err := d.Wait(100 * time.Millisecond); err == nil {
		t.Fatalf("process exited (%d) when the thread that started it ended; log:\n%s", code, d.Log())
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/net/netlink", d.Cmd.Process.Pid)); err != nil {
		t.Errorf("process's /proc net: %v", err)
	}
}

func TestIntegrationDaemonBuild(t *testing.T) {
	RequireRoot(t)
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root + "/cmd/portsyncd"); err != nil {
		t.Skipf("no cmd/portsyncd yet: %v", err)
	}
	bin := BuildDaemon(t)
	if st, err := os.Stat(bin); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Fatalf("built binary %s: %v", bin, err)
	}
	if again := BuildDaemon(t); again != bin {
		t.Fatalf("second BuildDaemon = %s, want %s", again, bin)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(root + "/go.mod")
	if err != nil || !strings.Contains(string(b), "module github.com/sonic-go/portsyncd") {
		t.Fatalf("go.mod in %s: %v", root, err)
	}
}

// fakeTB records Fatalf instead of stopping the goroutine.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestEventually(t *testing.T) {
	f := &fakeTB{TB: t}
	n := 0
	Eventually(f, time.Second, func() bool { n++; return n == 3 }, nil)
	if f.fatal != "" || n != 3 {
		t.Fatalf("n = %d, fatal = %q", n, f.fatal)
	}
	calls := 0
	start := time.Now()
	Eventually(f, 100*time.Millisecond, func() bool { return false }, func() string { calls++; return "never true" })
	if calls != 1 || !strings.Contains(f.fatal, "never true") || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("calls = %d, fatal = %q", calls, f.fatal)
	}
}

func TestMain(m *testing.M) { Main(m) }

// The global file WriteDBGlobal writes leads dbconfig to each namespace's
// database_config.json through relative includes.
func TestWriteDBGlobal(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), DBConfigFile), filepath.Join(t.TempDir(), DBConfigFile)
	path := WriteDBGlobal(t, map[string]string{"psd-a": a, "psd-b": b})
	g, err := dbconfig.LoadGlobal(path)
	if err != nil {
		t.Fatal(err)
	}
	for ns, want := range map[string]string{"psd-a": a, "psd-b": b} {
		if got, err := g.ConfigPath(ns); err != nil || got != want {
			t.Errorf("ConfigPath(%s) = %s, %v; want %s", ns, got, err, want)
		}
	}
}
