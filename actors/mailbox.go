package actors

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// MailboxGauge reads how many user messages wait in an actor's mailbox, for
// metrics and state dumps. A restarted actor keeps its mailbox, so the gauge
// follows it across restarts.
type MailboxGauge struct {
	mb atomic.Pointer[actor.Mailbox]
}

// Option makes the actor's mailbox protoactor-go's default (unbounded; see
// this package's doc for how its depth stays bounded) and watched by g.
func (g *MailboxGauge) Option() actor.PropsOption {
	return actor.WithMailbox(func() actor.Mailbox {
		m := actor.Unbounded()()
		g.mb.Store(&m)
		return m
	})
}

// Depth returns the messages waiting; 0 before the actor exists.
func (g *MailboxGauge) Depth() int {
	if m := g.mb.Load(); m != nil {
		return (*m).UserMessageCount()
	}
	return 0
}
