package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sonic-go/portsyncd/test/harness"
)

// BenchmarkNamespacesCPU measures the daemon's CPU per link event when it
// serves two ASIC namespaces (--namespace, each with its own redis-server)
// and one of them, or both at once, is busy. Each round changes the MTU of
// every port of each busy namespace (one ip -batch per namespace, run
// together) and waits until every STATE_DB holds the new MTUs; the CPU is
// the daemon's (every thread's, from /proc/<pid>/task/*/schedstat). It
// reports figures; it asserts nothing about them.
//
//	go test ./test/ -run '^$' -bench NamespacesCPU -benchtime 50x
func BenchmarkNamespacesCPU(b *testing.B) {
	for _, busy := range []int{1, 2} {
		b.Run(fmt.Sprintf("namespaces=2/busy=%d", busy), func(b *testing.B) { benchNamespaces(b, busy) })
	}
}

// benchAsic is one namespace of the benchmark: its Redis, ports and
// STATE_DB.
type benchAsic struct {
	ns, peers *harness.Netns
	state     *redis.Client
	dbConfig  string
}

func benchNamespaces(b *testing.B, busy int) {
	harness.RequireRoot(b)
	names := portNames(16)
	var each []*benchAsic
	includes := map[string]string{}
	for range 2 {
		r := harness.StartRedis(b)
		x := &benchAsic{ns: harness.NewNetns(b), peers: harness.NewNetns(b), state: r.Client(b, 6), dbConfig: r.WriteDBConfig(b)}
		config := r.Client(b, 4)
		for _, n := range names {
			if err := config.HSet(b.Context(), "PORT|"+n, "mtu", "9100").Err(); err != nil {
				b.Fatal(err)
			}
		}
		harness.NewOrchagent(b, r.Client(b, 0)).Run(b)
		includes[x.ns.Name] = x.dbConfig
		each = append(each, x)
	}
	home := harness.NewNetns(b)
	args := []string{"--db-global-config", harness.WriteDBGlobal(b, includes), "--metrics-addr", ""}
	for _, x := range each {
		args = append(args, "-n", x.ns.Name)
	}
	d := harness.StartDaemon(b, home, args...)
	for _, x := range each {
		d.WaitLog(b, "msg=ready namespace="+x.ns.Name, waitFor)
		for _, n := range names {
			x.ns.AddPort(b, n, x.peers)
		}
	}
	for _, x := range each {
		waitMTU(b, x, names, 1500)
	}
	pid := d.Cmd.Process.Pid
	before := taskCPU(b, pid)
	b.ResetTimer()
	for i := range b.N {
		mtu := 2000 + i%2*1000
		var wg sync.WaitGroup
		for _, x := range each[:busy] {
			lines := make([]string, len(names))
			for j, n := range names {
				lines[j] = fmt.Sprintf("link set %s mtu %d", n, mtu)
			}
			wg.Go(func() { batchTB(b, x.ns, lines) })
		}
		wg.Wait()
		for _, x := range each[:busy] {
			waitMTU(b, x, names, mtu)
		}
	}
	b.StopTimer()
	cpu := taskCPU(b, pid) - before
	events := b.N * len(names) * busy
	perEvent := float64(cpu.Microseconds()) / float64(events)
	b.ReportMetric(perEvent, "cpu_us/event")
	b.Logf("namespaces=2 busy=%d: %d events, daemon CPU %v, %.1f us/event", busy, events, cpu, perEvent)
}

// waitMTU waits until STATE_DB of e holds mtu for every name.
func waitMTU(b *testing.B, e *benchAsic, names []string, mtu int) {
	b.Helper()
	want := strconv.Itoa(mtu)
	harness.Eventually(b, waitFor, func() bool {
		for _, n := range names {
			if got, _ := e.state.HGet(b.Context(), "PORT_TABLE|"+n, "mtu").Result(); got != want {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("%s: STATE_DB MTUs not %d", e.ns.Name, mtu) })
}

// batchTB runs iproute2 commands, one per line, in ns.
func batchTB(b testing.TB, ns *harness.Netns, lines []string) {
	f := filepath.Join(b.TempDir(), "batch")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		b.Error(err)
		return
	}
	if err := ns.TryIP("-force", "-batch", f); err != nil {
		b.Error(err)
	}
}

// taskCPU is the CPU time every thread of pid has run, in the scheduler's
// own count (nanoseconds; the 10 ms ticks of /proc/<pid>/stat are too
// coarse).
func taskCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("no threads of pid %d: %v", pid, err)
	}
	var sum time.Duration
	for _, p := range tasks {
		s, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that ended
		}
		f := strings.Fields(string(s))
		ns, _ := strconv.ParseInt(f[0], 10, 64)
		sum += time.Duration(ns)
	}
	return sum
}
