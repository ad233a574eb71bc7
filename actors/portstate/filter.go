package portstate

import (
	"strings"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonicdb"
)

// Verdict is what SONiC does with one link message.
type Verdict uint8

const (
	// Ignore: write nothing.
	Ignore Verdict = iota
	// Delete: DEL STATE_DB PORT_TABLE|<name>.
	Delete
	// Update: HSET the port's state into STATE_DB, if it is in APPL_DB.
	Update
)

// Reason says why a message is ignored; the order is SONiC's order of checks.
type Reason uint8

const (
	ReasonNone   Reason = iota
	ReasonFamily        // not AF_UNSPEC (e.g. AF_BRIDGE)
	ReasonName          // neither Ethernet* nor PortChannel*
	ReasonTeam          // a team device: teamsyncd owns it
	ReasonMaster        // DELLINK of a bridge or LAG member
	ReasonOld           // existed before a cold start
	numReasons
)

var reasonNames = [numReasons]string{"", "family", "name", "team", "dellink_master", "old_interface"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Reasons lists every reason a message is ignored, in SONiC's order.
func Reasons() []Reason {
	return []Reason{ReasonFamily, ReasonName, ReasonTeam, ReasonMaster, ReasonOld}
}

// Classify applies SONiC's link-message filters (SONIC_SPEC.md section 4) to
// ev. isOld reports the ifindexes of old interfaces.
func Classify(ev messages.LinkEvent, isOld func(uint32) bool) (Verdict, Reason) {
	switch {
	case ev.Family != 0:
		return Ignore, ReasonFamily
	case !sonicdb.IsPortName(ev.Name):
		return Ignore, ReasonName
	case ev.InfoKind == "team":
		return Ignore, ReasonTeam
	case ev.Kind == messages.DelLink && ev.Master != 0:
		return Ignore, ReasonMaster
	case isOld(ev.Index):
		return Ignore, ReasonOld
	case ev.Kind == messages.DelLink:
		return Delete, ReasonNone
	}
	return Update, ReasonNone
}

// StateOf returns the STATE_DB state a NEWLINK carries.
func StateOf(ev messages.LinkEvent) messages.PortState {
	return messages.PortState{AdminUp: ev.AdminUp(), OperUp: ev.OperUp(), MTU: ev.MTU}
}

// OldInterfaces returns the links of the start-up dump that SONiC treats as
// old interfaces (section 2.6): on a cold start of anything but a DPU, every
// Ethernet netdev that exists already. They are brought down and ignored.
func OldInterfaces(dump []messages.LinkEvent, warm bool, switchType string) []messages.LinkEvent {
	if warm || switchType == "dpu" {
		return nil
	}
	var old []messages.LinkEvent
	for _, ev := range dump {
		if ev.Kind == messages.NewLink && ev.Family == 0 && strings.HasPrefix(ev.Name, "Ethernet") {
			old = append(old, ev)
		}
	}
	return old
}

// Pending returns the configured ports that PortInitDone waits for (section
// 2, steps 4 and 5): all of them, but on a cold start not those whose
// consumed APPL_DB entry already has admin_status (initialized).
func Pending(configured []string, initialized map[string]bool, warm bool) []string {
	pending := make([]string, 0, len(configured))
	for _, p := range configured {
		if warm || !initialized[p] {
			pending = append(pending, p)
		}
	}
	return pending
}
