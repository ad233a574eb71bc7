package portstate

import (
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

// Reasons a message is ignored, in the order SONiC checks them.
const (
	ReasonFamily = "family"         // not AF_UNSPEC (e.g. AF_BRIDGE)
	ReasonName   = "name"           // neither Ethernet* nor PortChannel*
	ReasonTeam   = "team"           // a team device: teamsyncd owns it
	ReasonMaster = "dellink_master" // DELLINK of a bridge or LAG member
	ReasonOld    = "old_interface"  // existed before a cold start
)

// Classify applies SONiC's link-message filters (SONIC_SPEC.md section 4) to
// ev. isOld reports the ifindexes of old interfaces.
func Classify(ev messages.LinkEvent, isOld func(uint32) bool) (Verdict, string) {
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
		return Delete, ""
	}
	return Update, ""
}

// StateOf returns the STATE_DB state a NEWLINK carries.
func StateOf(ev messages.LinkEvent) messages.PortState {
	return messages.PortState{AdminUp: ev.AdminUp(), OperUp: ev.OperUp(), MTU: ev.MTU}
}
