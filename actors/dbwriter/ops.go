package dbwriter

import (
	"time"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

// stateOp is what is pending for one STATE_DB PORT_TABLE key: an optional DEL
// followed by an optional HSET of the port's state.
type stateOp struct {
	del   bool
	set   bool
	state messages.PortState
	force bool
	// received is when the newest event behind a set was read from the
	// kernel; zero when unknown.
	received time.Time
}

// merge folds newer into older, as if older ran first: a DEL supersedes
// everything before it, and the newest state wins.
func merge(older, newer stateOp) stateOp {
	if newer.del {
		return newer
	}
	return stateOp{
		del:      older.del,
		set:      true,
		state:    newer.state,
		force:    older.force || newer.force,
		received: newer.received,
	}
}

// fields returns the HSET arguments for a port's state, in SONiC's order.
func fields(st messages.PortState) []any {
	fv := sonic.StateFields(st.AdminUp, st.OperUp, mtuString(st.MTU))
	args := make([]any, len(fv))
	for i, v := range fv {
		args[i] = v
	}
	return args
}
