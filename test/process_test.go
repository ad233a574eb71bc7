package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

// SIGTERM stops reading, drains what is pending to Redis and exits 0.
func TestIntegrationSigtermDrainsAndExits(t *testing.T) {
	e := startWithPorts(t, "Ethernet0")
	// Admin and MTU changes reach netlink at once; SIGTERM right after.
	e.ns.SetMTU(t, "Ethernet0", 9000)
	start := time.Now()
	e.daemon.Signal(t, syscall.SIGTERM)
	code, err := e.daemon.Wait(5 * time.Second)
	if err != nil {
		t.Fatalf("daemon did not exit: %v\n%s", err, e.log())
	}
	t.Logf("exited %d after %v", code, time.Since(start))
	if code != 0 {
		t.Errorf("exit status %d, want 0\n%s", code, e.log())
	}
	if got := e.portState("Ethernet0")["mtu"]; got != "9000" {
		t.Errorf("mtu = %q after drain, want 9000\n%s", got, e.log())
	}
	if !strings.Contains(e.log(), "msg=drained") {
		t.Errorf("no drain in the log:\n%s", e.log())
	}
}

// A missing or malformed database_config.json, or a missing database, ends
// the process at once with one line naming the file, exit status 78
// (EX_CONFIG: a crash exits 2, so systemd can tell them apart).
func TestIntegrationBadDBConfigExitsConfig(t *testing.T) {
	harness.RequireRoot(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ns := harness.NewNetns(t)
	tests := []struct {
		name, path, wantErr string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
		{"malformed", write("bad.json", `{"INSTANCES": {`), "JSON"},
		{"no STATE_DB", write("nostate.json", `{"INSTANCES": {"redis": {"hostname": "127.0.0.1", "port": 6379}},
			"DATABASES": {"APPL_DB": {"id": 0, "separator": ":", "instance": "redis"},
			              "CONFIG_DB": {"id": 4, "separator": "|", "instance": "redis"}}}`), `"STATE_DB"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := harness.StartDaemon(t, ns, "--db-config", tt.path)
			code, err := d.Wait(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if code != exitConfig {
				t.Errorf("exit status %d, want %d", code, exitConfig)
			}
			out := strings.TrimSpace(d.Log())
			if strings.Count(out, "\n") != 0 || !strings.Contains(out, tt.path) || !strings.Contains(out, tt.wantErr) {
				t.Errorf("output %q: want one line naming %s and %q", out, tt.path, tt.wantErr)
			}
		})
	}
}

// Redis not reachable: the daemon retries with backoff, one log line per
// attempt, and is not ready until it connects.
func TestIntegrationWaitsForRedis(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.redis.Stop(t)
	d := harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
	e.daemon = d
	harness.Eventually(t, waitFor, func() bool { return e.countLog("redis not reachable") >= 3 },
		func() string { return "fewer than 3 retry lines:\n" + d.Log() })
	if strings.Contains(d.Log(), "msg=ready") {
		t.Fatalf("ready without Redis:\n%s", d.Log())
	}
	e.redis.Start(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	d.WaitLog(t, "msg=ready", waitFor)
	e.waitAppl("Ethernet0")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
}

// --mlock locks the daemon's memory.
func TestIntegrationMlock(t *testing.T) {
	e := newEnv(t)
	e.start("--mlock")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.daemon.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmLck:"); ok {
			if strings.TrimSpace(rest) == "0 kB" {
				t.Errorf("VmLck = 0 kB with --mlock")
			}
			return
		}
	}
	t.Errorf("no VmLck in /proc/<pid>/status")
}
