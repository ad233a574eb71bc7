package test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sonic-go/portsyncd/test/harness"
)

// Issue 17 item 4: the reader of the daemon's stderr goes away (a pipe to
// a logger that died). The next log line meets EPIPE; the daemon must not
// die of SIGPIPE but go on writing port state, and still stop cleanly.
func TestIntegrationStderrReaderGone(t *testing.T) {
	e := newEnv(t)
	e.configure("Ethernet0")
	e.orch.Run(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := harness.Command(t, e.ns, harness.BuildDaemon(t), e.args()...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	var log strings.Builder
	lines := bufio.NewScanner(r)
	for lines.Scan() && !strings.Contains(lines.Text(), "msg=ready") {
		log.WriteString(lines.Text() + "\n")
	}
	if lines.Err() != nil || !strings.Contains(lines.Text(), "msg=ready") {
		t.Fatalf("no ready line (%v):\n%s", lines.Err(), log.String())
	}
	r.Close() // the reader is gone

	// SIGHUP logs "resync requested": a write to the closed pipe.
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e.waitAppl("Ethernet0")
	e.ns.AddPort(t, "Ethernet0", e.peers)
	e.waitState("Ethernet0", want("up", "up", 1500))
	e.ns.SetMTU(t, "Ethernet0", 9100)
	e.waitState("Ethernet0", want("up", "up", 9100))
	select {
	case err := <-exited:
		t.Fatalf("daemon ended with stderr's reader gone: %v", err)
	default:
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		var ee *exec.ExitError
		if err != nil && errors.As(err, &ee) {
			t.Errorf("after SIGTERM: %v, want exit status 0", err)
		} else if err != nil {
			t.Error(err)
		}
	case <-time.After(waitFor):
		t.Fatalf("daemon did not exit after SIGTERM")
	}
}

// Issue 17 item 12 (SIGTERM's bound): with Redis gone (stopped) or hung
// (every write held: CLIENT PAUSE WRITE) and a change waiting to be
// written, SIGTERM ends the process within the README's bound (README,
// "Signals": the drain at most 1.5 s, stopping the actors at most 1 s
// more, a Redis command in flight at most its 2 s timeout: under 3 s in
// all), and exits 0.
func TestIntegrationSigtermWithRedisDownBounded(t *testing.T) {
	for _, tt := range []struct {
		name string
		down func(e *env)
	}{
		{"stopped", func(e *env) { e.redis.Stop(e.t) }},
		{"hung", func(e *env) { e.pauseWrites(e.t, "20000") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.configure("Ethernet0")
			e.orch.Run(t)
			e.start()
			e.waitAppl("Ethernet0")
			e.ns.AddPort(t, "Ethernet0", e.peers)
			e.waitState("Ethernet0", want("up", "up", 1500))
			tt.down(e)
			e.ns.SetMTU(t, "Ethernet0", 9000)
			e.daemon.WaitLog(t, "redis write failed", waitFor) // the change is stuck, and retried
			start := time.Now()
			e.daemon.Signal(t, syscall.SIGTERM)
			code, err := e.daemon.Wait(waitFor)
			took := time.Since(start)
			t.Logf("SIGTERM to exit with Redis %s: %v", tt.name, took)
			// Issue 17 item 7: the stuck change is named, and the exit
			// status is not a clean stop's.
			if err != nil || code != 1 || !containsAll(e.log(), "port state unwritten", "Ethernet0") {
				t.Errorf("exit %d, %v; want 1 and a line naming Ethernet0:\n%s", code, err, e.log())
			}
			if took > sigtermBound {
				t.Errorf("SIGTERM to exit took %v, more than the README's %v:\n%s", took, sigtermBound, e.log())
			}
		})
	}
}

// sigtermBound is the README's bound on SIGTERM to exit.
const sigtermBound = 3 * time.Second
