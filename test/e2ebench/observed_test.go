package e2ebench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Observed is portsyncd's latency row measured again while observers
// hammer it, next to the quiet row of the same rate.
type Observed struct {
	Latency
	Clients     int
	Requests    int     // HTTP requests answered during the run
	RequestsSec float64 // per second
	Dumps       int     // SIGUSR1 state dumps asked for
}

// observedRow measures s at rate while observerClients clients loop on
// /metrics, /readyz and /debug/actors as fast as they are answered, and a
// SIGUSR1 state dump is asked for every 100 ms: what operators and
// monitoring may do to a running daemon must not slow its data path.
func (w *world) observedRow(s *subject, rate int, d time.Duration) Observed {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var answered, dumps atomic.Int64
	c := w.ns.HTTPClient()
	c.Timeout = 5 * time.Second
	paths := []string{"/metrics", "/readyz", "/debug/actors"}
	for i := range observerClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:9123"+paths[i%len(paths)], nil)
				if resp, err := c.Do(req); err == nil {
					resp.Body.Close()
					answered.Add(1)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if s.proc.Cmd.Process.Signal(syscall.SIGUSR1) == nil {
					dumps.Add(1)
				}
			}
		}
	}()
	start := time.Now()
	l := w.latencyRow(s, rate, d)
	took := time.Since(start)
	cancel()
	wg.Wait()
	l.Name = fmt.Sprintf("%s %d/s obs", s.name, rate)
	return Observed{Latency: l, Clients: observerClients, Requests: int(answered.Load()),
		RequestsSec: float64(answered.Load()) / took.Seconds(), Dumps: int(dumps.Load())}
}

// observerClients hammer the metrics listener at once.
const observerClients = 60
