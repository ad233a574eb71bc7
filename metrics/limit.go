package metrics

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// What observing portsyncd may cost. The data path shares the process's
// few threads (GOMAXPROCS 1 by default) with the metrics server: however
// many clients poll, at most maxConns connections are served at once and
// at most acceptRate a second are accepted (the rest wait in the kernel's
// accept queue, costing nothing here), and a scrape is encoded at most
// once per scrapeEvery. A Prometheus scrape every few seconds and an
// operator's curl are far below these.
const (
	maxConns    = 4
	acceptRate  = 100 // a second
	acceptBurst = 20
)

// scrapeEvery is a variable for the package's tests, which look at changes
// at once.
var scrapeEvery = time.Second

// limitListener accepts at most n connections at a time (Accept waits for
// one to close) and at most rate a second, in bursts of up to burst.
type limitListener struct {
	net.Listener
	slots chan struct{}
	every time.Duration
	burst time.Duration
	next  time.Time // when the next token is due; only Accept's goroutine uses it
}

func newLimitListener(ln net.Listener, n, rate, burst int) *limitListener {
	every := time.Second / time.Duration(rate)
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), every: every, burst: every * time.Duration(burst)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	// Tokens come every l.every; an idle listener saves up burst of them.
	now := time.Now()
	if floor := now.Add(l.every - l.burst); l.next.Before(floor) {
		l.next = floor
	}
	if wait := l.next.Sub(now); wait > 0 {
		time.Sleep(wait)
	}
	l.next = l.next.Add(l.every)
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// cachedScrape serves one encoded scrape to every request within ttl.
type cachedScrape struct {
	next http.Handler
	ttl  time.Duration

	mu     sync.Mutex
	at     time.Time
	header http.Header
	body   []byte
}

func newCachedScrape(reg prometheus.Gatherer, ttl time.Duration) *cachedScrape {
	// Uncompressed: a cached body serves every client alike, and the
	// scrape is small.
	return &cachedScrape{next: promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true}), ttl: ttl}
}

func (c *cachedScrape) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.body == nil || time.Since(c.at) >= c.ttl {
		rec := &recorder{header: make(http.Header), code: http.StatusOK}
		c.next.ServeHTTP(rec, r)
		if rec.code == http.StatusOK {
			c.header, c.body, c.at = rec.header, rec.body, time.Now()
		} else {
			c.mu.Unlock()
			rec.replay(w)
			return
		}
	}
	header, body := c.header, c.body
	c.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// recorder keeps a response to serve again.
type recorder struct {
	header http.Header
	code   int
	body   []byte
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { r.body = append(r.body, b...); return len(b), nil }

func (r *recorder) replay(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.code)
	w.Write(r.body)
}
