package test

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/test/harness"
)

// waitExit waits for the daemon to exit and checks its status.
func (e *env) waitExit(t *testing.T, want int) {
	t.Helper()
	code, err := e.daemon.Wait(waitFor)
	if err != nil {
		t.Fatalf("%v\n%s", err, e.log())
	}
	if code != want {
		t.Errorf("exit status %d, want %d\n%s", code, want, e.log())
	}
}

// logOrder checks that each of lines appears in the log, in that order.
func (e *env) logOrder(t *testing.T, lines ...string) {
	t.Helper()
	log, at := e.log(), 0
	for _, l := range lines {
		i := strings.Index(log[at:], l)
		if i < 0 {
			t.Errorf("log lacks %q after offset %d (want %q in order):\n%s", l, at, lines, log)
			return
		}
		at += i + len(l)
	}
}

// pauseWrites makes Redis hold every write command for ms milliseconds.
func (e *env) pauseWrites(t *testing.T, ms string) {
	t.Helper()
	if err := e.appl.Do(context.Background(), "CLIENT", "PAUSE", ms, "WRITE").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.appl.Do(context.Background(), "CLIENT", "UNPAUSE") })
}

const (
	hupIgnored     = `msg="signal ignored: pipeline not running" signal=SIGHUP`
	stopBeforeRun  = `msg="stopped before running"`
	alreadyStopped = `msg="signal ignored: already stopping" signal=SIGTERM`
)

// Issue 7, signals while waiting for Redis: SIGHUP is logged and ignored
// (the daemon goes on waiting); SIGTERM and SIGINT stop it with status 0.
func TestIntegrationSignalsWaitingForRedis(t *testing.T) {
	for _, stop := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(unix.SignalName(stop), func(t *testing.T) {
			e := newEnv(t)
			e.redis.Stop(t)
			e.daemon = harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
			e.daemon.WaitLog(t, "redis not reachable", waitFor)
			e.daemon.Signal(t, syscall.SIGHUP)
			e.daemon.WaitLog(t, hupIgnored, waitFor)
			// Still waiting, not dead: it tries again after the signal.
			tries := e.countLog("redis not reachable")
			harness.Eventually(t, waitFor, func() bool { return e.countLog("redis not reachable") > tries },
				func() string { return "no retry after SIGHUP:\n" + e.log() })
			e.daemon.Signal(t, stop)
			e.waitExit(t, 0)
			e.logOrder(t, hupIgnored, `msg=stopping signal=`+unix.SignalName(stop), stopBeforeRun)
		})
	}
}

// Issue 7, signals during start-up (Redis answers, but holds writes, so the
// daemon sits in SONiC's start-up sequence at the restore_count write):
// SIGHUP is logged and ignored and start-up goes on to ready; SIGTERM stops
// it with status 0 and leaves the ports alone.
func TestIntegrationSignalsDuringStartup(t *testing.T) {
	t.Run("SIGHUP", func(t *testing.T) {
		e := newEnv(t)
		e.configure("Ethernet0")
		e.orch.Run(t)
		// Shorter than the daemon's 2 s Redis read timeout: start-up
		// resumes when the pause ends.
		e.pauseWrites(t, "1500")
		e.daemon = harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
		e.daemon.WaitLog(t, "msg=\"redis ready\"", waitFor)
		e.daemon.Signal(t, syscall.SIGHUP)
		e.daemon.WaitLog(t, "msg=ready", waitFor)
		e.logOrder(t, `msg="redis ready"`, hupIgnored, "msg=starting", "msg=ready")
		e.waitAppl("Ethernet0")
		e.ns.AddPort(t, "Ethernet0", e.peers)
		e.waitState("Ethernet0", want("up", "up", 1500))
	})
	t.Run("SIGTERM", func(t *testing.T) {
		e := newEnv(t)
		e.configure("Ethernet0")
		e.ns.AddPort(t, "Ethernet0", e.peers) // an old interface, were start-up to go on
		e.pauseWrites(t, "60000")
		e.daemon = harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
		e.daemon.WaitLog(t, "msg=\"redis ready\"", waitFor)
		e.daemon.Signal(t, syscall.SIGTERM)
		e.waitExit(t, 0)
		e.logOrder(t, `msg="redis ready"`, "msg=stopping signal=SIGTERM", stopBeforeRun)
		if strings.Contains(e.log(), "msg=starting") {
			t.Errorf("start-up went on after SIGTERM:\n%s", e.log())
		}
		if l := e.ns.Link(t, "Ethernet0"); !l.AdminUp {
			t.Errorf("Ethernet0 brought down by a daemon stopped in start-up")
		}
	})
}

// Issue 7, signals while running: SIGHUP dumps every link afresh and the
// daemon goes on; SIGINT drains and exits 0 like SIGTERM
// (TestIntegrationSigtermDrainsAndExits).
func TestIntegrationSignalsRunning(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	dumps := e.countLog(`msg="links dumped"`)
	e.daemon.Signal(t, syscall.SIGHUP)
	harness.Eventually(t, waitFor, func() bool { return e.countLog(`msg="links dumped"`) > dumps },
		func() string { return "no dump after SIGHUP:\n" + e.log() })
	e.logOrder(t, `msg="resync requested" signal=SIGHUP`, `msg="resync requested" actor=netlinkrx reason=SIGHUP`, `msg="links dumped"`)
	e.ns.SetMTU(t, "Ethernet0", 9000)
	e.waitState("Ethernet0", want("up", "up", 9000))

	e.ns.SetMTU(t, "Ethernet0", 9100)
	e.daemon.Signal(t, syscall.SIGINT)
	e.waitExit(t, 0)
	e.logOrder(t, "msg=stopping signal=SIGINT", "msg=drained", "msg=stopped")
	if got := e.portState("Ethernet0")["mtu"]; got != "9100" {
		t.Errorf("mtu = %q after SIGINT, want 9100 (drained)", got)
	}
}

// Issue 7, signals while draining (Redis holds writes, so the drain waits
// for its timeout): SIGHUP is ignored, a second SIGTERM is ignored, and the
// daemon exits 1 naming the port whose newest state Redis did not take
// (issue 17 item 7).
func TestIntegrationSignalsWhileDraining(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	e.pauseWrites(t, "60000")
	e.ns.SetMTU(t, "Ethernet0", 9000) // a write that waits for Redis
	e.daemon.Signal(t, syscall.SIGTERM)
	e.daemon.WaitLog(t, "msg=stopping", waitFor)
	e.daemon.Signal(t, syscall.SIGHUP)
	e.daemon.WaitLog(t, hupIgnored, waitFor)
	e.daemon.Signal(t, syscall.SIGTERM)
	e.daemon.WaitLog(t, alreadyStopped, waitFor)
	e.waitExit(t, 1)
	e.logOrder(t, "msg=stopping signal=SIGTERM", hupIgnored, alreadyStopped, "port state unwritten", "Ethernet0")
	if strings.Contains(e.log(), `msg="resync requested"`) {
		t.Errorf("SIGHUP during the drain started a resync:\n%s", e.log())
	}
}
