package messages

import "sync/atomic"

// Credits bounds how many link batches are in flight between netlinkrx and
// portstate: netlinkrx takes one before it sends a batch and portstate returns
// it when the batch is handled. When none is left netlinkrx stops reading, the
// kernel queues events in the socket buffer, and an overrun there is answered
// by a resynchronisation: flow control without an unbounded mailbox.
type Credits struct {
	slots chan struct{}
	// starved counts the times a sender found no credit and had to wait.
	starved atomic.Uint64
}

// NewCredits returns a counter with n credits.
func NewCredits(n int) *Credits {
	return &Credits{slots: make(chan struct{}, n)}
}

// Acquire blocks until a credit is free or stop is closed; it reports whether
// it got one.
func (c *Credits) Acquire(stop <-chan struct{}) bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	c.starved.Add(1)
	select {
	case c.slots <- struct{}{}:
		return true
	case <-stop:
		return false
	}
}

// Release returns one credit. Releasing more than was taken is a no-op, so a
// restarted receiver may release credits for batches of its predecessor.
func (c *Credits) Release() {
	select {
	case <-c.slots:
	default:
	}
}

// Reset returns every credit; used when the receiver of the batches restarts.
func (c *Credits) Reset() {
	for {
		select {
		case <-c.slots:
		default:
			return
		}
	}
}

// InUse returns the number of credits taken.
func (c *Credits) InUse() int { return len(c.slots) }

// Starved returns how often a sender had to wait for a credit.
func (c *Credits) Starved() uint64 { return c.starved.Load() }
