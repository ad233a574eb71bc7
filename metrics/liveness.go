package metrics

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Liveness is a HealthFunc's memory: when each actor last answered, and
// whether the supervision tree has stopped. The supervisor's watchdog calls
// Answered for each answer it gets and Stopped when the tree is gone; Check
// is the HealthFunc.
type Liveness struct {
	maxAge time.Duration
	now    func() time.Time

	mu      sync.Mutex
	last    map[string]time.Time
	stopped error
}

// NewLiveness expects an answer from each of actors at least every maxAge.
// Creation counts as a first answer, so start-up has maxAge to get going.
func NewLiveness(maxAge time.Duration, actors ...string) *Liveness {
	return newLiveness(maxAge, time.Now, actors...)
}

func newLiveness(maxAge time.Duration, now func() time.Time, actors ...string) *Liveness {
	l := &Liveness{maxAge: maxAge, now: now, last: make(map[string]time.Time, len(actors))}
	t := now()
	for _, a := range actors {
		l.last[a] = t
	}
	return l
}

// Answered records that actor answered now. An actor not named at creation
// is expected from now on.
func (l *Liveness) Answered(actor string) {
	t := l.now()
	l.mu.Lock()
	l.last[actor] = t
	l.mu.Unlock()
}

// Stopped records that the supervision tree stopped, and why; every Check
// fails from then on.
func (l *Liveness) Stopped(why error) {
	if why == nil {
		why = fmt.Errorf("stopped")
	}
	l.mu.Lock()
	if l.stopped == nil {
		l.stopped = why
	}
	l.mu.Unlock()
}

// Check returns nil when the tree runs and every actor answered within
// maxAge, else an error naming what is wrong. It is a HealthFunc.
func (l *Liveness) Check(context.Context) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped != nil {
		return fmt.Errorf("supervision tree stopped: %w", l.stopped)
	}
	var late []string
	for a, t := range l.last {
		if age := now.Sub(t); age > l.maxAge {
			late = append(late, fmt.Sprintf("%s (last answer %s ago)", a, age.Round(time.Millisecond)))
		}
	}
	if len(late) > 0 {
		slices.Sort(late)
		return fmt.Errorf("actors not answering within %s: %s", l.maxAge, strings.Join(late, ", "))
	}
	return nil
}
