package harness

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// pollInterval is the period of every polling loop in the package.
const pollInterval = 20 * time.Millisecond

// lookTool finds an executable by name in PATH and then in the usual system
// directories, which are not always in PATH of non-login shells.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// ipTool returns the path of the ip tool or reports a fatal error.
func ipTool(t testing.TB) string {
	t.Helper()
	p, err := lookTool("ip")
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return p
}

// RequireRoot skips the test unless it runs as root and both the ip tool of
// iproute2 and redis-server can be found.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("harness: integration test needs root")
	}
	for _, tool := range []string{"ip", "redis-server"} {
		if _, err := lookTool(tool); err != nil {
			t.Skipf("harness: integration test needs %s: %v", tool, err)
		}
	}
}

// Eventually polls cond every 20 ms until it returns true or timeout has
// passed. On timeout it calls describe once and fails the test with
// t.Fatalf and that description; describe may be nil.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		if cond() {
			return
		}
		if !time.Now().Before(deadline) {
			break
		}
		<-ticker.C
	}
	msg := "condition not met"
	if describe != nil {
		msg = describe()
	}
	t.Fatalf("harness: not true within %v: %s", timeout, msg)
}
