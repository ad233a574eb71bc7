package test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Issues 7 and 17 (items 1, 2), single instance: a second portsyncd on the
// same network namespace and databases exits 78 with one line naming the
// first one's pid, before any side effect: the running ports stay up,
// STATE_DB keeps its values (restore_count included, which a start-up would
// write). It does so whatever the way it reaches Redis (another path to the
// same socket, TCP) and whatever --lock-dir says (deprecated, ignored: no
// file is made). A daemon in another namespace on the same databases runs;
// the guard goes with its holder's death, even by SIGKILL.
func TestIntegrationSecondInstanceRefused(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	e.start()
	e.waitAppl("Ethernet0")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
	e.hset(e.state, "WARM_RESTART_TABLE|portsyncd", "restore_count", "7")
	before := e.portState("Ethernet0")

	// Other ways to the same server: a hard link to its socket, and TCP
	// (a relay listening in the ports' namespace).
	dir := t.TempDir()
	link := filepath.Join(dir, "alias.sock")
	if err := os.Link(e.redis.Socket, link); err != nil {
		t.Fatal(err)
	}
	tcp := relayTCP(t, e.ns, e.redis.Socket)
	lockDir := t.TempDir()
	for name, cfg := range map[string]string{
		"socket by another path": writeDBConfig(t, map[string]any{"hostname": "127.0.0.1", "port": 6379, "unix_socket_path": link}),
		"tcp":                    writeDBConfig(t, map[string]any{"hostname": "127.0.0.1", "port": tcp}),
	} {
		second := harness.StartDaemon(t, e.ns, "--db-config", cfg, "--lock-dir", lockDir)
		code, err := second.Wait(waitFor)
		if err != nil {
			t.Fatal(err)
		}
		pid := fmt.Sprintf("pid %d", e.daemon.Cmd.Process.Pid)
		var named []string
		for _, l := range strings.Split(second.Log(), "\n") {
			if strings.Contains(l, "another portsyncd") {
				named = append(named, l)
			}
		}
		if code != exitConfig || len(named) != 1 || !strings.Contains(named[0], pid) {
			t.Errorf("%s: exit status %d, want %d and one line naming %s:\n%s", name, code, exitConfig, pid, second.Log())
		}
	}
	if files, _ := os.ReadDir(lockDir); len(files) != 0 {
		t.Errorf("--lock-dir holds %v: no file may be made", files)
	}
	if l := e.ns.Link(t, "Ethernet0"); !l.AdminUp {
		t.Errorf("Ethernet0 taken down by a refused daemon")
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

	// Another namespace, same databases: a guard of its own.
	other := harness.StartDaemon(t, harness.NewNetns(t), "--db-config", e.dbConfig)
	other.WaitLog(t, "msg=ready", waitFor)

	// The guard dies with its holder, whatever the death: a new one starts.
	e.daemon.Signal(t, syscall.SIGKILL)
	if _, err := e.daemon.Wait(waitFor); err != nil {
		t.Fatal(err)
	}
	third := harness.StartDaemon(t, e.ns, "--db-config", e.dbConfig)
	third.WaitLog(t, "msg=ready", waitFor)
}

// writeDBConfig writes a database_config.json with one instance and
// SONiC's three databases on it, and returns its path.
func writeDBConfig(t *testing.T, instance map[string]any) string {
	t.Helper()
	return writeDBConfigIDs(t, instance, map[string]int{"APPL_DB": 0, "CONFIG_DB": 4, "STATE_DB": 6})
}

// writeDBConfigIDs is writeDBConfig with the databases' numbers.
func writeDBConfigIDs(t *testing.T, instance map[string]any, ids map[string]int) string {
	t.Helper()
	sep := map[string]string{"APPL_DB": ":", "CONFIG_DB": "|", "STATE_DB": "|"}
	dbs := map[string]any{}
	for name, id := range ids {
		dbs[name] = map[string]any{"id": id, "separator": sep[name], "instance": "redis"}
	}
	b, err := json.Marshal(map[string]any{
		"INSTANCES": map[string]any{"redis": instance},
		"DATABASES": dbs,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "database_config.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// relayTCP listens on a free TCP port of 127.0.0.1 in ns and relays every
// connection to the unix socket; it returns the port. Redis listens on its
// unix socket only, in the test's own namespace.
func relayTCP(t *testing.T, ns *harness.Netns, socket string) int {
	t.Helper()
	l, err := ns.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer r.Close()
				go func() { io.Copy(r, c); r.Close() }()
				io.Copy(c, r)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}
