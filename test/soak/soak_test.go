// Package soak runs portsyncd under random link churn, Redis restarts and
// injected actor panics for a set time, then checks that STATE_DB converged
// to the kernel's state. It is not part of CI:
//
//	go test ./test/soak -run Soak -v -timeout 0 -soak.duration=10m
package soak

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

var (
	duration = flag.Duration("soak.duration", 0, "how long to soak; 0 skips the test")
	numPorts = flag.Int("soak.ports", 32, "number of veth ports")
	seed     = flag.Uint64("soak.seed", 1, "random seed")
)

func TestMain(m *testing.M) { harness.Main(m) }

func TestSoak(t *testing.T) {
	if *duration == 0 {
		t.Skip("soak runs only with -soak.duration")
	}
	harness.RequireRoot(t)
	rng := rand.New(rand.NewPCG(*seed, 0x50a4))
	r := harness.StartRedis(t)
	dbConfig := r.WriteDBConfig(t)
	ns, peers := harness.NewNetns(t), harness.NewNetns(t)
	appl, config, state := r.Client(t, 0), r.Client(t, 4), r.Client(t, 6)
	names := make([]string, *numPorts)
	ctx := context.Background()
	for i := range names {
		names[i] = fmt.Sprintf("Ethernet%d", 4*i)
		config.HSet(ctx, "PORT|"+names[i], "lanes", fmt.Sprint(i), "mtu", "9100", "admin_status", "up")
	}
	harness.NewOrchagent(t, appl).Run(t)

	faults := filepath.Join(t.TempDir(), "faults")
	t.Setenv("PORTSYNCD_FAULT_FILE", faults)
	dumpDir := t.TempDir()
	d := harness.StartProcess(t, ns, harness.BuildDaemonTags(t, "faultinject"),
		harness.WithStderrLogs([]string{"--db-config", dbConfig, "--max-restarts", "1000000", "--netlink-rcvbuf", "32768", "--dump-dir", dumpDir})...)
	d.WaitLog(t, "msg=ready", 10*time.Second)
	for _, n := range names {
		harness.Eventually(t, 10*time.Second, func() bool { return appl.Exists(ctx, "PORT_TABLE:"+n).Val() == 1 },
			func() string { return n + " never consumed" })
		ns.AddPort(t, n, peers)
	}

	actions := map[string]int{}
	deadline := time.Now().Add(*duration)
	for time.Now().Before(deadline) {
		n := names[rng.IntN(len(names))]
		exists := ns.Link(t, n).Exists
		switch p := rng.IntN(100); {
		case !exists:
			ns.AddPort(t, n, peers)
			actions["recreate"]++
		case p < 35:
			ns.SetUp(t, n, rng.IntN(2) == 0)
			actions["admin"]++
		case p < 55:
			ns.SetPeerUp(t, n, rng.IntN(2) == 0)
			actions["carrier"]++
		case p < 80:
			ns.SetMTU(t, n, 1280+rng.IntN(8000))
			actions["mtu"]++
		case p < 90:
			ns.Delete(t, n)
			actions["delete"]++
		case p < 93:
			// Stopped, the daemon overruns its socket: a resync follows.
			d.Signal(t, syscall.SIGSTOP)
			for i := 0; i < 200; i++ {
				ns.TryIP("link", "set", names[rng.IntN(len(names))], "mtu", fmt.Sprint(1280+rng.IntN(8000)))
			}
			d.Signal(t, syscall.SIGCONT)
			actions["overrun_burst"]++
		case p < 96:
			target := []string{"netlinkrx", "portstate", "dbwriter", "port:" + n}[rng.IntN(4)]
			if err := os.WriteFile(faults, []byte(target), 0o644); err != nil {
				t.Fatal(err)
			}
			d.Signal(t, syscall.SIGUSR2)
			actions["panic"]++
		case p < 97:
			r.Stop(t)
			time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond)
			r.Start(t)
			actions["redis_restart"]++
		default:
			time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
			actions["pause"]++
		}
		if d.Exited() {
			t.Fatalf("daemon exited during the soak:\n%s", tail(d.Log()))
		}
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
	}

	start := time.Now()
	var diff string
	harness.Eventually(t, time.Minute, func() bool {
		diff = harness.StateDiff(t, ns, state, names)
		return diff == ""
	}, func() string {
		d.Signal(t, syscall.SIGUSR1)
		time.Sleep(300 * time.Millisecond)
		return "not converged (-kernel +STATE_DB):\n" + diff + "\n" + stateLines(dumpDir) + "\n" + tail(d.Log())
	})
	t.Logf("converged %v after the last action", time.Since(start).Round(time.Millisecond))

	d.Signal(t, syscall.SIGUSR1)
	d.WaitLog(t, `msg="state dumped"`, 10*time.Second)
	t.Logf("actions over %v: %s", *duration, summary(actions))
	t.Log(stateLines(dumpDir))
	t.Logf("actor restarts: %d, Redis restarts noticed: %d",
		strings.Count(d.Log(), `msg="actor restarting"`), strings.Count(d.Log(), "server restarted"))
}

func summary(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, m[k])
	}
	return b.String()
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-60):], "\n")
}

// stateLines returns the newest state dump (SIGUSR1) in dir.
func stateLines(dir string) string {
	names, _ := filepath.Glob(filepath.Join(dir, "portsyncd-state-*.json"))
	if len(names) == 0 {
		return "(no state dump)"
	}
	sort.Strings(names)
	b, err := os.ReadFile(names[len(names)-1])
	if err != nil {
		return err.Error()
	}
	return string(b)
}
