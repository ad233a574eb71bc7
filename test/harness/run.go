package harness

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Run runs bin with args inside ns ("ip netns exec <ns.Name> bin args...",
// or directly if ns is nil) to completion and returns its standard output,
// standard error and exit code. It fails the test if the process cannot be
// started or runs for more than a minute.
func Run(t testing.TB, ns *Netns, bin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	cmd := Command(t, ns, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatalf("harness: starting %s: %v", strings.Join(cmd.Args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("harness: %s still running after a minute; stderr:\n%s", strings.Join(cmd.Args, " "), errOut.String())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("harness: %s: %v", strings.Join(cmd.Args, " "), err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// Command returns the command that runs bin with args inside ns, or
// directly if ns is nil, for a test that needs to handle the process
// itself. The caller starts it and waits for it.
func Command(t testing.TB, ns *Netns, bin string, args ...string) *exec.Cmd {
	t.Helper()
	if ns == nil {
		return exec.Command(bin, args...)
	}
	return exec.Command(ipTool(t), append([]string{"netns", "exec", ns.Name, bin}, args...)...)
}
