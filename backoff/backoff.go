package backoff

import (
	"fmt"
	"time"
)

// Backoff yields the waits between retries: Initial, then twice the last,
// never more than Max, until Reset. It is not safe for concurrent use; each
// retry loop keeps its own.
type Backoff struct {
	initial, max, next time.Duration
}

// New returns a Backoff whose first wait is initial and whose waits grow to
// max. It panics unless 0 < initial <= max: the callers' values are
// constants or flags checked at start.
func New(initial, max time.Duration) Backoff {
	if initial <= 0 || max < initial {
		panic(fmt.Sprintf("backoff: New(%v, %v): want 0 < initial <= max", initial, max))
	}
	return Backoff{initial: initial, max: max, next: initial}
}

// Next returns the wait before the coming retry and doubles the one after,
// up to the cap.
func (b *Backoff) Next() time.Duration {
	d := b.next
	if b.next > b.max/2 {
		b.next = b.max
	} else {
		b.next *= 2
	}
	return d
}

// Reset makes the next wait the initial one again, after a success.
func (b *Backoff) Reset() { b.next = b.initial }

// Wait waits for Next() and reports true, or returns false as soon as done
// is closed (a context's Done, a stop channel).
func (b *Backoff) Wait(done <-chan struct{}) bool {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
