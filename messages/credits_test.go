package messages

import (
	"testing"
	"time"
)

func TestCredits(t *testing.T) {
	c := NewCredits(2)
	stop := make(chan struct{})
	if !c.Acquire(stop) || !c.Acquire(stop) {
		t.Fatal("could not take the credits there are")
	}
	if c.InUse() != 2 || c.Starved() != 0 {
		t.Fatalf("InUse %d Starved %d, want 2 0", c.InUse(), c.Starved())
	}

	got := make(chan bool)
	go func() { got <- c.Acquire(stop) }()
	select {
	case <-got:
		t.Fatal("Acquire did not wait with no credit left")
	case <-time.After(50 * time.Millisecond):
	}
	c.Release()
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("Acquire failed after a Release")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire still blocked after a Release")
	}
	if c.Starved() != 1 {
		t.Errorf("Starved = %d, want 1", c.Starved())
	}

	go func() { got <- c.Acquire(stop) }()
	close(stop)
	select {
	case ok := <-got:
		if ok {
			t.Error("Acquire got a credit that does not exist")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire did not return when stopped")
	}

	c.Reset()
	if c.InUse() != 0 {
		t.Errorf("InUse after Reset = %d", c.InUse())
	}
	c.Release() // more than taken: no-op
	if c.InUse() != 0 {
		t.Errorf("InUse after an extra Release = %d", c.InUse())
	}
}
