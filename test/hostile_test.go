package test

import (
	"bufio"
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
