package logging

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sonic-go/portsyncd/backoff"
)

// Defaults of a sink.
const (
	// DefaultQueue is how many encoded lines wait for a destination before
	// new ones are dropped.
	DefaultQueue = 1024
	// flushTimeout bounds how long Close waits for queued lines to go out.
	flushTimeout = 2 * time.Second
	// minBackoff and maxBackoff bound the wait between reconnections.
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// totalDropped counts lines dropped by every sink of the process.
var totalDropped atomic.Uint64

// Dropped returns how many log lines every syslog and journald output of the
// process has dropped so far: because its queue was full (the destination
// was slow or down), because it was closed, or because a line was too large
// for the destination to take.
func Dropped() uint64 { return totalDropped.Load() }

// framing is how messages are delimited on a connection.
type framing int

const (
	datagram      framing = iota // one message per datagram (unixgram, UDP)
	octetCounting                // "LEN SP MSG" on a stream (RFC 6587 section 3.4.1)
	// journalDatagram is one entry per datagram, and an entry too large for
	// one in a sealed memfd passed over the socket (sendJournalFD).
	journalDatagram
)

// sink delivers encoded lines to one destination. Lines wait in a bounded
// queue; one goroutine (run) writes them, connecting, and after a failure
// reconnecting with exponential backoff, for ever. A line that finds the
// queue full is dropped and counted: the caller never waits on the
// destination.
type sink struct {
	q       chan *[]byte
	dial    func() (net.Conn, error)
	framing framing
	dropped atomic.Uint64
	closed  atomic.Bool

	quit      chan struct{} // closed by Close: flush, then stop
	abort     chan struct{} // closed when the flush takes too long
	done      chan struct{} // closed when run returns
	closeOnce sync.Once

	mu   sync.Mutex
	conn net.Conn // the current connection, for abort to unblock a write
}

func newSink(queue int, f framing, dial func() (net.Conn, error)) *sink {
	if queue <= 0 {
		queue = DefaultQueue
	}
	s := &sink{
		q:       make(chan *[]byte, queue),
		dial:    dial,
		framing: f,
		quit:    make(chan struct{}),
		abort:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.run()
	return s
}

// enqueue hands b to the writer, or drops it (and returns it to the pool)
// when the queue is full or the sink closed.
func (s *sink) enqueue(b *[]byte) {
	if s.closed.Load() {
		s.drop(b)
		return
	}
	select {
	case s.q <- b:
	default:
		s.drop(b)
	}
}

func (s *sink) drop(b *[]byte) {
	s.dropped.Add(1)
	totalDropped.Add(1)
	putBuf(b)
}

// Close writes what is queued, waiting at most flushTimeout, and stops the
// writer. Lines logged after Close are dropped.
func (s *sink) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.quit)
		t := time.NewTimer(flushTimeout)
		defer t.Stop()
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		close(s.abort)
		s.mu.Lock()
		if s.conn != nil {
			_ = s.conn.SetWriteDeadline(time.Unix(1, 0)) // unblock a write in progress
		}
		s.mu.Unlock()
		<-s.done
	})
	return nil
}

func (s *sink) run() {
	defer close(s.done)
	defer s.setConn(nil)
	retry := backoff.New(minBackoff, maxBackoff)
	for {
		var b *[]byte
		select {
		case b = <-s.q:
		case <-s.quit:
			select {
			case b = <-s.q:
			default:
				return
			}
		}
		if !s.deliver(b, &retry) {
			s.drop(b)
			for {
				select {
				case b := <-s.q:
					s.drop(b)
				default:
					return
				}
			}
		}
		putBuf(b)
	}
}

// deliver writes b, (re)connecting as needed. It returns false only when
// the sink is aborted before b could be written.
func (s *sink) deliver(b *[]byte, retry *backoff.Backoff) bool {
	for {
		c := s.getConn()
		if c == nil {
			var err error
			if c, err = s.dial(); err != nil {
				if !retry.Wait(s.abort) {
					return false
				}
				continue
			}
			s.setConn(c)
		}
		err := s.write(c, *b)
		if s.framing == journalDatagram && (errors.Is(err, syscall.EMSGSIZE) || errors.Is(err, syscall.ENOBUFS)) {
			// As sd_journal_sendv does: what a datagram cannot hold
			// goes in a memfd. Should that fail too, it is dropped.
			if sendJournalFD(c, *b) == nil {
				err = nil
			} else {
				err = syscall.EMSGSIZE
			}
		}
		if err == nil {
			retry.Reset()
			return true
		}
		if errors.Is(err, syscall.EMSGSIZE) {
			// Too large for this destination, now and later.
			s.dropped.Add(1)
			totalDropped.Add(1)
			return true
		}
		s.setConn(nil)
		if !retry.Wait(s.abort) {
			return false
		}
	}
}

func (s *sink) write(c net.Conn, msg []byte) error {
	if s.framing != octetCounting {
		_, err := c.Write(msg)
		return err
	}
	var hdr [24]byte
	h := append(strconv.AppendInt(hdr[:0], int64(len(msg)), 10), ' ')
	bufs := net.Buffers{h, msg}
	_, err := bufs.WriteTo(c)
	return err
}

func (s *sink) getConn() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

func (s *sink) setConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && s.conn != c {
		_ = s.conn.Close()
	}
	s.conn = c
}
