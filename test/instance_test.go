package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Issue 7, single instance: a second portsyncd on the same network
// namespace and databases exits 2 with one line naming the lock file and the
// first one's pid, before any side effect: the running ports stay up,
// STATE_DB keeps its values (restore_count included, which a start-up would
// write). A daemon in another namespace on the same databases may run.
func TestIntegrationSecondInstanceRefused(t *testing.T) {
	lockDir := filepath.Join(t.TempDir(), "locks") // created by the daemon
	e := newEnv(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	e.start("--lock-dir", lockDir)
	e.waitAppl("Ethernet0")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
	e.hset(e.state, "WARM_RESTART_TABLE|portsyncd", "restore_count", "7")
	before := e.portState("Ethernet0")

	second := harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig, "--lock-dir", lockDir)
	code, err := second.Wait(waitFor)
	if err != nil {
		t.Fatal(err)
	}
	if code != exitConfig {
		t.Errorf("second daemon: exit status %d, want 78\n%s", code, second.Log())
	}
	locks, _ := filepath.Glob(filepath.Join(lockDir, "*.lock"))
	out := strings.TrimSpace(second.Log())
	pid := fmt.Sprintf("pid %d", e.daemon.Cmd.Process.Pid)
	if len(locks) != 1 || strings.Count(out, "\n") != 0 || !strings.Contains(out, locks[0]) || !strings.Contains(out, pid) {
		t.Errorf("second daemon said %q; want one line naming the lock file %v and %s", out, locks, pid)
	}
	if l := e.ns.Link(t, "Ethernet0"); !l.AdminUp {
		t.Errorf("Ethernet0 taken down by the refused daemon")
	}
	if diff := cmp.Diff(before, e.portState("Ethernet0")); diff != "" {
		t.Errorf("STATE_DB PORT_TABLE|Ethernet0 changed (-before +after):\n%s", diff)
	}
	if got := e.hgetall(e.state, "WARM_RESTART_TABLE|portsyncd")["restore_count"]; got != "7" {
		t.Errorf("restore_count = %q, want 7 untouched", got)
	}
	if e.daemon.Exited() {
		t.Fatalf("first daemon exited:\n%s", e.log())
	}

	// Another namespace, same databases: its own lock.
	other := harness.StartDaemon(t, harness.NewNetns(t), "--db-config", e.dbConfig, "--lock-dir", lockDir)
	other.WaitLog(t, "msg=ready", waitFor)
	if locks, _ := filepath.Glob(filepath.Join(lockDir, "*.lock")); len(locks) != 2 {
		t.Errorf("lock files %v, want one per namespace", locks)
	}

	// The lock goes with the first daemon: a new one may start.
	e.daemon.Signal(t, os.Interrupt)
	if code, err := e.daemon.Wait(waitFor); err != nil || code != 0 {
		t.Fatalf("first daemon: exit %d, %v", code, err)
	}
	third := harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig, "--lock-dir", lockDir)
	third.WaitLog(t, "msg=ready", waitFor)
}
