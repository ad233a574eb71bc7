package test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

// portNames returns Ethernet0, Ethernet4, ... n names.
func portNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("Ethernet%d", 4*i)
	}
	return names
}

// waitConverged waits until STATE_DB holds the kernel's state for every
// name: the four fields for existing ports, no key for the others.
func (e *env) waitConverged(names []string) {
	e.t.Helper()
	var diff string
	harness.Eventually(e.t, 20*time.Second, func() bool {
		diff = harness.StateDiff(e.t, e.ns, e.state, names)
		return diff == ""
	}, func() string {
		return fmt.Sprintf("STATE_DB differs from the kernel (-kernel +STATE_DB):\n%s\ndaemon log:\n%s", diff, e.log())
	})
}

// batch runs iproute2 commands, one per line, in ns.
func batch(t *testing.T, ns *harness.Netns, lines []string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.IP(t, "-force", "-batch", f)
}

// storm changes every port at random: MTU, admin state, carrier, and with
// deletes, deletes some. It returns the deleted names.
func (e *env) storm(names []string, rounds int, deletes bool, rng *rand.Rand) []string {
	e.t.Helper()
	var ports, peers []string
	for r := 0; r < rounds; r++ {
		for _, n := range names {
			ports = append(ports, fmt.Sprintf("link set %s mtu %d", n, 1280+rng.IntN(8000)))
			ports = append(ports, fmt.Sprintf("link set %s %s", n, []string{"up", "down"}[rng.IntN(2)]))
			_, peer := e.ns.Peer(e.t, n)
			peers = append(peers, fmt.Sprintf("link set %s %s", peer, []string{"up", "down"}[rng.IntN(2)]))
		}
	}
	var deleted []string
	for _, n := range names {
		if deletes && rng.IntN(8) == 0 {
			ports = append(ports, "link del "+n)
			deleted = append(deleted, n)
		}
	}
	batch(e.t, e.peers, peers)
	batch(e.t, e.ns, ports)
	return deleted
}

// Issue 3, netlink overrun: a receive buffer too small for a storm over 64
// ports overruns; the daemon resynchronises and STATE_DB ends equal to the
// kernel's state, deletions included. Run three times.
func TestIntegrationOverrunResync(t *testing.T) {
	for run := 1; run <= 3; run++ {
		t.Run(fmt.Sprintf("run%d", run), func(t *testing.T) {
			names := portNames(64)
			e := newEnv(t)
			e.configure(names...)
			e.orch.Run(t)
			e.start("--netlink-rcvbuf", "4096")
			e.waitAppl(names[len(names)-1])
			for _, n := range names {
				e.ns.AddPort(t, n, e.peers)
			}
			e.waitConverged(names)
			e.waitAppl("PortInitDone")

			// Stopped, the daemon cannot read: the storm overflows its socket.
			e.daemon.Signal(t, syscall.SIGSTOP)
			deleted := e.storm(names, 3, true, rand.New(rand.NewPCG(uint64(run), 42)))
			e.daemon.Signal(t, syscall.SIGCONT)
			t.Logf("storm deleted %d ports", len(deleted))

			e.waitConverged(names)
			if e.countLog("netlink receive buffer overrun") == 0 {
				t.Errorf("no overrun logged; the test did not test resynchronisation:\n%s", e.log())
			}
			if o := e.counter(t, "overruns"); o == 0 {
				t.Errorf("overruns counter = 0")
			}
		})
	}
}

// counter reads one of the daemon's counters from a SIGUSR1 state dump.
func (e *env) counter(t *testing.T, name string) int {
	t.Helper()
	actors, _ := e.stateDump(t)["actors"].(map[string]any)
	for _, a := range []string{"netlinkrx", "portstate", "dbwriter"} {
		st, _ := actors[a].(map[string]any)
		if n, ok := st[name].(float64); ok {
			return int(n)
		}
	}
	t.Fatalf("counter %s not in the state dump: %v", name, actors)
	return 0
}

// goroutines reads the daemon's goroutine count from a SIGUSR1 state dump.
func (e *env) goroutines(t *testing.T) int {
	t.Helper()
	n, ok := e.stateDump(t)["goroutines"].(float64)
	if !ok {
		t.Fatalf("no goroutine count in the state dump")
	}
	return int(n)
}

// checkGoroutines fails if the daemon has more goroutines than before,
// beyond a small allowance for connections and timers in flight.
func (e *env) checkGoroutines(t *testing.T, before int) {
	t.Helper()
	var after int
	harness.Eventually(t, waitFor, func() bool { after = e.goroutines(t); return after <= before+2 },
		func() string { return fmt.Sprintf("goroutines grew from %d to %d", before, after) })
	t.Logf("goroutines before %d, after %d", before, after)
}

// Issue 3, Redis restarted: stopped mid-storm for seconds and started again
// empty, Redis gets all the state the daemon owns back, and STATE_DB
// converges to the kernel's.
func TestIntegrationRedisRestartMidStorm(t *testing.T) {
	names := portNames(16)
	e := startWithPorts(t, names...)
	e.waitAppl("PortInitDone")
	before := e.goroutines(t)
	rng := rand.New(rand.NewPCG(7, 7))
	e.storm(names, 1, false, rng)
	e.redis.Stop(t)
	for i := 0; i < 6; i++ {
		e.storm(names, 2, false, rng)
		time.Sleep(500 * time.Millisecond)
	}
	e.redis.Start(t)
	e.waitConverged(names)
	e.waitAppl("PortConfigDone")
	e.waitAppl("PortInitDone")
	if diff := cmp.Diff(map[string]string{"restore_count": "0"}, e.hgetall(e.state, "WARM_RESTART_TABLE|portsyncd")); diff != "" {
		t.Errorf("restore_count not rewritten (-want +got):\n%s", diff)
	}
	if !strings.Contains(e.log(), "server restarted") {
		t.Errorf("restart not noticed:\n%s", e.log())
	}
	if e.daemon.Exited() {
		t.Fatalf("daemon exited:\n%s", e.log())
	}
	e.checkGoroutines(t, before)
}

// A Redis restart while no link changes is noticed all the same (an idle
// writer probes the servers), and the state it lost is written again.
func TestIntegrationRedisRestartWhileIdle(t *testing.T) {
	names := portNames(4)
	e := startWithPorts(t, names...)
	e.waitAppl("PortInitDone")
	e.redis.Stop(t)
	e.redis.Start(t)
	e.waitConverged(names)
	e.waitAppl("PortInitDone")
}

// Issue 3, connection dropped without a restart (CLIENT KILL): writes are
// retried on a new connection.
func TestIntegrationClientKill(t *testing.T) {
	names := portNames(4)
	e := startWithPorts(t, names...)
	before := e.goroutines(t)
	for i := 0; i < 3; i++ {
		if err := e.state.Do(context.Background(), "CLIENT", "KILL", "TYPE", "normal").Err(); err != nil {
			t.Fatal(err)
		}
		e.ns.SetMTU(t, names[i], 9000+i)
	}
	e.waitConverged(names)
	e.checkGoroutines(t, before)
}

// Issue 3, a write Redis rejects (WRONGTYPE) is logged with its key and
// retried; every other port is still served.
func TestIntegrationRejectedWrite(t *testing.T) {
	e := startWithPorts(t, "Ethernet0", "Ethernet4")
	ctx := context.Background()
	e.state.Del(ctx, "PORT_TABLE|Ethernet4")
	e.state.Set(ctx, "PORT_TABLE|Ethernet4", "not a hash", 0)
	e.ns.SetMTU(t, "Ethernet4", 9000)
	e.daemon.WaitLog(t, `msg="redis rejected write"`, waitFor)
	if !strings.Contains(e.log(), `key=PORT_TABLE|Ethernet4`) || !strings.Contains(e.log(), "WRONGTYPE") {
		t.Errorf("rejection logged without key or error:\n%s", e.log())
	}
	e.ns.SetMTU(t, "Ethernet0", 9100)
	e.waitState("Ethernet0", want("up", "up", 9100))
	e.state.Del(ctx, "PORT_TABLE|Ethernet4")
	e.waitState("Ethernet4", want("up", "up", 9000))
	if n := e.counter(t, "rejected"); n == 0 {
		t.Errorf("rejected counter = 0")
	}
}

// startFaulty starts the faultinject build; inject makes it fail.
func (e *env) startFaulty(t *testing.T, args ...string) (inject func(targets ...string)) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "faults")
	t.Setenv("PORTSYNCD_FAULT_FILE", file)
	e.daemon = harness.StartProcess(t, e.ns, harness.BuildDaemonTags(t, "faultinject"), harness.WithStderrLogs(e.args(args...))...)
	e.daemon.WaitLog(t, "msg=ready", waitFor)
	return func(targets ...string) {
		if err := os.WriteFile(file, []byte(strings.Join(targets, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		e.daemon.Signal(t, syscall.SIGUSR2)
	}
}

// Issue 3, supervision: each actor, made to panic, is restarted with its
// stack logged, rebuilds from the kernel, and the daemon keeps STATE_DB
// equal to the kernel's state.
func TestIntegrationActorPanicRestarts(t *testing.T) {
	for _, target := range []string{"netlinkrx", "portstate", "dbwriter"} {
		t.Run(target, func(t *testing.T) {
			names := portNames(4)
			e := newEnv(t)
			e.configure(names...)
			e.orch.Run(t)
			inject := e.startFaulty(t)
			for _, n := range names {
				e.waitAppl(n)
				e.ns.AddPort(t, n, e.peers)
			}
			e.waitConverged(names)
			inject(target)
			e.daemon.WaitLog(t, `msg="actor restarting"`, waitFor)
			// Changes during and after the restart, and a deletion whose
			// DELLINK may reach only the restarted actor's dump.
			e.ns.SetMTU(t, "Ethernet0", 9000)
			e.ns.SetUp(t, "Ethernet4", false)
			e.ns.Delete(t, "Ethernet12")
			e.waitConverged(names)
			if !strings.Contains(e.log(), "actors.Fail") {
				t.Errorf("no stack trace in the log:\n%s", e.log())
			}
			if e.daemon.Exited() {
				t.Fatalf("daemon exited")
			}
		})
	}
}

// Issue 3, crash loop: more restarts than allowed within the window end the
// process with one clear line and a non-zero status.
func TestIntegrationCrashLoopExits(t *testing.T) {
	e := newEnv(t)
	inject := e.startFaulty(t, "--max-restarts", "2", "--restart-window", "1m")
	for i := 0; i < 3; i++ {
		inject("dbwriter")
		e.daemon.WaitLog(t, fmt.Sprintf("restarts_in_window=%d", min(i+1, 2)), waitFor)
		if i < 2 {
			harness.Eventually(t, waitFor, func() bool { return e.countLog(`msg="actor restarting"`) == i+1 },
				func() string { return e.log() })
		}
	}
	code, err := e.daemon.Wait(waitFor)
	if err != nil {
		t.Fatalf("daemon still running after a crash loop:\n%s", e.log())
	}
	if code == 0 {
		t.Errorf("exit status 0 after a crash loop")
	}
	if e.countLog("too many actor restarts") != 1 {
		t.Errorf("want one line saying why:\n%s", e.log())
	}
}

// Issue 3, a wedged actor is noticed within seconds and the process exits
// non-zero. Issue 15: on time, since the watchdog only posts and waits, so
// the wedged pipeline cannot hold it up: at most a period until its next
// round, two rounds missed, and a moment to exit.
func TestIntegrationWedgedActorExits(t *testing.T) {
	// Heartbeats every quarter of systemd's watchdog interval.
	const period = 250 * time.Millisecond
	_, path := bindNotify(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", fmt.Sprint((4 * period).Microseconds()))
	for _, target := range []string{"dbwriter", "netlinkrx"} {
		t.Run(target, func(t *testing.T) {
			e := newEnv(t)
			inject := e.startFaulty(t)
			wedged := time.Now()
			inject("wedge:" + target)
			code, err := e.daemon.Wait(15 * time.Second)
			if err != nil {
				t.Fatalf("wedged daemon still running:\n%s", e.log())
			}
			if code == 0 || !strings.Contains(e.log(), "did not answer") {
				t.Errorf("exit status %d, log:\n%s", code, e.log())
			}
			if took, limit := time.Since(wedged), 3*period+4*time.Second; took > limit {
				t.Errorf("exited %v after the wedge, want within %v", took, limit)
			}
		})
	}
}
