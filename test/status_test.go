package test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/status"
	"github.com/sonic-go/portsyncd/test/harness"
)

// statusEnv is a running daemon with two consumed ports up, and
// PortInitDone published.
func statusEnv(t *testing.T) *env {
	t.Helper()
	e := startWithPorts(t, "Ethernet0", "Ethernet4")
	e.waitAppl("PortInitDone")
	return e
}

// status runs "portsyncd status args..." in the ports' namespace and
// decodes its JSON output.
func (e *env) status(args ...string) (status.Report, int) {
	e.t.Helper()
	stdout, stderr, code := harness.Run(e.t, e.ns, harness.BuildDaemon(e.t),
		append([]string{"status", "--json", "--db-config", e.dbConfig}, args...)...)
	var r status.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		e.t.Fatalf("status --json (exit %d): %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	return r, code
}

// statusPort is the row portsyncd status shows for a port that configure
// set up with lanes, up with MTU 1500 in the kernel and in STATE_DB.
func statusPort(name, lanes string, diff ...string) status.Port {
	return status.Port{
		Name: name, Lanes: lanes, Speed: "100000", MTU: "1500", Admin: "up", Oper: "up",
		ApplDB: "consumed", State: "ok",
		Kernel: &status.KernelLink{Admin: "up", Oper: "up", MTU: "1500"},
		Diff:   append([]string{}, diff...),
	}
}

// In the ports' namespace, against a running daemon, status shows each
// port as the databases and the kernel have it; a STATE_DB entry changed by
// hand is flagged and exits 1.
func TestIntegrationStatusAgreesThenFlagsDiff(t *testing.T) {
	e := statusEnv(t)

	got, code := e.status()
	want := status.Report{
		Schema: 1, PortConfigDone: "consumed", PortInitDone: "consumed", Kernel: "compared",
		Ports: []status.Port{statusPort("Ethernet0", "0,1,2,3"), statusPort("Ethernet4", "4,5,6,7")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status with the daemon in step (-want +got):\n%s", diff)
	}
	if code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}

	// As if an update had been lost: STATE_DB no longer matches the link.
	e.hset(e.state, "PORT_TABLE|Ethernet0", "mtu", "9000", "netdev_oper_status", "down")
	// And an entry for a link that does not exist.
	e.hset(e.state, "PORT_TABLE|Ethernet8", "state", "ok", "admin_status", "up", "netdev_oper_status", "up", "mtu", "1500")
	got, code = e.status()
	e0 := statusPort("Ethernet0", "0,1,2,3", "oper", "mtu")
	e0.MTU, e0.Oper = "9000", "down"
	want.Ports = []status.Port{e0, statusPort("Ethernet4", "4,5,6,7"), {
		Name: "Ethernet8", MTU: "1500", Admin: "up", Oper: "up", ApplDB: "absent", State: "ok", Diff: []string{"stale"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status after STATE_DB was changed by hand (-want +got):\n%s", diff)
	}
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}

	// The table says the same to a person.
	stdout, stderr, code := harness.Run(t, e.ns, harness.BuildDaemon(t), "status", "--db-config", e.dbConfig)
	if code != 1 {
		t.Errorf("table: exit status %d, want 1; stderr:\n%s", code, stderr)
	}
	for _, line := range []string{
		"PortConfigDone: consumed  PortInitDone: consumed  kernel: compared",
		"Ethernet0  0,1,2,3  100000  9000  up     down  consumed  ok     oper,mtu",
		"Ethernet4  4,5,6,7  100000  1500  up     up    consumed  ok     -",
		"Ethernet8  -        -       1500  up     up    absent    ok     stale",
	} {
		if !strings.Contains(stdout, line+"\n") {
			t.Errorf("table lacks line %q:\n%s", line, stdout)
		}
	}
}

func TestIntegrationStatusBadConfig(t *testing.T) {
	_, stderr, code := harness.Run(t, nil, harness.BuildDaemon(t), "status", "--db-config", t.TempDir()+"/missing.json")
	if code != exitConfig {
		t.Errorf("exit status %d, want %d", code, exitConfig)
	}
	if !strings.Contains(stderr, "missing.json") {
		t.Errorf("stderr does not name the file: %q", stderr)
	}
}

// --watch --json prints a line when the view changes and none while it
// does not, and exits 0 on SIGINT.
func TestIntegrationStatusWatch(t *testing.T) {
	e := statusEnv(t)
	cmd := harness.Command(t, e.ns, harness.BuildDaemon(t),
		"status", "--json", "--watch", "--interval", "20ms", "--db-config", e.dbConfig)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-waited
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		waited <- cmd.Wait()
	}()
	next := func(what string) status.Report {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s: status exited; stderr:\n%s", what, stderr.String())
			}
			var r status.Report
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("%s: %v in %q", what, err, l)
			}
			return r
		case <-time.After(waitFor):
			t.Fatalf("%s: no line from status --watch; stderr:\n%s", what, stderr.String())
			return status.Report{}
		}
	}
	diffs := func(r status.Report) map[string][]string {
		m := map[string][]string{}
		for _, p := range r.Ports {
			m[p.Name] = p.Diff
		}
		return m
	}

	// Each poll reads APPL_DB PORT_TABLE_KEY_SET once, and nothing else
	// here uses SMEMBERS: Redis counts the polls.
	polls := func() int {
		info, err := e.appl.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatalf("INFO commandstats: %v", err)
		}
		_, rest, _ := strings.Cut(info, "cmdstat_smembers:calls=")
		n, _ := strconv.Atoi(strings.TrimRightFunc(rest[:strings.IndexByte(rest+",", ',')], unicode.IsSpace))
		return n
	}

	first := next("first view")
	if diff := cmp.Diff(map[string][]string{"Ethernet0": {}, "Ethernet4": {}}, diffs(first)); diff != "" {
		t.Errorf("first view diffs (-want +got):\n%s", diff)
	}
	// Polls that find nothing new draw nothing: the next line is the change.
	seen := polls()
	harness.Eventually(t, waitFor, func() bool { return polls() >= seen+3 }, func() string { return "status stopped polling" })
	e.hset(e.state, "PORT_TABLE|Ethernet4", "admin_status", "down")
	second := next("after STATE_DB changed")
	if diff := cmp.Diff(map[string][]string{"Ethernet0": {}, "Ethernet4": {"admin"}}, diffs(second)); diff != "" {
		t.Errorf("second view diffs (-want +got):\n%s", diff)
	}
	// The daemon puts it right once the link changes; the view follows.
	e.ns.SetMTU(t, "Ethernet4", 9000)
	var third status.Report
	for third = next("after the link changed"); third.Ports[1].MTU != "9000"; third = next("after the link changed") {
	}
	if diff := cmp.Diff(map[string][]string{"Ethernet0": {}, "Ethernet4": {}}, diffs(third)); diff != "" {
		t.Errorf("view after the daemon caught up (-want +got):\n%s", diff)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case l, ok := <-lines:
			if ok {
				t.Errorf("line after SIGINT: %s", l)
				continue
			}
		case <-time.After(waitFor):
			t.Fatalf("status --watch did not exit after SIGINT")
		}
		break
	}
	err = <-waited
	waited <- err // for the cleanup
	if err != nil {
		t.Errorf("status --watch after SIGINT: %v; stderr:\n%s", err, stderr.String())
	}
}

// Issue 17 item 11: a 20 MB CONFIG_DB field is cut in the table, not
// printed as %!(BADWIDTH) on every row; with Redis down status says so in
// one line of its own, without go-redis's pool.go lines; bad arguments are
// named one at a time.
func TestIntegrationStatusHostileFieldsAndRedisDown(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	e.hset(e.config, "PORT|Ethernet0", "lanes", strings.Repeat("9", 20<<20), "speed", "1\n2")
	bin := harness.BuildDaemon(t)
	stdout, stderr, code := harness.Run(t, e.ns, bin, "status", "--db-config", e.dbConfig)
	if code != 0 || strings.Contains(stdout, "%!") || len(stdout) > 1000 {
		t.Fatalf("exit %d, stderr %q; table of %d bytes:\n%.2000s", code, stderr, len(stdout), stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "Ethernet0  9999") || !strings.Contains(lines[2], "…") || !strings.Contains(lines[2], "1?2") {
		t.Errorf("want a header, two headings and a row per port, Ethernet0's lanes cut with …, the newline shown as ?:\n%s", stdout)
	}

	_, stderr, _ = harness.Run(t, e.ns, bin, "status", "--db-config", e.dbConfig, "extra")
	if want := `portsyncd status: unexpected argument "extra": status takes flags only (see portsyncd status -h)` + "\n"; stderr != want {
		t.Errorf("status extra: stderr %q, want %q", stderr, want)
	}
	_, stderr, _ = harness.Run(t, e.ns, bin, "status", "--db-config", e.dbConfig, "--watch", "--interval", "0s")
	if want := "portsyncd status: --interval 0s: want a duration above 0, e.g. 1s\n"; stderr != want {
		t.Errorf("--interval 0s: stderr %q, want %q", stderr, want)
	}

	e.redis.Stop(t)
	_, stderr, code = harness.Run(t, e.ns, bin, "status", "--db-config", e.dbConfig)
	if code != 3 || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "pool.go") || !strings.Contains(stderr, e.redis.Socket) {
		t.Errorf("Redis down: exit %d, stderr %q; want 3 and one line naming the socket", code, stderr)
	}
}
