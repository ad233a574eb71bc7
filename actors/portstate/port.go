package portstate

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/sonic-go/portsyncd/actors"
	"github.com/sonic-go/portsyncd/messages"
)

// portUpdate and portDelete are sent by the router to a port actor; seq names
// the batch, which the port acknowledges with portDone.
type portUpdate struct {
	seq   uint64
	state messages.PortState
	force bool
}

type portDelete struct{ seq uint64 }

type portDone struct{ seq uint64 }

// port is the actor of one port name, the STATE_DB key it writes. All writes
// of a key come from its one actor, so they reach dbwriter in order.
type port struct {
	name     string
	dbwriter *actor.PID
	last     messages.PortState
	exists   bool
}

func (p *port) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *portUpdate:
		p.last, p.exists = msg.state, true
		ctx.Send(p.dbwriter, &messages.StateWrite{Port: p.name, State: msg.state, Force: msg.force})
		ctx.Send(ctx.Parent(), &portDone{seq: msg.seq})
	case *portDelete:
		p.exists = false
		ctx.Send(p.dbwriter, &messages.StateDelete{Port: p.name})
		ctx.Send(ctx.Parent(), &portDone{seq: msg.seq})
	case *messages.InjectFault:
		actors.Fail(msg)
	case *messages.DumpState:
		ctx.Respond(&messages.StateDump{Actor: "port", State: map[string]any{
			"name": p.name, "exists": p.exists, "admin_up": p.last.AdminUp,
			"oper_up": p.last.OperUp, "mtu": p.last.MTU,
		}})
	}
}
