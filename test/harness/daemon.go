package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DaemonPackage is the package built by BuildDaemon, relative to the
// module root.
const DaemonPackage = "./cmd/portsyncd"

// builds holds one build per set of build tags, for the life of the test
// binary.
var builds struct {
	mu   sync.Mutex
	dirs []string
	by   map[string]*builtDaemon
}

type builtDaemon struct {
	once sync.Once
	path string
	err  error
}

// BuildDaemon builds portsyncd with "go build -o <tmp>/portsyncd
// ./cmd/portsyncd" in the module root (found by walking up from the
// working directory to go.mod) and returns the binary's path. The build
// runs once per test binary; later calls return the same path, or fail the
// same way. The binary lives in a temporary directory that Main removes.
func BuildDaemon(t testing.TB) string {
	t.Helper()
	return BuildDaemonTags(t, "")
}

// BuildDaemonTags is BuildDaemon with "-tags tags", e.g. "faultinject".
func BuildDaemonTags(t testing.TB, tags string) string {
	t.Helper()
	builds.mu.Lock()
	if builds.by == nil {
		builds.by = make(map[string]*builtDaemon)
	}
	b, ok := builds.by[tags]
	if !ok {
		b = &builtDaemon{}
		builds.by[tags] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() { b.path, b.err = buildDaemon(tags) })
	if b.err != nil {
		t.Fatalf("harness: building portsyncd: %v", b.err)
	}
	return b.path
}

func buildDaemon(tags string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	goTool, err := lookTool("go")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "psd-build-")
	if err != nil {
		return "", err
	}
	builds.mu.Lock()
	builds.dirs = append(builds.dirs, dir)
	builds.mu.Unlock()
	out := filepath.Join(dir, "portsyncd")
	cmd := exec.Command(goTool, "build", "-tags", tags, "-o", out, DaemonPackage)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -tags %q -o %s %s in %s: %v\n%s", tags, out, DaemonPackage, root, err, b)
	}
	return out, nil
}

// Main runs the tests of m and then removes what BuildDaemon built. Use it
// as the body of TestMain:
//
//	func TestMain(m *testing.M) { harness.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	for _, dir := range builds.dirs {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// ModuleRoot returns the nearest directory at or above the working
// directory that contains go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// Daemon is a process started by StartDaemon or StartProcess, with its
// standard output and standard error captured.
type Daemon struct {
	// Cmd is the running command. Do not call Wait on it; use Daemon.Wait.
	Cmd *exec.Cmd

	log  syncBuffer
	done chan struct{} // closed once the process has been waited for
	err  error         // result of Cmd.Wait, valid after done is closed
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartDaemon builds portsyncd (see BuildDaemon) and runs
// "ip netns exec <ns.Name> <bin> args..." as StartProcess does.
func StartDaemon(t testing.TB, ns *Netns, args ...string) *Daemon {
	t.Helper()
	if ns == nil {
		t.Fatalf("harness: StartDaemon: nil namespace")
	}
	return StartProcess(t, ns, BuildDaemon(t), WithStderrLogs(args)...)
}

// WithStderrLogs returns args with "--log-output stderr" added unless they
// choose an output: the daemon's default (auto) would log to /dev/log on a
// host that has one, and the tests read the daemon's log from its stderr.
func WithStderrLogs(args []string) []string {
	for _, a := range args {
		if a == "--log-output" || strings.HasPrefix(a, "--log-output=") {
			return args
		}
	}
	return append(append([]string(nil), args...), "--log-output", "stderr")
}

// StartProcess runs bin with args inside ns ("ip netns exec <ns.Name> bin
// args...", or directly if ns is nil) in its own process group, capturing
// standard output and standard error into a buffer safe for concurrent
// use. On test cleanup the process group is killed with SIGKILL, the
// process is waited for and its log is written with t.Log.
func StartProcess(t testing.TB, ns *Netns, bin string, args ...string) *Daemon {
	t.Helper()
	var cmd *exec.Cmd
	if ns != nil {
		ip := ipTool(t)
		cmd = exec.Command(ip, append([]string{"netns", "exec", ns.Name, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	d := &Daemon{Cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = &d.log
	cmd.Stderr = &d.log
	// If the process leaves children holding the output pipe, do not
	// block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	if err := start(cmd); err != nil {
		t.Fatalf("harness: starting %s: %v", strings.Join(cmd.Args, " "), err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		// Kill the whole process group, also when the leader has
		// exited, so that no child outlives the test. "ip netns exec"
		// has exec'd into bin, so the group leader is bin itself.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			t.Errorf("harness: %s (pid %d) did not exit after SIGKILL", bin, cmd.Process.Pid)
		}
		t.Logf("harness: log of %s:\n%s", strings.Join(cmd.Args, " "), d.Log())
	})
	return d
}

// Log returns everything the process has written so far.
func (d *Daemon) Log() string { return d.log.String() }

// Exited reports whether the process has exited.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// WaitLog polls the captured log until it contains substr. It fails the
// test with the log if that does not happen within timeout or if the
// process exits without writing it.
func (d *Daemon) WaitLog(t testing.TB, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if strings.Contains(d.Log(), substr) {
			return
		}
		if d.Exited() {
			if strings.Contains(d.Log(), substr) {
				return
			}
			t.Fatalf("harness: process exited (%v) without logging %q; log:\n%s", d.err, substr, d.Log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("harness: %q not logged within %v; log:\n%s", substr, timeout, d.Log())
		}
		time.Sleep(pollInterval)
	}
}

// Signal sends sig to the process.
func (d *Daemon) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := d.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("harness: sending %v to pid %d: %v", sig, d.Cmd.Process.Pid, err)
	}
}

// Wait waits up to timeout for the process to exit and returns its exit
// code; a process killed by a signal reports 128 plus the signal number,
// as shells do. err is non-nil if the process did not exit in time or
// could not be waited for.
func (d *Daemon) Wait(timeout time.Duration) (exitCode int, err error) {
	select {
	case <-d.done:
	case <-time.After(timeout):
		return -1, fmt.Errorf("harness: pid %d still running after %v", d.Cmd.Process.Pid, timeout)
	}
	ps := d.Cmd.ProcessState
	if ps == nil {
		return -1, fmt.Errorf("harness: waiting for pid %d: %v", d.Cmd.Process.Pid, d.err)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	var exitErr *exec.ExitError
	if d.err != nil && !errors.As(d.err, &exitErr) && !errors.Is(d.err, exec.ErrWaitDelay) {
		return ps.ExitCode(), fmt.Errorf("harness: waiting for pid %d: %v", d.Cmd.Process.Pid, d.err)
	}
	return ps.ExitCode(), nil
}
