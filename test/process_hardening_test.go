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
