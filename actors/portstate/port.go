package portstate

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
)

// errand is one event's work for a port actor. The router allocates a
// batch's errands in one slice; a pointer to an errand is the message to the
// port actor, its write or delete is the message to dbwriter, and the same
// pointer comes back to the router as the acknowledgement. So routing an
// event allocates nothing.
type errand struct {
	seq    uint64 // the batch, for the router's credit accounting
	del    bool
	write  messages.StateWrite
	delete messages.StateDelete
}

// port is the actor of one port name, the STATE_DB key it writes. All writes
// of a key come from its one actor, so they reach dbwriter in order.
type port struct {
	name     string
	dbwriter *actor.PID
	last     messages.PortState
	exists   bool
}

func (p *port) Receive(ctx actor.Context) {
	defer actors.Rethrow()
	switch msg := ctx.Message().(type) {
	case *errand:
		if msg.del {
			p.exists = false
			ctx.Send(p.dbwriter, &msg.delete)
		} else {
			p.last, p.exists = msg.write.State, true
			ctx.Send(p.dbwriter, &msg.write)
		}
		ctx.Send(ctx.Parent(), msg)
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.DumpState:
		ctx.Respond(&messages.StateDump{Actor: "port", State: map[string]any{
			"name": p.name, "exists": p.exists, "admin_up": p.last.AdminUp,
			"oper_up": p.last.OperUp, "mtu": p.last.MTU,
		}})
	}
}
