package metrics

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

const (
	rulesPath     = "../packaging/prometheus/portsyncd.rules.yml"
	rulesTestPath = "../packaging/prometheus/portsyncd.rules.test.yml"
)

var installPromtool sync.Once

// promtool returns the path of promtool. Missing, it is installed (Debian
// package prometheus) when the test runs as root, as CI does; otherwise the
// test is skipped.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skip("promtool not installed and not root: apt-get install prometheus")
	}
	installPromtool.Do(func() {
		for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "--no-install-recommends", "prometheus"}} {
			cmd := exec.Command("apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Logf("apt-get %v: %v\n%s", args, err, out)
			}
		}
	})
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool still missing after apt-get install prometheus: %v", err)
	}
	return p
}

// TestPromtoolCheckMetrics runs promtool check metrics (exposition format
// and naming lint) on a live scrape with every source set.
func TestPromtoolCheckMetrics(t *testing.T) {
	bin := promtool(t)
	var st state
	fill(&st, 1)
	m := New(st.sources())
	m.ObserveLatency(1e6)
	m.ObserveBatchSize(3)
	resp, err := client.Get(serve(t, m, nil, nil, nil) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"portsyncd_ready", "portsyncd_build_info", "go_goroutines", "process_resident_memory_bytes"} {
		if !bytes.Contains(body, []byte("\n"+name)) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPromtoolRules checks the alerting rules' syntax and runs their unit
// tests: each alert fires for the misbehaving switch, at the time it should,
// and never for the healthy one.
func TestPromtoolRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", filepath.Base(rulesPath)},
		{"test", "rules", filepath.Base(rulesTestPath)},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = filepath.Dir(rulesPath)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

var ruleExpr = regexp.MustCompile(`(?m)^\s*expr:\s*(.*)$`)

// TestRulesMatchMetrics checks that every metric the alerting rules query
// is in a scrape of the registry, and that every aggregation keeps the
// instance label. It needs no promtool.
func TestRulesMatchMetrics(t *testing.T) {
	b, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	var st state
	fill(&st, 1)
	fams := scrape(t, serve(t, New(st.sources()), nil, nil, nil))
	exprs := ruleExpr.FindAllSubmatch(b, -1)
	if len(exprs) < 6 {
		t.Fatalf("%d expr lines in %s; want every alert's", len(exprs), rulesPath)
	}
	for _, m := range exprs {
		e := strings.TrimSpace(string(m[1]))
		if e == "" || e[0] == '|' || e[0] == '>' || e[0] == '"' || e[0] == '\'' {
			t.Errorf("%s: expr %q: write each expression unquoted on its line, so this test reads it whole", rulesPath, e)
			continue
		}
		if miss := missing(promqlMetrics(e), fams); len(miss) > 0 {
			t.Errorf("%s: %q queries metrics the registry does not have: %v", rulesPath, e, miss)
		}
		if bad := withoutInstance(e); len(bad) > 0 {
			t.Errorf("%s: %v in %q: aggregate by (instance, ...)", rulesPath, bad, e)
		}
	}
}
