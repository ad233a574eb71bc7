package actors

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// DefaultMailboxLimit bounds every actor's mailbox. The data path never
// comes near it (see this package's doc: at most a batch or two wait); it
// caps what observers and other goroutines can pile up, for instance while
// an actor is wedged and before the watchdog ends the process.
const DefaultMailboxLimit = 64

// Mailbox is an actor's mailbox with a hard bound on its user messages: a
// message posted while limit wait is dropped and counted, never queued and
// never waited for (protoactor-go's bounded mailbox busy-spins its sender
// instead). A request dropped so is answered by its future's timeout.
// System messages (start, restart, stop) and Essential messages are never
// dropped.
//
// A restarted actor keeps its mailbox, so the figures follow it across
// restarts.
type Mailbox struct {
	limit     int32
	depth     atomic.Int32
	peak      atomic.Int32
	dropped   atomic.Uint64
	suspended atomic.Bool // the actor failed and awaits its restart
}

// NewMailbox returns a mailbox bounded to limit user messages.
func NewMailbox(limit int) *Mailbox { return &Mailbox{limit: int32(limit)} }

// Option makes m the actor's mailbox; it may serve one actor only.
func (m *Mailbox) Option() actor.PropsOption {
	return actor.WithMailbox(func() actor.Mailbox {
		return &boundedMailbox{Mailbox: actor.Unbounded()(), m: m}
	})
}

// Depth returns the user messages waiting.
func (m *Mailbox) Depth() int { return int(m.depth.Load()) }

// Peak returns the most user messages that ever waited at once.
func (m *Mailbox) Peak() int { return int(m.peak.Load()) }

// Dropped returns the user messages dropped because limit were waiting.
func (m *Mailbox) Dropped() uint64 { return m.dropped.Load() }

// Limit returns the bound.
func (m *Mailbox) Limit() int { return int(m.limit) }

// Essential marks the messages of the data path (a link batch, the ops
// decided from it, their acknowledgement, an actor's note to itself). A
// Mailbox never drops them: dropping one would lose state. They are bounded
// by how the Loop runs (see this package's doc), not by the limit, which is
// for what other goroutines post.
type Essential interface{ Essential() }

type boundedMailbox struct {
	actor.Mailbox
	m *Mailbox
}

func (b *boundedMailbox) PostUserMessage(msg any) {
	m := b.m
	n := m.depth.Add(1)
	if n > m.limit && !essential(msg) {
		m.depth.Add(-1)
		m.dropped.Add(1)
		return
	}
	for p := m.peak.Load(); n > p && !m.peak.CompareAndSwap(p, n); p = m.peak.Load() {
	}
	b.Mailbox.PostUserMessage(msg)
}

func (b *boundedMailbox) PostSystemMessage(msg any) {
	switch msg.(type) {
	case *actor.SuspendMailbox:
		b.m.suspended.Store(true)
	case *actor.ResumeMailbox:
		b.m.suspended.Store(false)
	}
	b.Mailbox.PostSystemMessage(msg)
}

func (b *boundedMailbox) RegisterHandlers(inv actor.MessageInvoker, d actor.Dispatcher) {
	b.Mailbox.RegisterHandlers(&countingInvoker{MessageInvoker: inv, m: b.m}, d)
}

// UserMessageCount is the bounded count: the messages posted and not yet
// handed to the actor.
func (b *boundedMailbox) UserMessageCount() int { return b.m.Depth() }

// countingInvoker takes a message off the bound as it reaches the actor.
type countingInvoker struct {
	actor.MessageInvoker
	m *Mailbox
}

func (c *countingInvoker) InvokeUserMessage(msg any) {
	c.m.depth.Add(-1)
	c.MessageInvoker.InvokeUserMessage(msg)
}

func essential(msg any) bool {
	if env, ok := msg.(*actor.MessageEnvelope); ok {
		msg = env.Message
	}
	_, ok := msg.(Essential)
	return ok
}
