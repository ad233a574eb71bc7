package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The daemon never runs a shell or another program: nothing it links can
// start a process through os/exec.
func TestDaemonCannotExecPrograms(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps returned %d packages; not a dependency list", len(deps))
	}
	for _, dep := range deps {
		if dep == "os/exec" {
			t.Errorf("portsyncd depends on os/exec")
		}
	}
}
