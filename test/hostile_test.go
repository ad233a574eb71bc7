package test

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sonic-go/portsyncd/test/harness"
)

// CONFIG_DB values of any bytes pass verbatim to APPL_DB, never
// interpreted; interface names at the 15-byte limit and "Ethernet" alone are
// ports like any other.
func TestIntegrationHostileConfigValuesVerbatim(t *testing.T) {
	e := newEnv(t)
	hostile := map[string]string{
		"":          "empty field name",
		"empty":     "",
		"big":       strings.Repeat("x", 1<<20),
		"quotes":    `"'` + "`",
		"semicolon": "a;b;c",
		"newlines":  "a\nb\r\nc",
		"binary":    "\xff\xfe\x00z\x80",
		"lua":       "'); redis.call('FLUSHALL') --",
		"glob*[?]":  "%s %d {}",
	}
	var fv []string
	for k, v := range hostile {
		fv = append(fv, k, v)
	}
	e.hset(e.config, "PORT|Ethernet0", fv...)
	e.configure("Ethernet1234567", "Ethernet")
	e.orch.Run(t)
	e.start()
	if diff := cmp.Diff(hostile, e.waitAppl("Ethernet0")); diff != "" {
		t.Errorf("APPL_DB PORT_TABLE:Ethernet0 (-CONFIG_DB +APPL_DB):\n%.2000s", diff)
	}
	for _, n := range []string{"Ethernet1234567", "Ethernet"} {
		e.waitAppl(n)
		e.ns.AddPort(t, n, e.peers)
		e.waitState(n, want("up", "up", 1500))
	}
}

// The daemon needs CAP_NET_ADMIN alone: with every other capability dropped
// it still brings old interfaces down and writes port state.
func TestIntegrationRunsWithOnlyNetAdmin(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet4")
	e.ns.AddPort(t, "Ethernet0", e.peers) // old: must be brought down
	e.orch.Run(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	e.daemon = harness.StartProcess(t, e.ns, setpriv,
		"--bounding-set=-all,+net_admin", "--inh-caps=-all", "--",
		harness.BuildDaemon(t), "--db-config", e.dbConfig)
	e.daemon.WaitLog(t, "msg=ready", waitFor)

	const capNetAdmin = 1 << 12
	for _, field := range []string{"CapEff", "CapPrm", "CapBnd"} {
		if got := capField(t, e.daemon.Cmd.Process.Pid, field); got != capNetAdmin {
			t.Errorf("%s = %#x, want CAP_NET_ADMIN alone (%#x)", field, got, capNetAdmin)
		}
	}
	if l := e.ns.Link(t, "Ethernet0"); l.AdminUp {
		t.Errorf("old interface not brought down without other capabilities")
	}
	e.waitAppl("Ethernet4")
	e.ns.AddPort(t, "Ethernet4", e.peers)
	e.waitState("Ethernet4", want("up", "up", 1500))
	if !strings.Contains(e.log(), "rcvbuf=33554432") {
		t.Errorf("SO_RCVBUFFORCE did not take with CAP_NET_ADMIN:\n%s", e.log())
	}
}

func capField(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	var v uint64
	harness.Eventually(t, 5*time.Second, func() bool {
		f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			return false
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if rest, ok := strings.CutPrefix(s.Text(), field+":"); ok {
				v, err = strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
				return err == nil
			}
		}
		return false
	}, func() string { return "no " + field + " in /proc/" + strconv.Itoa(pid) + "/status" })
	return v
}

// Issue 17 item 10: CONFIG_DB is not trusted with portsyncd's own marker
// names: PORT|PortInitDone and PORT|PortConfigDone are skipped with a
// warning and never published (the first forged PortInitDone at start).
// Configured names that can never be a link portsyncd follows are warned
// about once, at start.
func TestIntegrationConfigReservedAndImpossibleNames(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0", "Ethernet0/1", "Ethernet012345678", "eth0")
	e.hset(e.config, "PORT|PortInitDone", "lanes", "0")
	e.hset(e.config, "PORT|PortConfigDone", "count", "99")
	e.orch.Run(t)
	e.start()
	if got := e.waitAppl("PortConfigDone"); got["count"] != "4" {
		t.Errorf("PortConfigDone = %v, want count 4 (the reserved names are not ports)", got)
	}
	e.waitAppl("eth0") // published after every port staged before it
	if e.exists(e.appl, "PORT_TABLE:PortInitDone") || e.exists(e.appl, "_PORT_TABLE:PortInitDone") {
		t.Errorf("PortInitDone published from CONFIG_DB although Ethernet0 has no link:\n%s", e.log())
	}
	for _, w := range []string{
		`port=PortInitDone`, `port=PortConfigDone`,
		`port=Ethernet0/1 reason="contains '/'"`,
		`port=Ethernet012345678 reason="longer than 15 bytes (17)"`,
		`port=eth0 reason="not named Ethernet* or PortChannel*, so never followed"`,
	} {
		if n := e.countLog(w); n != 1 {
			t.Errorf("%d warnings with %s, want 1:\n%s", n, w, e.log())
		}
	}
	if n := e.countLog("port=Ethernet0 "); n != 0 {
		t.Errorf("Ethernet0 warned about:\n%s", e.log())
	}
	// /readyz says which pending ports can never come.
	code, body := get(t, e.ns.HTTPClient(), "/readyz")
	if code != http.StatusServiceUnavailable || !containsAll(body, `"never_appear"`, `"Ethernet0/1": "contains '/'"`, `"eth0"`) ||
		strings.Contains(body, `"Ethernet0": "`) {
		t.Errorf("/readyz = %d %s, want 503 naming Ethernet0/1 and eth0 (not Ethernet0) as never appearing", code, body)
	}
}
