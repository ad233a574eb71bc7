package messages

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// patience bounds every wait for something that must happen. It is generous
// so that a loaded machine does not fail the tests; only a bug reaches it.
const patience = 10 * time.Second

// TestCreditsSequences runs single-goroutine sequences with stop already
// closed, so that an Acquire finding no credit returns false at once instead
// of blocking.
func TestCreditsSequences(t *testing.T) {
	type result struct {
		Acquired []bool // result of each Acquire, in order
		InUse    int
		Starved  uint64
	}
	tests := []struct {
		name     string
		capacity int
		ops      string // a: Acquire, r: Release, x: Reset
		want     result
	}{
		{"acquire up to capacity", 3, "aaa", result{[]bool{true, true, true}, 3, 0}},
		{"one past capacity", 3, "aaaa", result{[]bool{true, true, true, false}, 3, 1}},
		{"every try past capacity counts", 1, "aaaa", result{[]bool{true, false, false, false}, 1, 3}},
		{"release frees one", 2, "aara", result{[]bool{true, true, true}, 2, 0}},
		{"release then acquire past capacity", 2, "aaraa", result{[]bool{true, true, true, false}, 2, 1}},
		{"release on none taken is a no-op", 2, "rraaa", result{[]bool{true, true, false}, 2, 1}},
		{"release more than taken is a no-op", 2, "arrrr", result{[]bool{true}, 0, 0}},
		{"extra releases do not add credits", 1, "arraa", result{[]bool{true, true, false}, 1, 1}},
		{"reset returns all", 3, "aaax", result{[]bool{true, true, true}, 0, 0}},
		{"reset then full capacity again", 2, "aaxaaa", result{[]bool{true, true, true, true, false}, 2, 1}},
		{"reset on none taken", 2, "xa", result{[]bool{true}, 1, 0}},
		{"starved survives reset", 1, "aaxa", result{[]bool{true, false, true}, 1, 1}},
		{"zero capacity never grants", 0, "aara", result{[]bool{false, false, false}, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop := make(chan struct{})
			close(stop)
			c := NewCredits(tt.capacity)
			var got result
			for i, op := range tt.ops {
				switch op {
				case 'a':
					got.Acquired = append(got.Acquired, c.Acquire(stop))
				case 'r':
					c.Release()
				case 'x':
					c.Reset()
				default:
					t.Fatalf("bad op %q at %d", op, i)
				}
			}
			got.InUse, got.Starved = c.InUse(), c.Starved()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("after %q (-want +got):\n%s", tt.ops, diff)
			}
		})
	}
}

// fill takes every credit of c, failing if any Acquire would block.
func fill(t *testing.T, c *Credits, n int) {
	t.Helper()
	closed := make(chan struct{})
	close(closed)
	for i := range n {
		if !c.Acquire(closed) {
			t.Fatalf("Acquire %d of %d: no credit", i+1, n)
		}
	}
	if c.Starved() != 0 {
		t.Fatalf("Starved = %d while taking the credits there are", c.Starved())
	}
}

// waitStarved waits until a blocked Acquire has counted itself starved:
// it is then waiting, or about to, in its second select.
func waitStarved(t *testing.T, c *Credits, want uint64) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for c.Starved() < want {
		if time.Now().After(deadline) {
			t.Fatalf("Starved = %d after %v, want %d", c.Starved(), patience, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCreditsAcquireBlocks(t *testing.T) {
	tests := []struct {
		name   string
		unpark func(c *Credits, stop chan struct{})
		want   bool  // Acquire's result
		inUse  []int // acceptable InUse after Acquire returned
	}{
		{"until release", func(c *Credits, _ chan struct{}) { c.Release() }, true, []int{2}},
		// Reset drains until the channel is empty, and a parked sender's
		// credit enters the buffer as Reset takes the first one: Reset then
		// returns the waiter's new credit too (InUse 0), unless the waiter
		// had counted itself starved but not yet parked (InUse 1).
		{"until reset", func(c *Credits, _ chan struct{}) { c.Reset() }, true, []int{0, 1}},
		{"until stop closes", func(_ *Credits, stop chan struct{}) { close(stop) }, false, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCredits(2)
			fill(t, c, 2)
			stop := make(chan struct{})
			got := make(chan bool, 1)
			go func() { got <- c.Acquire(stop) }()
			waitStarved(t, c, 1)
			// Nothing has freed a credit: Acquire must still be waiting.
			select {
			case ok := <-got:
				t.Fatalf("Acquire returned %v with no credit free and stop open", ok)
			case <-time.After(20 * time.Millisecond):
			}
			tt.unpark(c, stop)
			select {
			case ok := <-got:
				if ok != tt.want {
					t.Errorf("Acquire = %v, want %v", ok, tt.want)
				}
			case <-time.After(patience):
				t.Fatalf("Acquire still blocked %v later", patience)
			}
			if !slices.Contains(tt.inUse, c.InUse()) || c.Starved() != 1 {
				t.Errorf("InUse %d Starved %d, want one of %v and 1", c.InUse(), c.Starved(), tt.inUse)
			}
		})
	}
}

// TestCreditsBound has many senders and releasers race; run with -race. The
// number of holders must never exceed the capacity and every credit must
// come back.
func TestCreditsBound(t *testing.T) {
	for _, capacity := range []int{1, 3} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			const workers, rounds = 8, 200
			c := NewCredits(capacity)
			stop := make(chan struct{})
			var holders, maxHolders atomic.Int64
			var failed atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range rounds {
						if !c.Acquire(stop) {
							failed.Add(1)
							return
						}
						n := holders.Add(1)
						for {
							m := maxHolders.Load()
							if n <= m || maxHolders.CompareAndSwap(m, n) {
								break
							}
						}
						// A channel's length never exceeds its capacity, so
						// only the lower bound says something: the credit
						// Acquire granted is counted.
						if in := c.InUse(); in < 1 {
							t.Errorf("InUse = %d while holding a credit", in)
						}
						holders.Add(-1)
						c.Release()
					}
				})
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(patience):
				close(stop)
				t.Fatalf("workers still running after %v: a credit was lost", patience)
			}
			if failed.Load() != 0 {
				t.Errorf("%d Acquires failed with stop open", failed.Load())
			}
			if m := maxHolders.Load(); m > int64(capacity) || m < 1 {
				t.Errorf("at most %d holders at once, want 1..%d", m, capacity)
			}
			if c.InUse() != 0 {
				t.Errorf("InUse = %d after every credit was released", c.InUse())
			}
		})
	}
}
