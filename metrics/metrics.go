package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sonic-go/portsyncd/sonic"
)

// Metrics is portsyncd's Prometheus registry: collectors that read Sources
// at each scrape, and the two histograms the pipeline observes directly.
type Metrics struct {
	reg       *prometheus.Registry
	latency   prometheus.Histogram
	batchSize prometheus.Histogram
}

// New returns the metrics of src, in a registry of their own that also holds
// client_golang's Go and process collectors (go_*, process_*: what stock
// dashboards and alerts query). kstats adds only what those cannot give.
func New(src Sources) *Metrics {
	m := newHistograms()
	m.reg = prometheus.NewRegistry()
	m.reg.MustRegister(m.latency, m.batchSize, newCollector(src),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// newHistograms returns Metrics with the histograms the pipeline observes,
// not registered anywhere.
func newHistograms() *Metrics {
	return &Metrics{
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "portsyncd_event_latency_seconds",
			Help: "Time from a link message's receipt from netlink to Redis acknowledging its STATE_DB write.",
			// 25 us to 3.3 s.
			Buckets: prometheus.ExponentialBuckets(25e-6, 2, 18),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "portsyncd_redis_batch_ports",
			Help:    "Ports written per Redis pipeline.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12),
		}),
	}
}

// NewNamespaced returns the metrics of a process that serves several
// namespaces: process's figures (those of kstats, the log, the build; its
// other sources nil) once, and each namespace's with a "namespace" label,
// in one registry (Registry of the first result) that also holds the Go and
// process collectors. Each namespace gets its own histograms to observe.
func NewNamespaced(process Sources, namespaces map[string]Sources) (*Metrics, map[string]*Metrics) {
	top := &Metrics{reg: prometheus.NewRegistry()}
	top.reg.MustRegister(newCollector(process),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	each := make(map[string]*Metrics, len(namespaces))
	for name, src := range namespaces {
		m := newHistograms()
		prometheus.WrapRegistererWith(prometheus.Labels{"namespace": name}, top.reg).
			MustRegister(m.latency, m.batchSize, newCollector(src))
		each[name] = m
	}
	return top, each
}

// Registry returns the registry to serve.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveLatency records the time from a link message's receipt to Redis
// acknowledging the write it caused. dbwriter calls it once per port
// written, from any goroutine.
func (m *Metrics) ObserveLatency(d time.Duration) { m.latency.Observe(d.Seconds()) }

// ObserveBatchSize records the ports written by one Redis pipeline.
func (m *Metrics) ObserveBatchSize(ports int) { m.batchSize.Observe(float64(ports)) }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector turns Sources into metrics at each scrape.
type collector struct {
	src Sources

	events, batches, overruns, resyncs, decodeErrors, forged, inFlight *prometheus.Desc

	ignored, renames, vanished, known, pending, heldBack, configDone, initDone *prometheus.Desc

	writes, deletes, staleDeletes, coalesced, unchanged, roundTrips, redisErrors, redisRestarts *prometheus.Desc

	restarts, mailbox, ready, up, logDropped, buildInfo *prometheus.Desc

	sockDrops, sockQueued, rcvbuf, ctxSwitches, faults, sampledAt *prometheus.Desc
}

func newCollector(src Sources) *collector {
	return &collector{
		src: src,

		events:       desc("portsyncd_netlink_events_total", "Link messages received from netlink, live and dumped, by type.", "type"),
		batches:      desc("portsyncd_netlink_batches_total", "Link batches sent to portstate."),
		overruns:     desc("portsyncd_netlink_overruns_total", "ENOBUFS on the listen socket: the kernel dropped events, a resync follows."),
		resyncs:      desc("portsyncd_netlink_resyncs_total", "Complete link dumps sent to portstate, start-up included."),
		decodeErrors: desc("portsyncd_netlink_decode_errors_total", "Netlink messages that could not be decoded."),
		forged:       desc("portsyncd_netlink_forged_datagrams_dropped_total", "Netlink datagrams dropped because the kernel did not send them."),
		inFlight:     desc("portsyncd_netlink_batches_in_flight", "Link batches sent to portstate and not yet handled (its mailbox)."),

		ignored:    desc("portsyncd_events_ignored_total", "Link events that changed nothing in STATE_DB, by reason.", "reason"),
		renames:    desc("portsyncd_port_renames_total", "Links renamed: the old name's STATE_DB entry deleted."),
		vanished:   desc("portsyncd_links_vanished_total", "Links missing from a dump whose RTM_DELLINK was lost."),
		known:      desc("portsyncd_ports_known", "Links portstate tracks."),
		pending:    desc("portsyncd_ports_pending", "Configured ports whose STATE_DB entry is awaited before PortInitDone."),
		heldBack:   desc("portsyncd_ports_held_back", "Ports whose STATE_DB write waits for their APPL_DB entry or a retry."),
		configDone: desc("portsyncd_port_config_done_sent", "1 once PortConfigDone is published in APPL_DB."),
		initDone:   desc("portsyncd_port_init_done_sent", "1 once PortInitDone is published in APPL_DB."),

		writes:        desc("portsyncd_state_db_writes_total", "STATE_DB PORT_TABLE writes Redis acknowledged."),
		deletes:       desc("portsyncd_state_db_deletes_total", "STATE_DB PORT_TABLE deletes sent."),
		staleDeletes:  desc("portsyncd_state_db_stale_deletes_total", "STATE_DB PORT_TABLE entries deleted after a dump showed their links gone."),
		coalesced:     desc("portsyncd_writer_coalesced_total", "Updates folded into a pending one for the same port, never written on their own."),
		unchanged:     desc("portsyncd_writer_unchanged_total", "Updates dropped because STATE_DB already held that state."),
		roundTrips:    desc("portsyncd_redis_round_trips_total", "Redis pipelines written."),
		redisErrors:   desc("portsyncd_redis_errors_total", "Failed Redis work, by kind: rejected commands, connection failures.", "kind"),
		redisRestarts: desc("portsyncd_redis_server_restarts_total", "Redis server restarts noticed; owned state rewritten."),

		restarts: desc("portsyncd_actor_restarts_total", "Actor restarts since start-up, by actor.", "actor"),
		mailbox:  desc("portsyncd_actor_mailbox_depth", "Messages waiting in an actor's mailbox.", "actor"),

		ready:      desc("portsyncd_ready", "1 when /readyz answers 200: start-up dump in STATE_DB, Redis reachable, PortInitDone sent."),
		up:         desc("portsyncd_namespace_up", "1 while the namespace's subtree serves; 0 once it kept failing and was given up (--namespace only)."),
		logDropped: desc("portsyncd_log_lines_dropped_total", "Log lines the syslog or journal queue dropped: the destination was slow or gone."),
		buildInfo:  desc("portsyncd_build_info", "Always 1; the labels name the running binary.", "version", "commit", "goversion"),

		sockDrops:   desc("portsyncd_netlink_socket_drops_total", "Messages the kernel dropped for a full receive buffer, per netlink socket of the process.", "inode", "protocol"),
		sockQueued:  desc("portsyncd_netlink_socket_queued_bytes", "Bytes queued in a netlink socket's receive buffer, not yet read.", "inode", "protocol"),
		rcvbuf:      desc("portsyncd_netlink_receive_buffer_bytes", "Receive buffer the kernel granted the listen socket (SO_RCVBUF read back)."),
		ctxSwitches: desc("portsyncd_process_context_switches_total", "Context switches of every thread of the process, by kind.", "kind"),
		faults:      desc("portsyncd_process_page_faults_total", "Page faults of the process, by kind: minor (no I/O), major (read from disk).", "kind"),
		sampledAt:   desc("portsyncd_kstats_sample_timestamp_seconds", "When the kernel figures were sampled, as a Unix time."),
	}
}

// Describe sends the description of every metric its sources give,
// present in a scrape or not. A source left nil is not described, so that
// a process-wide collector and per-namespace ones (NewNamespaced) share a
// registry without describing one metric twice.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, g := range []struct {
		present bool
		descs   []*prometheus.Desc
	}{
		{c.src.Netlink != nil, []*prometheus.Desc{c.events, c.batches, c.overruns, c.resyncs, c.decodeErrors, c.forged, c.inFlight}},
		{c.src.Ports != nil, []*prometheus.Desc{c.ignored, c.renames, c.vanished, c.known, c.pending, c.configDone, c.initDone}},
		{c.src.Writer != nil, []*prometheus.Desc{c.writes, c.deletes, c.staleDeletes, c.coalesced, c.unchanged, c.roundTrips, c.redisErrors, c.redisRestarts, c.heldBack}},
		{c.src.Restarts != nil, []*prometheus.Desc{c.restarts}},
		{c.src.Mailbox != nil, []*prometheus.Desc{c.mailbox}},
		{c.src.Ready != nil, []*prometheus.Desc{c.ready}},
		{c.src.Up != nil, []*prometheus.Desc{c.up}},
		{c.src.LogLinesDropped != nil, []*prometheus.Desc{c.logDropped}},
		{c.src.Build != (BuildInfo{}), []*prometheus.Desc{c.buildInfo}},
		{c.src.Kstats != nil, []*prometheus.Desc{c.sockDrops, c.sockQueued, c.rcvbuf, c.ctxSwitches, c.faults, c.sampledAt}},
	} {
		if g.present {
			for _, d := range g.descs {
				ch <- d
			}
		}
	}
}

// Collect reads every source once.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Netlink != nil {
		n := c.src.Netlink()
		counter(c.events, n.NewLinks, "newlink")
		counter(c.events, n.DelLinks, "dellink")
		counter(c.batches, n.Batches)
		counter(c.overruns, n.Overruns)
		counter(c.resyncs, n.Resyncs)
		counter(c.decodeErrors, n.DecodeErrors)
		counter(c.forged, n.Forged)
		gauge(c.inFlight, float64(n.BatchesInFlight))
	}
	if c.src.Ports != nil {
		p := c.src.Ports()
		for _, r := range []struct {
			reason sonic.Reason
			v      uint64
		}{
			{sonic.ReasonFamily, p.Ignored.Family},
			{sonic.ReasonName, p.Ignored.Name},
			{sonic.ReasonTeam, p.Ignored.Team},
			{sonic.ReasonMaster, p.Ignored.Master},
			{sonic.ReasonOld, p.Ignored.OldInterface},
			{sonic.ReasonNotConfigured, p.Ignored.NotConfigured},
			{sonic.ReasonUnchanged, p.Ignored.Unchanged},
		} {
			counter(c.ignored, r.v, r.reason.String())
		}
		counter(c.renames, p.Renames)
		counter(c.vanished, p.Vanished)
		gauge(c.known, float64(p.Known))
		gauge(c.pending, float64(p.Pending))
		gauge(c.configDone, bool01(p.ConfigDoneSent))
		gauge(c.initDone, bool01(p.InitDoneSent))
	}
	if c.src.Writer != nil {
		w := c.src.Writer()
		counter(c.writes, w.Writes)
		counter(c.deletes, w.Deletes)
		counter(c.staleDeletes, w.StaleDeletes)
		counter(c.coalesced, w.Coalesced)
		counter(c.unchanged, w.Unchanged)
		counter(c.roundTrips, w.RoundTrips)
		counter(c.redisErrors, w.Errors.Rejected, "rejected")
		counter(c.redisErrors, w.Errors.Connection, "connection")
		counter(c.redisRestarts, w.ServerRestarts)
		gauge(c.heldBack, float64(w.HeldBack))
	}
	if c.src.Restarts != nil {
		for actor, n := range c.src.Restarts() {
			counter(c.restarts, n, actor)
		}
	}
	if c.src.Mailbox != nil {
		for actor, n := range c.src.Mailbox() {
			gauge(c.mailbox, float64(n), actor)
		}
	}
	if c.src.Ready != nil {
		gauge(c.ready, bool01(c.src.Ready()))
	}
	if c.src.Up != nil {
		gauge(c.up, bool01(c.src.Up()))
	}
	if c.src.LogLinesDropped != nil {
		counter(c.logDropped, c.src.LogLinesDropped())
	}
	if b := c.src.Build; b != (BuildInfo{}) {
		gauge(c.buildInfo, 1, b.Version, b.Commit, b.GoVersion)
	}
	if c.src.Kstats != nil {
		if s := c.src.Kstats(); s != nil {
			for _, so := range s.Sockets {
				inode, proto := strconv.FormatUint(so.Inode, 10), strconv.Itoa(so.Protocol)
				counter(c.sockDrops, so.Drops, inode, proto)
				gauge(c.sockQueued, float64(so.Rmem), inode, proto)
			}
			gauge(c.rcvbuf, float64(s.RcvBuf))
			counter(c.ctxSwitches, s.VoluntaryCtxtSwitches, "voluntary")
			counter(c.ctxSwitches, s.InvoluntaryCtxtSwitches, "involuntary")
			counter(c.faults, s.MinorFaults, "minor")
			counter(c.faults, s.MajorFaults, "major")
			gauge(c.sampledAt, float64(s.Time.UnixNano())/1e9)
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
