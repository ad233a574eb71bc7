package portstate

import (
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
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

// Classify applies SONiC's link-message filters (docs/SONIC_CONTRACT.md
// section 4) to ev, in the order of sonic.Filters. isOld reports the
// ifindexes of old interfaces.
func Classify(ev messages.LinkEvent, isOld func(uint32) bool) (Verdict, sonic.Reason) {
	switch {
	case ev.Family != 0:
		return Ignore, sonic.ReasonFamily
	case !sonic.IsPortName(ev.Name):
		return Ignore, sonic.ReasonName
	case ev.InfoKind == sonic.TeamKind:
		return Ignore, sonic.ReasonTeam
	case ev.Kind == messages.DelLink && ev.Master != 0:
		return Ignore, sonic.ReasonMaster
	case isOld(ev.Index):
		return Ignore, sonic.ReasonOld
	case ev.Kind == messages.DelLink:
		return Delete, sonic.ReasonNone
	}
	return Update, sonic.ReasonNone
}

// StateOf returns the STATE_DB state a NEWLINK carries.
func StateOf(ev messages.LinkEvent) messages.PortState {
	return messages.PortState{AdminUp: ev.AdminUp(), OperUp: ev.OperUp(), MTU: ev.MTU}
}

// OldInterfaces returns the links of the start-up dump that SONiC treats as
// old interfaces (section 2, step 6): on a cold start of anything but a DPU,
// every Ethernet netdev that exists already. They are brought down and
// ignored.
func OldInterfaces(dump []messages.LinkEvent, warm bool, switchType string) []messages.LinkEvent {
	if warm || switchType == sonic.SwitchTypeDPU {
		return nil
	}
	var old []messages.LinkEvent
	for _, ev := range dump {
		if ev.Kind == messages.NewLink && ev.Family == 0 && sonic.IsOldInterfaceName(ev.Name) {
			old = append(old, ev)
		}
	}
	return old
}

// Pending returns the configured ports that PortInitDone waits for (section
// 2, steps 4 and 5): all of them, but on a cold start not those whose
// consumed APPL_DB entry already has sonic.FieldAdminStatus (initialized).
func Pending(configured []string, initialized map[string]bool, warm bool) []string {
	pending := make([]string, 0, len(configured))
	for _, p := range configured {
		if warm || !initialized[p] {
			pending = append(pending, p)
		}
	}
	return pending
}
