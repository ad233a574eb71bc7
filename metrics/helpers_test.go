package metrics

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sonic-go/portsyncd/actors/kstats"
)

// state is what the test sources return; tests change it between scrapes.
type state struct {
	mu       sync.Mutex
	netlink  NetlinkCounters
	ports    PortCounters
	writer   WriterCounters
	sample   *kstats.Sample
	restarts map[string]uint64
	mailbox  map[string]int
	ready    bool
	logDrops uint64
}

// testBuild is the Build of every state's sources: unlike the other
// sources it is a value, fixed when the metrics are made.
var testBuild = BuildInfo{Version: "v1.2.3", Commit: "0123abcd", GoVersion: "go1.26.0"}

func (s *state) set(f func(*state)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *state) sources() Sources {
	lock := func() func() { s.mu.Lock(); return s.mu.Unlock }
	return Sources{
		Netlink:         func() NetlinkCounters { defer lock()(); return s.netlink },
		Ports:           func() PortCounters { defer lock()(); return s.ports },
		Writer:          func() WriterCounters { defer lock()(); return s.writer },
		Kstats:          func() *kstats.Sample { defer lock()(); return s.sample },
		Restarts:        func() map[string]uint64 { defer lock()(); return s.restarts },
		Mailbox:         func() map[string]int { defer lock()(); return s.mailbox },
		Ready:           func() bool { defer lock()(); return s.ready },
		LogLinesDropped: func() uint64 { defer lock()(); return s.logDrops },
		Build:           testBuild,
	}
}

// serve starts a server for reg on a free loopback port and returns its
// base URL; it stops when the test ends.
func serve(t *testing.T, m *Metrics, health HealthFunc, ready ReadyFunc, dump DumpFunc) string {
	t.Helper()
	if health == nil {
		health = func(context.Context) error { return nil }
	}
	if ready == nil {
		ready = func(context.Context) Readiness { return Readiness{} }
	}
	srv, err := Listen("127.0.0.1:0", m.Registry(), health, ready, dump)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + srv.Addr().String()
}

var client = &http.Client{Timeout: 30 * time.Second}

// scrape fetches url/metrics and parses the text exposition.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// series flattens the counters and gauges of fams to "name{k=v,...}" ->
// value, labels sorted by name. Only portsyncd's own families are kept: the
// stock go_* and process_* ones move on their own between scrapes.
func series(fams map[string]*dto.MetricFamily) map[string]float64 {
	out := make(map[string]float64)
	for name, f := range fams {
		if !strings.HasPrefix(name, "portsyncd_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var v float64
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			default:
				continue
			}
			out[key(name, m.GetLabel())] = v
		}
	}
	return out
}

func key(name string, labels []*dto.LabelPair) string {
	var ls []string
	for _, l := range labels {
		ls = append(ls, fmt.Sprintf("%s=%s", l.GetName(), l.GetValue()))
	}
	slices.Sort(ls)
	if len(ls) == 0 {
		return name
	}
	return name + "{" + strings.Join(ls, ",") + "}"
}

func itoa(n uint64) string { return fmt.Sprint(n) }

func TestMain(m *testing.M) {
	// Tests look at what changed since the last scrape at once; the cache
	// has its own test.
	scrapeEvery = 0
	os.Exit(m.Run())
}
