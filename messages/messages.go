// Package messages holds the typed messages that flow between portsyncd's
// actors.
//
// Each type says who sends it and who receives it. Messages are small values;
// none carries a channel, a socket or a Redis client.
package messages

import "time"

// EventKind says whether a link message announced or removed a link.
type EventKind uint8

const (
	// NewLink is RTM_NEWLINK: the link exists, with the state it carries.
	NewLink EventKind = iota + 1
	// DelLink is RTM_DELLINK: the link is gone.
	DelLink
)

func (k EventKind) String() string {
	switch k {
	case NewLink:
		return "newlink"
	case DelLink:
		return "dellink"
	}
	return "unknown"
}

// Interface flags from <linux/if.h> that SONiC reads.
const (
	FlagUp      = 0x1  // IFF_UP: administratively up.
	FlagRunning = 0x40 // IFF_RUNNING: operationally up (carrier).
)

// LinkEvent is one decoded rtnetlink link message.
type LinkEvent struct {
	Kind     EventKind
	Family   uint8  // ifi_family; SONiC semantics need AF_UNSPEC (0) only.
	Index    uint32 // ifindex
	Name     string // IFLA_IFNAME
	Flags    uint32 // ifi_flags
	MTU      uint32 // IFLA_MTU
	Master   uint32 // IFLA_MASTER, 0 when none
	InfoKind string // IFLA_INFO_KIND inside IFLA_LINKINFO, "" when absent
}

// AdminUp reports IFF_UP.
func (e LinkEvent) AdminUp() bool { return e.Flags&FlagUp != 0 }

// OperUp reports IFF_RUNNING.
func (e LinkEvent) OperUp() bool { return e.Flags&FlagRunning != 0 }

// LinkBatch is sent by netlinkrx to portstate: the link messages of one
// socket read, in kernel order.
type LinkBatch struct {
	Events []LinkEvent
	// Received is when the read that produced the batch returned: the start
	// of the end-to-end latency.
	Received time.Time
	// Dump marks a complete snapshot of the kernel's links (start-up or
	// resynchronisation): links portstate knows that are not in it are gone.
	Dump bool
}

// PortState is what portsyncd writes to STATE_DB PORT_TABLE|<name>.
type PortState struct {
	AdminUp bool
	OperUp  bool
	MTU     uint32
}

// PortOp is one STATE_DB PORT_TABLE|<Port> operation decided by portstate:
// an optional DEL, then an optional HSET of State (merged into the hash, and
// only while APPL_DB PORT_TABLE:<Port> exists).
type PortOp struct {
	Port  string
	Del   bool
	Set   bool
	State PortState
	// Force writes even when STATE_DB already holds this state, as after a
	// resynchronisation.
	Force bool
	// Received is the LinkBatch's receive time.
	Received time.Time
}

// StateOps is sent by portstate to dbwriter, one per handled LinkBatch (and
// one when the pending set empties): what SONiC needs written.
type StateOps struct {
	Ops []PortOp
	// Present, after a complete dump, are the names of every link in it:
	// STATE_DB entries a portsyncd wrote for other names are stale (their
	// DELLINK was lost) and are deleted.
	Present map[string]bool
	// InitDone asks for PortInitDone: every configured port's state was
	// acknowledged by Redis. dbwriter publishes it once per run.
	InitDone bool
}

// StateWritten is sent by dbwriter to portstate: Redis acknowledged the
// STATE_DB writes of these ports.
type StateWritten struct {
	Ports []string
}

// ResyncRequest asks netlinkrx for a fresh dump of all links. Sent to
// netlinkrx by an actor that restarted and must rebuild its state, and on an
// operator's request (SIGHUP).
type ResyncRequest struct {
	Reason string
}

// Flush is sent during shutdown. The receiver answers with Flushed once
// everything it was given has been passed on (portstate) or acknowledged by
// Redis (dbwriter).
type Flush struct{}

// Flushed answers Flush.
type Flushed struct {
	// Unwritten are ports whose newest state Redis refused (dbwriter): the
	// flush is complete, but their STATE_DB entry is not what the kernel
	// says.
	Unwritten []string
}

// Heartbeat is the watchdog's question to every actor; an actor that can run
// its Receive answers Alive.
type Heartbeat struct{}

// Alive answers Heartbeat.
type Alive struct{}

// DumpState asks an actor for its state (SIGUSR1).
type DumpState struct{}

// StateDump answers DumpState.
type StateDump struct {
	Actor string
	State map[string]any
}

// InjectFault makes an actor fail on purpose. Only binaries built with the
// faultinject tag send it (see cmd/portsyncd); it exists so that tests can
// prove the supervision. Target is "netlinkrx", "portstate", or "dbwriter".
type InjectFault struct {
	Target string
	// Wedge blocks the actor for good instead of panicking.
	Wedge bool
}

// Essential marks LinkBatch, StateOps and StateWritten as the data path's
// messages, which a bounded mailbox never drops (see package actors).
func (*LinkBatch) Essential() {}

// Essential: see LinkBatch.
func (*StateOps) Essential() {}

// Essential: see LinkBatch.
func (*StateWritten) Essential() {}
