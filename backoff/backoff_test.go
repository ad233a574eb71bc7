package backoff

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const ms = time.Millisecond

func TestNext(t *testing.T) {
	tests := []struct {
		name         string
		initial, max time.Duration
		want         []time.Duration
	}{
		{"doubles to the cap", 50 * ms, 400 * ms, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 400 * ms}},
		{"a cap between two doublings", 100 * ms, 250 * ms, []time.Duration{100 * ms, 200 * ms, 250 * ms, 250 * ms}},
		{"initial equals the cap", time.Second, time.Second, []time.Duration{time.Second, time.Second}},
		{"a cap near the largest duration does not overflow", time.Duration(math.MaxInt64 / 3), time.Duration(math.MaxInt64),
			[]time.Duration{time.Duration(math.MaxInt64 / 3), time.Duration(math.MaxInt64/3) * 2, time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(tt.initial, tt.max)
			var got []time.Duration
			for range tt.want {
				got = append(got, b.Next())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReset(t *testing.T) {
	b := New(10*ms, time.Second)
	b.Next()
	b.Next()
	b.Reset()
	if got := b.Next(); got != 10*ms {
		t.Errorf("Next after Reset = %v, want 10ms", got)
	}
	if got := b.Next(); got != 20*ms {
		t.Errorf("second Next after Reset = %v, want 20ms", got)
	}
}

func TestNewPanicsOnBadBounds(t *testing.T) {
	for _, tt := range []struct{ initial, max time.Duration }{{0, time.Second}, {-ms, time.Second}, {time.Second, ms}} {
		t.Run(fmt.Sprint(tt.initial, "/", tt.max), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%v, %v) did not panic", tt.initial, tt.max)
				}
			}()
			New(tt.initial, tt.max)
		})
	}
}

func TestWait(t *testing.T) {
	t.Run("waits the wait", func(t *testing.T) {
		b := New(20*ms, time.Second)
		start := time.Now()
		if !b.Wait(nil) {
			t.Fatal("Wait = false with done never closed")
		}
		if el := time.Since(start); el < 20*ms {
			t.Errorf("Wait returned after %v, want at least 20ms", el)
		}
		if got := b.Next(); got != 40*ms {
			t.Errorf("Next after one Wait = %v, want 40ms: Wait must use up a wait", got)
		}
	})
	t.Run("returns when done closes", func(t *testing.T) {
		b := New(time.Hour, time.Hour)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if b.Wait(ctx.Done()) {
			t.Error("Wait = true with done closed and an hour to wait")
		}
	})
}
