package metrics

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// countingGatherer counts how often a scrape is gathered.
type countingGatherer struct {
	prometheus.Gatherer
	n atomic.Int64
}

func (g *countingGatherer) Gather() ([]*dto.MetricFamily, error) {
	g.n.Add(1)
	return g.Gatherer.Gather()
}

// However many scrapes come within the cache's lifetime, the registry is
// gathered and encoded once; every client gets the same body.
func TestCachedScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "x"})
	reg.MustRegister(c)
	g := &countingGatherer{Gatherer: reg}
	h := newCachedScrape(g, time.Hour)
	var first string
	for i := range 50 {
		c.Inc()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("scrape %d: %d", i, rec.Code)
		}
		if i == 0 {
			first = rec.Body.String()
		} else if rec.Body.String() != first {
			t.Fatalf("scrape %d differs from the cached one", i)
		}
	}
	if g.n.Load() != 1 {
		t.Errorf("gathered %d times, want 1", g.n.Load())
	}
	h.ttl = 0
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if g.n.Load() != 2 || rec.Body.String() == first {
		t.Errorf("after the cache expired: gathered %d times, body unchanged %v", g.n.Load(), rec.Body.String() == first)
	}
}

// The listener hands out at most n connections at a time; a closed one
// frees its slot.
func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(ln, 2, 1000, 10)
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	var got []net.Conn
	for range 2 {
		select {
		case c := <-accepted:
			got = append(got, c)
		case <-time.After(5 * time.Second):
			t.Fatal("fewer than 2 connections accepted")
		}
	}
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted while 2 were open")
	case <-time.After(100 * time.Millisecond):
	}
	got[0].Close()
	got[0].Close() // closing twice is harmless
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the third connection was not accepted after one closed")
	}
}

// Beyond its burst, the listener accepts at its rate: connections made all
// at once are accepted over time.
func TestLimitListenerRate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const rate, burst, n = 50, 5, 15
	l := newLimitListener(ln, n, rate, burst)
	defer l.Close()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	start := time.Now()
	for range n {
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	// The first burst at once, the other n-burst at 20 ms each.
	if took, least := time.Since(start), time.Duration(n-burst)*time.Second/rate; took < least {
		t.Errorf("accepted %d connections in %v, want at least %v", n, took, least)
	}
}
