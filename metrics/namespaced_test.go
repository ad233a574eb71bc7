package metrics

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Issue 19: with several namespaces, each one's series carry its name in a
// "namespace" label, process-wide ones come once without it, and a
// namespace given up shows portsyncd_namespace_up 0.
func TestNewNamespaced(t *testing.T) {
	process := Sources{LogLinesDropped: func() uint64 { return 3 }, Build: testBuild}
	ns := func(pending int, up bool) Sources {
		return Sources{
			Ports: func() PortCounters { return PortCounters{Pending: pending} },
			Ready: func() bool { return up && pending == 0 },
			Up:    func() bool { return up },
		}
	}
	top, each := NewNamespaced(process, map[string]Sources{"asic0": ns(0, true), "asic1": ns(2, false)})
	each["asic0"].ObserveLatency(time.Millisecond)
	base := serve(t, top, nil, nil, nil)
	fams := scrape(t, base)
	got := series(fams)
	for k, want := range map[string]float64{
		"portsyncd_ports_pending{namespace=asic0}":                                0,
		"portsyncd_ports_pending{namespace=asic1}":                                2,
		"portsyncd_namespace_up{namespace=asic0}":                                 1,
		"portsyncd_namespace_up{namespace=asic1}":                                 0,
		"portsyncd_ready{namespace=asic0}":                                        1,
		"portsyncd_ready{namespace=asic1}":                                        0,
		"portsyncd_log_lines_dropped_total":                                       3,
		"portsyncd_build_info{commit=0123abcd,goversion=go1.26.0,version=v1.2.3}": 1,
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", k, v, ok, want)
		}
	}
	var counts []uint64
	for _, m := range fams["portsyncd_event_latency_seconds"].GetMetric() {
		counts = append(counts, m.GetHistogram().GetSampleCount())
	}
	if diff := cmp.Diff([]uint64{1, 0}, counts); diff != "" {
		t.Errorf("latency samples per namespace (asic0, asic1) (-want +got):\n%s", diff)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Errorf("no go_goroutines: the stock collectors are missing")
	}
}
