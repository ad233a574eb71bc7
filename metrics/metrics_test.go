package metrics

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/sonic-go/portsyncd/actors/kstats"
)

// fill sets every source to values derived from base, each field its own,
// so that a field read into the wrong metric shows.
func fill(s *state, base uint64) {
	n := base
	next := func() uint64 { n++; return n }
	s.netlink = NetlinkCounters{NewLinks: next(), DelLinks: next(), Batches: next(), Overruns: next(),
		Resyncs: next(), DecodeErrors: next(), Forged: next(), BatchesInFlight: int(next())}
	s.ports = PortCounters{
		Ignored: IgnoredCounters{Family: next(), Name: next(), Team: next(), Master: next(),
			OldInterface: next(), NotConfigured: next(), Unchanged: next()},
		Renames: next(), Vanished: next(), Known: int(next()), Pending: int(next()),
		ConfigDoneSent: base%2 == 1, InitDoneSent: base%2 == 0,
	}
	s.writer = WriterCounters{Writes: next(), Deletes: next(), StaleDeletes: next(), Coalesced: next(),
		Unchanged: next(), RoundTrips: next(), Errors: RedisErrors{Rejected: next(), Connection: next()},
		ServerRestarts: next(), HeldBack: int(next())}
	s.restarts = map[string]uint64{"netlinkrx": next(), "dbwriter": next()}
	s.mailbox = map[string]int{"portstate": int(next()), "kstats": int(next())}
	s.sample = &kstats.Sample{
		Time: time.Unix(int64(next()), 500_000_000),
		Sockets: []kstats.NetlinkSocket{
			{Inode: 4000 + base, Protocol: 0, Groups: 1, Rmem: next(), Drops: next()},
			{Inode: 5000 + base, Protocol: 0, Rmem: next(), Drops: next()},
		},
		RcvBuf:                  int64(next()),
		VoluntaryCtxtSwitches:   next(),
		InvoluntaryCtxtSwitches: next(),
		MinorFaults:             next(),
		MajorFaults:             next(),
	}
	s.ready = base%2 == 1
	s.logDrops = next()
}

// want is what a scrape must show for the values fill(base) set.
func want(s *state) map[string]float64 {
	f := func(v uint64) float64 { return float64(v) }
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	sm := s.sample
	w := map[string]float64{
		"portsyncd_netlink_events_total{type=newlink}":               f(s.netlink.NewLinks),
		"portsyncd_netlink_events_total{type=dellink}":               f(s.netlink.DelLinks),
		"portsyncd_netlink_batches_total":                            f(s.netlink.Batches),
		"portsyncd_netlink_overruns_total":                           f(s.netlink.Overruns),
		"portsyncd_netlink_resyncs_total":                            f(s.netlink.Resyncs),
		"portsyncd_netlink_decode_errors_total":                      f(s.netlink.DecodeErrors),
		"portsyncd_netlink_forged_datagrams_dropped_total":           f(s.netlink.Forged),
		"portsyncd_netlink_batches_in_flight":                        float64(s.netlink.BatchesInFlight),
		"portsyncd_events_ignored_total{reason=family}":              f(s.ports.Ignored.Family),
		"portsyncd_events_ignored_total{reason=name}":                f(s.ports.Ignored.Name),
		"portsyncd_events_ignored_total{reason=team}":                f(s.ports.Ignored.Team),
		"portsyncd_events_ignored_total{reason=dellink_master}":      f(s.ports.Ignored.Master),
		"portsyncd_events_ignored_total{reason=old_interface}":       f(s.ports.Ignored.OldInterface),
		"portsyncd_events_ignored_total{reason=not_configured}":      f(s.ports.Ignored.NotConfigured),
		"portsyncd_events_ignored_total{reason=unchanged}":           f(s.ports.Ignored.Unchanged),
		"portsyncd_port_renames_total":                               f(s.ports.Renames),
		"portsyncd_links_vanished_total":                             f(s.ports.Vanished),
		"portsyncd_ports_known":                                      float64(s.ports.Known),
		"portsyncd_ports_pending":                                    float64(s.ports.Pending),
		"portsyncd_port_config_done_sent":                            b(s.ports.ConfigDoneSent),
		"portsyncd_port_init_done_sent":                              b(s.ports.InitDoneSent),
		"portsyncd_state_db_writes_total":                            f(s.writer.Writes),
		"portsyncd_state_db_deletes_total":                           f(s.writer.Deletes),
		"portsyncd_state_db_stale_deletes_total":                     f(s.writer.StaleDeletes),
		"portsyncd_writer_coalesced_total":                           f(s.writer.Coalesced),
		"portsyncd_writer_unchanged_total":                           f(s.writer.Unchanged),
		"portsyncd_redis_round_trips_total":                          f(s.writer.RoundTrips),
		"portsyncd_redis_errors_total{kind=rejected}":                f(s.writer.Errors.Rejected),
		"portsyncd_redis_errors_total{kind=connection}":              f(s.writer.Errors.Connection),
		"portsyncd_redis_server_restarts_total":                      f(s.writer.ServerRestarts),
		"portsyncd_ports_held_back":                                  float64(s.writer.HeldBack),
		"portsyncd_actor_restarts_total{actor=netlinkrx}":            f(s.restarts["netlinkrx"]),
		"portsyncd_actor_restarts_total{actor=dbwriter}":             f(s.restarts["dbwriter"]),
		"portsyncd_actor_mailbox_depth{actor=portstate}":             float64(s.mailbox["portstate"]),
		"portsyncd_actor_mailbox_depth{actor=kstats}":                float64(s.mailbox["kstats"]),
		"portsyncd_netlink_receive_buffer_bytes":                     float64(sm.RcvBuf),
		"portsyncd_process_context_switches_total{kind=voluntary}":   f(sm.VoluntaryCtxtSwitches),
		"portsyncd_process_context_switches_total{kind=involuntary}": f(sm.InvoluntaryCtxtSwitches),
		"portsyncd_process_page_faults_total{kind=minor}":            f(sm.MinorFaults),
		"portsyncd_process_page_faults_total{kind=major}":            f(sm.MajorFaults),
		"portsyncd_ready":                                            b(s.ready),
		"portsyncd_log_lines_dropped_total":                          f(s.logDrops),
		"portsyncd_build_info{commit=" + testBuild.Commit + ",goversion=" + testBuild.GoVersion + ",version=" + testBuild.Version + "}": 1,
		"portsyncd_kstats_sample_timestamp_seconds":                                                 float64(sm.Time.UnixNano()) / 1e9,
		"portsyncd_netlink_socket_drops_total{inode=" + itoa(sm.Sockets[0].Inode) + ",protocol=0}":  f(sm.Sockets[0].Drops),
		"portsyncd_netlink_socket_drops_total{inode=" + itoa(sm.Sockets[1].Inode) + ",protocol=0}":  f(sm.Sockets[1].Drops),
		"portsyncd_netlink_socket_queued_bytes{inode=" + itoa(sm.Sockets[0].Inode) + ",protocol=0}": f(sm.Sockets[0].Rmem),
		"portsyncd_netlink_socket_queued_bytes{inode=" + itoa(sm.Sockets[1].Inode) + ",protocol=0}": f(sm.Sockets[1].Rmem),
	}
	return w
}

// TestScrapeFollowsSources scrapes a live server twice, the sources moved
// in between, and checks every series against them both times.
func TestScrapeFollowsSources(t *testing.T) {
	var st state
	m := New(st.sources())
	base := serve(t, m, nil, nil, nil)

	for _, b := range []uint64{100, 1001} {
		var w map[string]float64
		st.set(func(s *state) { fill(s, b); w = want(s) })
		got := series(scrape(t, base))
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("sources filled from %d: series (-want +got):\n%s", b, diff)
		}
	}

	// A restarted netlinkrx has new sockets: the old ones' series go.
	st.set(func(s *state) { s.sample.Sockets = s.sample.Sockets[:1] })
	for k := range series(scrape(t, base)) {
		if strings.Contains(k, "inode=6001") {
			t.Errorf("series %s of a socket no longer in the sample", k)
		}
	}
}

// TestNilSourcesLeaveMetricsOut: wiring one source at a time must work.
func TestNilSourcesLeaveMetricsOut(t *testing.T) {
	var st state
	fill(&st, 7)
	src := Sources{Writer: st.sources().Writer, Kstats: func() *kstats.Sample { return nil }}
	// series keeps only portsyncd_* families: the stock ones are always there.
	got := series(scrape(t, serve(t, New(src), nil, nil, nil)))
	for k := range got {
		if !strings.HasPrefix(k, "portsyncd_state_db_") && !strings.HasPrefix(k, "portsyncd_writer_") &&
			!strings.HasPrefix(k, "portsyncd_redis_") && k != "portsyncd_ports_held_back" {
			t.Errorf("series %s with only the writer source set", k)
		}
	}
	if got["portsyncd_state_db_writes_total"] != float64(st.writer.Writes) {
		t.Errorf("portsyncd_state_db_writes_total = %v, want %d", got["portsyncd_state_db_writes_total"], st.writer.Writes)
	}
}

func histogram(t *testing.T, fams map[string]*dto.MetricFamily, name string) *dto.Histogram {
	t.Helper()
	f, ok := fams[name]
	if !ok || f.GetType() != dto.MetricType_HISTOGRAM || len(f.GetMetric()) != 1 {
		t.Fatalf("%s: %v, want one histogram", name, f)
	}
	return f.GetMetric()[0].GetHistogram()
}

// bucket returns the cumulative count of the bucket whose upper bound is
// the smallest at or above v.
func bucket(h *dto.Histogram, v float64) uint64 {
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() >= v {
			return b.GetCumulativeCount()
		}
	}
	return h.GetSampleCount()
}

func TestHistogramsFollowObservations(t *testing.T) {
	m := New(Sources{})
	base := serve(t, m, nil, nil, nil)

	fams := scrape(t, base)
	if c := histogram(t, fams, "portsyncd_event_latency_seconds").GetSampleCount(); c != 0 {
		t.Fatalf("latency count %d before any observation", c)
	}
	m.ObserveLatency(3 * time.Millisecond)
	m.ObserveLatency(3 * time.Millisecond)
	m.ObserveLatency(800 * time.Millisecond)
	for range 5 {
		m.ObserveBatchSize(64)
	}
	m.ObserveBatchSize(1)

	fams = scrape(t, base)
	lat := histogram(t, fams, "portsyncd_event_latency_seconds")
	if lat.GetSampleCount() != 3 || math.Abs(lat.GetSampleSum()-0.806) > 1e-9 {
		t.Errorf("latency count %d sum %v, want 3, 0.806", lat.GetSampleCount(), lat.GetSampleSum())
	}
	if got := bucket(lat, 0.003); got != 2 {
		t.Errorf("latency bucket holding 3ms counts %d, want 2", got)
	}
	if got := bucket(lat, 0.0015); got != 0 {
		t.Errorf("latency bucket below 1.5ms counts %d, want 0", got)
	}
	bs := histogram(t, fams, "portsyncd_redis_batch_ports")
	if bs.GetSampleCount() != 6 || bs.GetSampleSum() != 321 || bucket(bs, 1) != 1 || bucket(bs, 64) != 6 {
		t.Errorf("batch size count %d sum %v le1 %d le64 %d; want 6, 321, 1, 6",
			bs.GetSampleCount(), bs.GetSampleSum(), bucket(bs, 1), bucket(bs, 64))
	}
}

// TestLint checks every metric against Prometheus's naming conventions.
func TestLint(t *testing.T) {
	var st state
	fill(&st, 1)
	m := New(st.sources())
	m.ObserveLatency(time.Millisecond)
	m.ObserveBatchSize(3)
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if n, err := testutil.GatherAndCount(m.Registry()); err != nil || n < 50 {
		t.Errorf("linted %d series (err %v); want every metric present", n, err)
	}
}
