package sonic

// Reason says why a link event changed nothing in STATE_DB. Its String is
// the label of portsyncd_events_ignored_total{reason}.
type Reason uint8

const (
	ReasonNone Reason = iota
	// SONiC's filters on link messages (section 4), in the order they
	// are checked.
	ReasonFamily // not AF_UNSPEC (e.g. AF_BRIDGE)
	ReasonName   // neither Ethernet* nor PortChannel*
	ReasonTeam   // a team device: teamsyncd owns it
	ReasonMaster // DELLINK of a bridge or LAG member
	ReasonOld    // an old interface: existed before a cold start
	// portsyncd's own, after the filters.
	ReasonNotConfigured // not (yet) in APPL_DB PORT_TABLE: nothing written
	ReasonUnchanged     // a NEWLINK that changed nothing SONiC reads
	// NumReasons sizes arrays indexed by Reason.
	NumReasons
)

var reasonLabels = [NumReasons]string{"", "family", "name", "team", "dellink_master", "old_interface", "not_configured", "unchanged"}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonLabels[r]
	}
	return "unknown"
}

// Filters lists SONiC's filters' reasons, in the order they are checked.
func Filters() []Reason {
	return []Reason{ReasonFamily, ReasonName, ReasonTeam, ReasonMaster, ReasonOld}
}

// Reasons lists every reason an event is ignored: the filters', then
// portsyncd's own.
func Reasons() []Reason {
	return append(Filters(), ReasonNotConfigured, ReasonUnchanged)
}
