package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/sonic-go/portsyncd/test/harness"
)

// asics is one daemon serving several ASIC namespaces (issue 19): each
// namespace an env of its own (redis-server, ports' netns, peers' netns,
// orchagent), all in one database_global.json, and the daemon in a
// network namespace of its own, as on a SONiC host.
type asics struct {
	t       *testing.T
	each    []*env
	global  string
	home    *harness.Netns // where the daemon runs
	dumpDir string
	daemon  *harness.Daemon
}

// newAsics makes n namespaces, each with its CONFIG_DB ports configured
// and its orchagent running.
func newAsics(t *testing.T, ports ...[]string) *asics {
	t.Helper()
	a := &asics{t: t, dumpDir: t.TempDir()}
	includes := map[string]string{}
	for _, names := range ports {
		e := newEnv(t)
		e.configure(names...)
		e.orch.Run(t)
		a.each = append(a.each, e)
		includes[e.ns.Name] = e.dbConfig
	}
	a.global = harness.WriteDBGlobal(t, includes)
	a.home = harness.NewNetns(t)
	return a
}

// args are the daemon's arguments: every namespace, then args.
func (a *asics) args(args ...string) []string {
	out := []string{"--db-global-config", a.global, "--dump-dir", a.dumpDir, "--metrics-addr", "127.0.0.1:9123"}
	for i, e := range a.each {
		flag := "--namespace"
		if i%2 == 1 {
			flag = "-n" // SONiC's spelling works as well
		}
		out = append(out, flag, e.ns.Name)
	}
	return append(out, args...)
}

// start runs the daemon (bin, or the plain build) in its own namespace and
// waits until every namespace is ready.
func (a *asics) start(bin string, args ...string) {
	a.t.Helper()
	if bin == "" {
		bin = harness.BuildDaemon(a.t)
	}
	a.daemon = harness.StartProcess(a.t, a.home, bin, harness.WithStderrLogs(a.args(args...))...)
	for _, e := range a.each {
		e.daemon = a.daemon
		a.daemon.WaitLog(a.t, "msg=ready namespace="+e.ns.Name, waitFor)
	}
}

// readyz fetches /readyz from inside the daemon's namespace.
func (a *asics) readyz() (int, map[string]any) {
	a.t.Helper()
	resp, err := a.home.HTTPClient().Get("http://127.0.0.1:9123/readyz")
	if err != nil {
		a.t.Fatalf("GET /readyz: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// metric returns the value of one series of /metrics, "" if absent.
func (a *asics) metric(series string) string {
	a.t.Helper()
	resp, err := a.home.HTTPClient().Get("http://127.0.0.1:9123/metrics")
	if err != nil {
		a.t.Fatalf("GET /metrics: %v", err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(readAll(a.t, resp))
	if m == nil {
		return ""
	}
	return m[1]
}

// readAll reads and closes resp's body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Issue 19: one daemon, two namespaces, each with its own Redis and ports.
// Events in one reach only its databases; each gets its own PortConfigDone
// and PortInitDone, and one still waiting for a port does not hold back
// the other's PortInitDone; log lines, metrics and /readyz say which
// namespace; SIGUSR1 dumps each namespace.
func TestIntegrationNamespacesIsolated(t *testing.T) {
	a := newAsics(t, []string{"Ethernet0", "Ethernet4"}, []string{"Ethernet0", "Ethernet8"})
	x, y := a.each[0], a.each[1]
	// An old interface in x: taken down there, by a socket made in x.
	x.ns.AddPort(t, "Ethernet12", x.peers)
	a.start("")
	if x.ns.Link(t, "Ethernet12").AdminUp {
		t.Errorf("old interface Ethernet12 still up in %s", x.ns.Name)
	}
	for _, e := range a.each {
		if got := e.waitAppl("PortConfigDone"); got["count"] != "2" {
			t.Errorf("%s: PortConfigDone = %v, want count 2", e.ns.Name, got)
		}
	}
	x.ns.AddPort(t, "Ethernet0", x.peers)
	x.ns.AddPort(t, "Ethernet4", x.peers)
	y.ns.AddPort(t, "Ethernet8", y.peers) // y's Ethernet0 is not there yet
	x.waitConverged([]string{"Ethernet0", "Ethernet4"})
	y.waitConverged([]string{"Ethernet8"})
	x.waitAppl("PortInitDone")
	y.waitGone("Ethernet0")
	for k, e := range map[string]*env{"PORT_TABLE|Ethernet8": x, "PORT_TABLE|Ethernet4": y} {
		if e.exists(e.state, k) {
			t.Errorf("%s: STATE_DB %s written from the other namespace", e.ns.Name, k)
		}
	}
	// x's PortInitDone went out while y waits for its Ethernet0.
	if y.exists(y.appl, "PORT_TABLE:PortInitDone") {
		t.Fatalf("%s: PortInitDone without Ethernet0", y.ns.Name)
	}
	code, body := a.readyz()
	ns, _ := body["namespaces"].(map[string]any)
	yr, _ := ns[y.ns.Name].(map[string]any)
	if code != http.StatusServiceUnavailable || fmt.Sprint(yr["pending_ports"]) != "[Ethernet0]" {
		t.Errorf("/readyz %d %v: want 503 with %s pending Ethernet0", code, body, y.ns.Name)
	}
	if got := a.metric(`portsyncd_ports_pending{namespace="` + y.ns.Name + `"}`); got != "1" {
		t.Errorf("portsyncd_ports_pending of %s = %q, want 1", y.ns.Name, got)
	}
	if got := a.metric(`portsyncd_port_init_done_sent{namespace="` + x.ns.Name + `"}`); got != "1" {
		t.Errorf("portsyncd_port_init_done_sent of %s = %q, want 1", x.ns.Name, got)
	}

	// A change in x reaches x's STATE_DB only.
	x.ns.SetMTU(t, "Ethernet0", 9000)
	x.waitState("Ethernet0", want("up", "up", 9000))
	y.ns.AddPort(t, "Ethernet0", y.peers)
	y.waitConverged([]string{"Ethernet0", "Ethernet8"})
	y.waitAppl("PortInitDone")
	if got := y.portState("Ethernet0")["mtu"]; got != "1500" {
		t.Errorf("%s: Ethernet0 mtu %q, want 1500 (x's change must not leak)", y.ns.Name, got)
	}
	harness.Eventually(t, waitFor, func() bool { c, _ := a.readyz(); return c == http.StatusOK },
		func() string { _, b := a.readyz(); return fmt.Sprint(b) })
	if !regexp.MustCompile(`msg="port state written" namespace=` + regexp.QuoteMeta(x.ns.Name)).MatchString(a.daemon.Log()) {
		t.Errorf("no port state line with namespace=%s:\n%s", x.ns.Name, a.daemon.Log())
	}

	// A per-ASIC portsyncd (as portsyncd@.service runs one, inside the
	// namespace) is refused: the guard is held in x's namespace.
	second := harness.StartDaemon(t, x.ns, "--db-config", x.dbConfig, "--metrics-addr", "")
	if code, err := second.Wait(waitFor); err != nil || code != exitConfig || !strings.Contains(second.Log(), "another portsyncd") {
		t.Errorf("per-namespace portsyncd beside the multi-ASIC one: exit status %d (%v), want %d:\n%s", code, err, exitConfig, second.Log())
	}

	// status -n all, from outside both namespaces: one JSON object each,
	// each with its own namespace's ports and links.
	out, stderr, code := harness.Run(t, a.home, harness.BuildDaemon(t), "status", "--db-global-config", a.global, "-n", "all", "--json")
	if code != 0 {
		t.Fatalf("status -n all: exit status %d: %s", code, stderr)
	}
	views := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v struct {
			Namespace string `json:"namespace"`
			Kernel    string `json:"kernel"`
			Ports     []struct {
				Name string `json:"name"`
				MTU  string `json:"mtu"`
			} `json:"ports"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("status line %q: %v", line, err)
		}
		views[v.Namespace] = fmt.Sprint(v.Ports)
	}
	if len(views) != 2 || views[x.ns.Name] != "[{Ethernet0 9000} {Ethernet4 1500}]" || views[y.ns.Name] != "[{Ethernet0 1500} {Ethernet8 1500}]" {
		t.Errorf("status -n all --json:\n%s", out)
	}

	// SIGUSR1: one dump per namespace.
	a.daemon.Signal(t, syscall.SIGUSR1)
	for _, e := range a.each {
		a.daemon.WaitLog(t, `msg="state dumped" namespace=`+e.ns.Name, waitFor)
	}
	dumps, _ := filepath.Glob(filepath.Join(a.dumpDir, "portsyncd-state-*.json"))
	seen := map[string]bool{}
	for _, p := range dumps {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Namespace string         `json:"namespace"`
			Actors    map[string]any `json:"actors"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Actors) == 3 {
			seen[doc.Namespace] = true
		}
	}
	if !seen[x.ns.Name] || !seen[y.ns.Name] || len(seen) != 2 {
		t.Errorf("state dumps of %v, want one of each namespace with its three actors", seen)
	}
}

// Issue 19: a namespace whose Redis is frozen (SIGSTOP) does not hold the
// other back: it keeps converging, and the frozen one catches up once its
// Redis is back.
func TestIntegrationNamespacesFrozenRedis(t *testing.T) {
	names := portNames(4)
	a := newAsics(t, names, names)
	a.start("")
	x, y := a.each[0], a.each[1]
	for _, e := range a.each {
		for _, n := range names {
			e.ns.AddPort(t, n, e.peers)
		}
		e.waitConverged(names)
	}
	thaw := x.redis.Freeze(t)
	for i, n := range names {
		x.ns.SetMTU(t, n, 4000+i)
		y.ns.SetMTU(t, n, 5000+i)
		y.ns.SetPeerUp(t, n, i%2 == 0)
	}
	y.waitConverged(names)
	thaw()
	x.waitConverged(names)
	if a.daemon.Exited() {
		t.Fatalf("daemon exited:\n%s", a.daemon.Log())
	}
}

// Issue 19: an actor panicking in one namespace is restarted by that
// namespace's supervisor; a crash loop there gives that namespace up
// (reported down in the log, /healthz, /readyz and the metrics) while the
// other keeps serving. With --fail-fast the crash loop ends the process.
func TestIntegrationNamespacesFaultIsolated(t *testing.T) {
	names := portNames(2)
	faulty := func(t *testing.T, a *asics, args ...string) (inject func(...string)) {
		file := filepath.Join(t.TempDir(), "faults")
		t.Setenv("PORTSYNCD_FAULT_FILE", file)
		a.start(harness.BuildDaemonTags(t, "faultinject"), args...)
		return func(targets ...string) {
			if err := os.WriteFile(file, []byte(strings.Join(targets, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			a.daemon.Signal(t, syscall.SIGUSR2)
		}
	}
	t.Run("down", func(t *testing.T) {
		a := newAsics(t, names, names)
		inject := faulty(t, a, "--max-restarts", "1")
		x, y := a.each[0], a.each[1]
		for _, e := range a.each {
			for _, n := range names {
				e.ns.AddPort(t, n, e.peers)
			}
			e.waitConverged(names)
		}
		// One panic: restarted within x, which converges again.
		inject(x.ns.Name + "/dbwriter")
		a.daemon.WaitLog(t, `msg="actor restarting"`, waitFor)
		x.ns.SetMTU(t, names[0], 9000)
		x.waitConverged(names)
		// A crash loop: x is given up, y serves on.
		inject(x.ns.Name + "/portstate")
		a.daemon.WaitLog(t, `msg="namespace down`, waitFor)
		if !strings.Contains(a.daemon.Log(), "namespace="+x.ns.Name) {
			t.Errorf("namespace down line does not name %s", x.ns.Name)
		}
		y.ns.SetMTU(t, names[1], 9100)
		y.ns.SetUp(t, names[0], false)
		y.waitConverged(names)
		if a.daemon.Exited() {
			t.Fatalf("daemon exited:\n%s", a.daemon.Log())
		}
		if got := a.metric(`portsyncd_namespace_up{namespace="` + x.ns.Name + `"}`); got != "0" {
			t.Errorf("portsyncd_namespace_up of %s = %q, want 0", x.ns.Name, got)
		}
		if got := a.metric(`portsyncd_namespace_up{namespace="` + y.ns.Name + `"}`); got != "1" {
			t.Errorf("portsyncd_namespace_up of %s = %q, want 1", y.ns.Name, got)
		}
		resp, err := a.home.HTTPClient().Get("http://127.0.0.1:9123/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, x.ns.Name+" down") {
			t.Errorf("/healthz %d %s: want 503 naming %s down", resp.StatusCode, body, x.ns.Name)
		}
		_, rd := a.readyz()
		ns, _ := rd["namespaces"].(map[string]any)
		xr, _ := ns[x.ns.Name].(map[string]any)
		yr, _ := ns[y.ns.Name].(map[string]any)
		if xr["down"] == nil || yr["port_init_done"] != true {
			t.Errorf("/readyz %v: want %s down, %s with PortInitDone", rd, x.ns.Name, y.ns.Name)
		}
	})
	t.Run("fail-fast", func(t *testing.T) {
		a := newAsics(t, names, names)
		inject := faulty(t, a, "--max-restarts", "0", "--fail-fast")
		inject(a.each[1].ns.Name + "/dbwriter")
		code, err := a.daemon.Wait(waitFor)
		if err != nil || code != 1 {
			t.Fatalf("exit status %d (%v), want 1:\n%s", code, err, a.daemon.Log())
		}
	})
}

// Issue 19: a namespace the global file does not define, or one without
// its network namespace, stops the daemon at start with one line naming
// it and EX_CONFIG, before anything is written in any namespace.
func TestIntegrationNamespaceUnknown(t *testing.T) {
	a := newAsics(t, []string{"Ethernet0"})
	e := a.each[0]
	e.ns.AddPort(t, "Ethernet0", e.peers)
	global := harness.WriteDBGlobal(t, map[string]string{e.ns.Name: e.dbConfig, "psd-gone": e.dbConfig})
	bin := harness.BuildDaemon(t)
	for _, tt := range []struct{ ns, want string }{
		{"asic9", `namespace "asic9" not defined`},
		{"psd-gone", `namespace "psd-gone": no network namespace`},
	} {
		_, stderr, code := harness.Run(t, a.home, bin, "--db-global-config", global, "-n", e.ns.Name, "--namespace", tt.ns, "--log-output", "stderr")
		if code != exitConfig || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, tt.want) {
			t.Errorf("--namespace %s: exit status %d, stderr %q; want %d and one line with %q", tt.ns, code, stderr, exitConfig, tt.want)
		}
	}
	ctx := context.Background()
	if n, err := e.state.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("STATE_DB of %s has %d keys (%v): a refused start wrote", e.ns.Name, n, err)
	}
	if !e.ns.Link(t, "Ethernet0").AdminUp {
		t.Errorf("Ethernet0 taken down by a refused start")
	}
}
