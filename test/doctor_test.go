package test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/doctor"
	"github.com/sonic-go/portsyncd/test/harness"
)

// doctor runs "portsyncd doctor --json args..." in the ports' namespace
// (through wrap, e.g. setpriv, when given) and decodes its report.
func (e *env) doctor(wrap []string, args ...string) (doctor.Report, int) {
	e.t.Helper()
	bin := harness.BuildDaemon(e.t)
	argv := append([]string{"doctor", "--json"}, args...)
	if len(wrap) > 0 {
		argv = append(append(wrap[1:], bin), argv...)
		bin = wrap[0]
	}
	stdout, stderr, code := harness.Run(e.t, e.ns, bin, argv...)
	var r doctor.Report
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		e.t.Fatalf("doctor --json (exit %d): %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if stderr != "" {
		e.t.Errorf("doctor wrote to stderr: %s", stderr)
	}
	return r, code
}

// rows picks the rows named in want out of r, as verdict and found value.
func rows(t *testing.T, r doctor.Report, names ...string) map[string][2]string {
	t.Helper()
	got := make(map[string][2]string)
	for _, c := range r.Checks {
		for _, n := range names {
			if c.Name == n {
				got[n] = [2]string{string(c.Verdict), c.Found}
			}
		}
	}
	return got
}

// pingFound makes PING rows comparable: the round trip varies.
func pingFound(got map[string][2]string) {
	for name, v := range got {
		if strings.HasPrefix(name, "redis ") && strings.HasPrefix(v[1], "PONG in ") {
			_, addr, _ := strings.Cut(v[1], " us (")
			got[name] = [2]string{v[0], "PONG (" + addr}
		}
	}
}

// A good set-up: every check passes (the host's own rows at worst warn),
// and with a daemon running, the guard names it and /readyz is 200.
func TestIntegrationDoctorGoodSetUp(t *testing.T) {
	e := newEnv(t)
	e.notify("AKE")
	e.configure("Ethernet0", "Ethernet4")
	names := []string{"database_config.json", "redis APPL_DB", "redis CONFIG_DB", "redis STATE_DB",
		"CONFIG_DB PORT entries", "keyspace events (APPL_DB)", "single-instance guard", "portsyncd /readyz",
		"network namespace " + e.ns.Name}
	sock := "unix " + e.redis.Socket + ")"

	r, code := e.doctor(nil, "--db-config", e.dbConfig, "--namespace", e.ns.Name)
	got := rows(t, r, names...)
	pingFound(got)
	want := map[string][2]string{
		"database_config.json":           {"OK", e.dbConfig + ": 3 databases"},
		"redis APPL_DB":                  {"OK", "PONG (" + sock},
		"redis CONFIG_DB":                {"OK", "PONG (" + sock},
		"redis STATE_DB":                 {"OK", "PONG (" + sock},
		"CONFIG_DB PORT entries":         {"OK", "2"},
		"keyspace events (APPL_DB)":      {"OK", `"AKE"`},
		"single-instance guard":          {"OK", "free"},
		"portsyncd /readyz":              {"OK", "no answer on 127.0.0.1:9123 (no portsyncd runs)"},
		"network namespace " + e.ns.Name: {"OK", "/run/netns/" + e.ns.Name},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("before the daemon starts (-want +got):\n%s", diff)
	}
	if code != 0 || r.Failed() {
		t.Errorf("exit %d, failed %v; want 0:\n%s", code, r.Failed(), doctor.Table(r))
	}

	e.orch.Run(t)
	e.start()
	for _, n := range []string{"Ethernet0", "Ethernet4"} {
		e.waitAppl(n)
		e.ns.AddPort(t, n, e.peers)
	}
	e.waitAppl("PortInitDone")
	harness.Eventually(t, waitFor, func() bool {
		r, code = e.doctor(nil, "--db-config", e.dbConfig)
		return rows(t, r, "portsyncd /readyz")["portsyncd /readyz"][1] == "200 ready"
	}, func() string { return "/readyz never ready:\n" + doctor.Table(r) })
	got = rows(t, r, "single-instance guard", "portsyncd /readyz")
	want = map[string][2]string{
		"single-instance guard": {"OK", fmt.Sprintf("held by pid %d (portsyncd)", e.daemon.Cmd.Process.Pid)},
		"portsyncd /readyz":     {"OK", "200 ready"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with the daemon running (-want +got):\n%s", diff)
	}
	if code != 0 {
		t.Errorf("exit %d with the daemon running, want 0:\n%s", code, doctor.Table(r))
	}
	if code, _ := get(t, e.ns.HTTPClient(), "/debug/pprof/cmdline"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/ without --pprof: %d, want 404", code)
	}
}

// --pprof serves net/http/pprof on the metrics listener of the running
// daemon (what scripts/profile.sh fetches).
func TestIntegrationPprof(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	e.start("--pprof")
	c := e.ns.HTTPClient()
	if code, body := get(t, c, "/debug/pprof/cmdline"); code != http.StatusOK || !strings.Contains(body, "--pprof") {
		t.Errorf("/debug/pprof/cmdline: %d %q, want 200 with the daemon's command line", code, body)
	}
	code, body := get(t, c, "/debug/pprof/profile?seconds=1")
	if code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("/debug/pprof/profile: %d, %d bytes; want 200 and a gzipped profile", code, len(body))
	}
}

// Broken set-ups: each shows in its row, and a FAIL makes the exit status 1.
func TestIntegrationDoctorBrokenSetUps(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	malformed := filepath.Join(t.TempDir(), "database_config.json")
	if err := os.WriteFile(malformed, []byte(`{"INSTANCES": {`), 0o644); err != nil {
		t.Fatal(err)
	}
	noPorts := newEnv(t)
	noPorts.notify("AKE")

	tests := []struct {
		name     string
		env      *env
		args     []string
		stop     bool     // Redis stopped first
		wrap     []string // runs doctor through this command
		want     map[string][2]string
		wantCode int
	}{
		{name: "keyspace events off", env: e, args: []string{"--db-config", e.dbConfig},
			want: map[string][2]string{"keyspace events (APPL_DB)": {"WARN", `"" (off)`}, "CONFIG_DB PORT entries": {"OK", "1"}}},
		{name: "no ports configured", env: noPorts, args: []string{"--db-config", noPorts.dbConfig},
			want: map[string][2]string{"CONFIG_DB PORT entries": {"WARN", "none"}, "keyspace events (APPL_DB)": {"OK", `"AKE"`}}},
		{name: "missing namespace", env: e, args: []string{"--db-config", e.dbConfig, "--namespace", e.ns.Name, "--namespace", "psd-no-such-ns"},
			want: map[string][2]string{
				"network namespace " + e.ns.Name:   {"OK", "/run/netns/" + e.ns.Name},
				"network namespace psd-no-such-ns": {"FAIL", "no /run/netns/psd-no-such-ns"},
			}, wantCode: 1},
		{name: "malformed config", env: e, args: []string{"--db-config", malformed},
			want: map[string][2]string{"database_config.json": {"FAIL", "dbconfig: " + malformed + ": invalid JSON at offset 15: unexpected end of JSON input"}}, wantCode: 1},
		{name: "--mlock as root", env: e, args: []string{"--db-config", e.dbConfig, "--mlock"},
			want: map[string][2]string{"memlock limit (--mlock)": {"OK", "CAP_IPC_LOCK (the limit does not apply)"}}},
		{name: "--mlock with a 64 KiB limit, no CAP_IPC_LOCK", env: e, args: []string{"--db-config", e.dbConfig, "--mlock"},
			wrap: []string{"prlimit", "--memlock=65536:65536", "setpriv", "--bounding-set", "-ipc_lock", "--inh-caps", "-ipc_lock"},
			want: map[string][2]string{"memlock limit (--mlock)": {"FAIL", "64 KiB, no CAP_IPC_LOCK"}}, wantCode: 1},
		{name: "unreachable redis", env: e, stop: true, args: []string{"--db-config", e.dbConfig},
			want: map[string][2]string{
				"redis APPL_DB":         {"FAIL", "unix " + e.redis.Socket + ": dial unix " + e.redis.Socket + ": connect: no such file or directory"},
				"single-instance guard": {"WARN", "not checked: APPL_DB, CONFIG_DB or STATE_DB unreachable"},
			}, wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.stop {
				tt.env.redis.Stop(t)
			}
			if len(tt.wrap) > 0 {
				for _, tool := range []string{tt.wrap[0], "setpriv"} {
					if _, err := exec.LookPath(tool); err != nil {
						t.Skipf("%s (util-linux) not installed", tool)
					}
				}
			}
			r, code := tt.env.doctor(tt.wrap, tt.args...)
			names := make([]string, 0, len(tt.want))
			for n := range tt.want {
				names = append(names, n)
			}
			if diff := cmp.Diff(tt.want, rows(t, r, names...)); diff != "" {
				t.Errorf("rows (-want +got):\n%s\n%s", diff, doctor.Table(r))
			}
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d:\n%s", code, tt.wantCode, doctor.Table(r))
			}
		})
	}
}

// A tiny net.core.rmem_max: root gets its 16 MiB with SO_RCVBUFFORCE, so
// it only warns; without CAP_NET_ADMIN (setpriv drops it) the daemon would
// get 4 KiB, which fails. The sysctl is the host's (not per network
// namespace): it is restored on cleanup.
func TestIntegrationDoctorTinyRmemMax(t *testing.T) {
	e := newEnv(t)
	e.notify("AKE")
	e.configure("Ethernet0")
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed")
	}
	const path = "/proc/sys/net/core/rmem_max"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("cannot read %s: %v", path, err)
	}
	if err := os.WriteFile(path, []byte("4096\n"), 0o644); err != nil {
		t.Skipf("cannot write %s (a container?): %v", path, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(path, old, 0o644); err != nil {
			t.Errorf("restoring %s to %s: %v", path, strings.TrimSpace(string(old)), err)
		}
	})
	names := []string{"net.core.rmem_max", "SO_RCVBUFFORCE (CAP_NET_ADMIN)"}

	r, code := e.doctor(nil, "--db-config", e.dbConfig)
	want := map[string][2]string{"net.core.rmem_max": {"WARN", "4096"}, "SO_RCVBUFFORCE (CAP_NET_ADMIN)": {"OK", "permitted"}}
	if diff := cmp.Diff(want, rows(t, r, names...)); diff != "" || code != 0 {
		t.Errorf("as root: exit %d (want 0), rows (-want +got):\n%s", code, diff)
	}

	drop := []string{setpriv, "--bounding-set", "-net_admin", "--inh-caps", "-net_admin"}
	r, code = e.doctor(drop, "--db-config", e.dbConfig)
	want = map[string][2]string{"net.core.rmem_max": {"FAIL", "4096"}, "SO_RCVBUFFORCE (CAP_NET_ADMIN)": {"WARN", "not permitted: no CAP_NET_ADMIN in the effective set"}}
	if diff := cmp.Diff(want, rows(t, r, names...)); diff != "" || code != 1 {
		t.Errorf("without CAP_NET_ADMIN: exit %d (want 1), rows (-want +got):\n%s", code, diff)
	}
	// --netlink-rcvbuf 0 asks for the kernel's default: nothing to check.
	r, _ = e.doctor(drop, "--db-config", e.dbConfig, "--netlink-rcvbuf", "0")
	if got := rows(t, r, "net.core.rmem_max")["net.core.rmem_max"]; got[0] != "OK" {
		t.Errorf("--netlink-rcvbuf 0: rmem_max row %v, want OK", got)
	}
}
