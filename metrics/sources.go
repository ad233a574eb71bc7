package metrics

import "github.com/sonic-go/portsyncd/actors/kstats"

// Sources are where the metrics come from: functions called at each scrape,
// from the HTTP server's goroutine, so each must be safe to call
// concurrently with the actors (read atomics, never ask an actor). A nil
// source leaves its metrics out of the scrape. Every field must be filled
// by the daemon: TestEverySourceFieldExported fails when a field's figure
// does not reach a scrape, but only the wiring can pass the figure in.
type Sources struct {
	Netlink func() NetlinkCounters
	Ports   func() PortCounters
	Writer  func() WriterCounters
	// Kstats returns the newest kernel sample (kstats.Stats.Latest); nil
	// before the first leaves those metrics out.
	Kstats func() *kstats.Sample
	// Restarts returns the restarts of each actor since start-up, keyed by
	// actor name ("netlinkrx", "portstate", "dbwriter", "kstats"). Each
	// value must only grow.
	Restarts func() map[string]uint64
	// Mailbox returns the messages waiting in each actor's mailbox.
	Mailbox func() map[string]int
	// Ready reports what /readyz reports (Readiness.Ready: the start-up
	// dump in STATE_DB, Redis reachable, PortInitDone sent), read from
	// atomics: unlike the ReadyFunc it never asks portstate for the
	// pending ports.
	Ready func() bool
	// Up reports whether a namespace's subtree serves (false once it was
	// given up); nil outside --namespace.
	Up func() bool
	// LogLinesDropped returns the log lines the syslog and journal queues
	// dropped since start-up because their destination was slow or gone
	// (logging.Dropped). It must only grow.
	LogLinesDropped func() uint64
	// Build names the running binary. The zero value leaves
	// portsyncd_build_info out.
	Build BuildInfo
}

// BuildInfo names the running binary, exported as the labels of
// portsyncd_build_info (whose value is always 1), so that a query can join
// any series with the version that produced it.
type BuildInfo struct {
	Version   string // the release (-ldflags -X main.version) or the module version
	Commit    string // the VCS revision the build recorded; empty when none
	GoVersion string // runtime.Version() of the build
}

// NetlinkCounters are netlinkrx's figures. Counters count since start-up
// and only grow.
type NetlinkCounters struct {
	NewLinks     uint64 // RTM_NEWLINK messages received (live and dumped)
	DelLinks     uint64 // RTM_DELLINK messages received
	Batches      uint64 // link batches sent to portstate
	Overruns     uint64 // ENOBUFS on the listen socket: events were lost
	Resyncs      uint64 // complete dumps sent to portstate, start-up included
	DecodeErrors uint64 // messages that could not be decoded
	Forged       uint64 // datagrams dropped: not sent by the kernel
	// BatchesInFlight are the batches waiting in portstate's mailbox: sent
	// and not yet handled.
	BatchesInFlight int
}

// IgnoredCounters count link events that changed nothing in STATE_DB, one
// field per sonic.Reason. Counters count since start-up and only grow.
type IgnoredCounters struct {
	Family        uint64 // sonic.ReasonFamily (portstate)
	Name          uint64 // sonic.ReasonName (portstate)
	Team          uint64 // sonic.ReasonTeam (portstate)
	Master        uint64 // sonic.ReasonMaster (portstate)
	OldInterface  uint64 // sonic.ReasonOld (portstate)
	NotConfigured uint64 // sonic.ReasonNotConfigured (dbwriter's NotInTable)
	Unchanged     uint64 // sonic.ReasonUnchanged (netlinkrx's Repeats)
}

// PortCounters are portstate's figures.
type PortCounters struct {
	Ignored IgnoredCounters
	Renames uint64 // same ifindex, new name: the old name's key deleted
	// Vanished are links missing from a dump whose DELLINK was lost.
	Vanished uint64
	Known    int // links tracked
	// Pending are configured ports whose STATE_DB entry is awaited before
	// PortInitDone.
	Pending        int
	ConfigDoneSent bool // PortConfigDone published in APPL_DB
	InitDoneSent   bool // PortInitDone published in APPL_DB
}

// RedisErrors count failed Redis work, by kind. Counters only grow.
type RedisErrors struct {
	Rejected   uint64 // commands Redis answered with an error
	Connection uint64 // batches sent again after a connection failure
}

// WriterCounters are dbwriter's figures. Counters count since start-up and
// only grow.
type WriterCounters struct {
	Writes       uint64 // STATE_DB HSETs acknowledged
	Deletes      uint64 // STATE_DB DELs sent
	StaleDeletes uint64 // STATE_DB entries deleted after a dump: their links were gone
	Coalesced    uint64 // updates folded into a pending one for the same port
	Unchanged    uint64 // updates dropped: STATE_DB already held that state
	RoundTrips   uint64 // pipelines written to Redis
	Errors       RedisErrors
	// ServerRestarts are Redis restarts noticed (owned state rewritten).
	ServerRestarts uint64
	// HeldBack are ports whose HSET waits for their APPL_DB entry or a
	// retry.
	HeldBack int
}
