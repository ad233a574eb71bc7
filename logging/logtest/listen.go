package logtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Listener receives syslog messages or journal datagrams on a real socket
// and keeps every one it received, raw, in order.
type Listener struct {
	// Addr is the address to hand the daemon: "unixgram:///tmp/.../log",
	// "udp://127.0.0.1:PORT" or "tcp://127.0.0.1:PORT" (for a journal
	// listener, the socket's path).
	Addr    string
	network string
	address string

	mu     sync.Mutex
	cond   *sync.Cond
	raw    [][]byte
	errs   []error
	closer io.Closer
	wg     sync.WaitGroup
}

// ListenSyslog listens on network ("unixgram", "udp" or "tcp") on a fresh
// address (a socket in a temporary directory, or a free port on 127.0.0.1)
// and stops on test cleanup.
func ListenSyslog(t testing.TB, network string) *Listener {
	t.Helper()
	l := &Listener{network: network}
	l.cond = sync.NewCond(&l.mu)
	switch network {
	case "unixgram":
		l.address = socketPath(t, "log.sock")
	case "udp", "tcp":
		l.address = "127.0.0.1:0"
	default:
		t.Fatalf("logtest: network %q", network)
	}
	l.listen(t)
	l.Addr = network + "://" + l.address
	t.Cleanup(l.Close)
	return l
}

// ListenJournal listens on a unixgram socket in a temporary directory as
// journald would; Addr is its path.
func ListenJournal(t testing.TB) *Listener {
	t.Helper()
	l := &Listener{network: "unixgram", address: socketPath(t, "journal.sock")}
	l.cond = sync.NewCond(&l.mu)
	l.listen(t)
	l.Addr = l.address
	t.Cleanup(l.Close)
	return l
}

func socketPath(t testing.TB, name string) string {
	dir, err := os.MkdirTemp("", "psd-log-") // t.TempDir() may be too deep for a socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return filepath.Join(dir, name)
}

func (l *Listener) listen(t testing.TB) {
	t.Helper()
	switch l.network {
	case "unixgram", "udp":
		pc, err := net.ListenPacket(l.network, l.address)
		if err != nil {
			t.Fatalf("logtest: listen %s %s: %v", l.network, l.address, err)
		}
		if l.network == "udp" {
			l.address = pc.LocalAddr().String()
		}
		l.closer = pc
		l.wg.Add(1)
		go l.readPackets(pc)
	case "tcp":
		ln, err := net.Listen("tcp", l.address)
		if err != nil {
			t.Fatalf("logtest: listen tcp %s: %v", l.address, err)
		}
		l.address = ln.Addr().String()
		l.closer = ln
		l.wg.Add(1)
		go l.accept(ln)
	}
}

// Close stops listening (and removes a unix socket), as a syslog daemon
// that stops would. What was received is kept.
func (l *Listener) Close() {
	l.mu.Lock()
	c := l.closer
	l.closer = nil
	l.mu.Unlock()
	if c != nil {
		_ = c.Close()
		l.wg.Wait()
	}
	if l.network == "unixgram" {
		_ = os.Remove(l.address)
	}
}

// Restart listens again on the same address, as a restarted syslog daemon
// would.
func (l *Listener) Restart(t testing.TB) {
	t.Helper()
	l.Close()
	l.listen(t)
}

func (l *Listener) readPackets(pc net.PacketConn) {
	defer l.wg.Done()
	buf := make([]byte, 1<<20)
	oob := make([]byte, unix.CmsgSpace(4))
	uc, _ := pc.(*net.UnixConn)
	for {
		var n, oobn int
		var err error
		if uc != nil {
			n, oobn, _, _, err = uc.ReadMsgUnix(buf, oob)
		} else {
			n, _, err = pc.ReadFrom(buf)
		}
		if err != nil {
			return
		}
		if oobn > 0 {
			l.add(readPassed(oob[:oobn]))
			continue
		}
		l.add(append([]byte(nil), buf[:n]...), nil)
	}
}

// readPassed reads an entry passed as a file descriptor, as journald does:
// only from a memfd sealed against changes, from its start.
func readPassed(oob []byte) ([]byte, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("logtest: control message: %d, %v", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("logtest: passed fds: %v, %v", fds, err)
	}
	f := os.NewFile(uintptr(fds[0]), "passed")
	defer f.Close()
	want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0); err != nil || seals&want != want {
		return nil, fmt.Errorf("logtest: passed fd not a sealed memfd: seals %#x, %v", seals, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("logtest: passed fd: %w", err)
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("logtest: read passed fd: %w", err)
	}
	return b, nil
}

func (l *Listener) accept(ln net.Listener) {
	defer l.wg.Done()
	var conns sync.WaitGroup
	var open []net.Conn
	defer func() {
		l.mu.Lock()
		for _, c := range open {
			_ = c.Close()
		}
		l.mu.Unlock()
		conns.Wait()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		open = append(open, c)
		l.mu.Unlock()
		conns.Add(1)
		go func() {
			defer conns.Done()
			l.readFrames(c)
		}()
	}
}

// readFrames reads octet-counted frames (RFC 6587 section 3.4.1):
// MSG-LEN SP SYSLOG-MSG, MSG-LEN a non-zero decimal without leading zeros.
func (l *Listener) readFrames(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		lenText, err := r.ReadString(' ')
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && lenText != "" {
				l.add(nil, fmt.Errorf("tcp: reading MSG-LEN: %w", err))
			}
			return
		}
		digits := lenText[:len(lenText)-1]
		n, err := strconv.Atoi(digits)
		if err != nil || n <= 0 || digits[0] == '0' {
			l.add(nil, fmt.Errorf("tcp: MSG-LEN %q", digits))
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			l.add(nil, fmt.Errorf("tcp: reading %d-byte message: %w", n, err))
			return
		}
		l.add(msg, nil)
	}
}

func (l *Listener) add(b []byte, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.errs = append(l.errs, err)
	} else {
		l.raw = append(l.raw, b)
	}
	l.cond.Broadcast()
}

// Raw returns every message received so far.
func (l *Listener) Raw() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.raw...)
}

// wait calls match on each message received, from the first, until it
// returns true, and returns that message's index. It fails the test on a
// framing error or if no message matches within timeout.
func (l *Listener) wait(t testing.TB, timeout time.Duration, what string, match func(b []byte) bool) int {
	t.Helper()
	timer := time.AfterFunc(timeout, func() {
		l.mu.Lock()
		l.cond.Broadcast()
		l.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	for i := 0; ; {
		l.mu.Lock()
		for len(l.errs) == 0 && i >= len(l.raw) && time.Now().Before(deadline) {
			l.cond.Wait()
		}
		errs, raw := l.errs, l.raw[i:]
		l.mu.Unlock()
		if len(errs) > 0 {
			t.Fatalf("logtest: %v", errs[0])
		}
		for _, b := range raw {
			i++
			if match(b) {
				return i - 1
			}
		}
		if len(raw) == 0 {
			var all []string
			for _, b := range l.Raw() {
				all = append(all, strconv.Quote(string(b)))
			}
			t.Fatalf("logtest: no %s within %v; received %d:\n%v", what, timeout, len(all), all)
		}
	}
}

// WaitRaw waits until match accepts a message as received (any format)
// and returns it.
func (l *Listener) WaitRaw(t testing.TB, timeout time.Duration, match func([]byte) bool) []byte {
	t.Helper()
	i := l.wait(t, timeout, "matching message", match)
	return l.Raw()[i]
}

// WaitSyslog parses every message received, failing the test on one that is
// not RFC 5424, until match accepts one, and returns it.
func (l *Listener) WaitSyslog(t testing.TB, timeout time.Duration, match func(Message) bool) Message {
	t.Helper()
	var got Message
	l.wait(t, timeout, "matching syslog message", func(b []byte) bool {
		m, err := ParseRFC5424(b)
		if err != nil {
			t.Fatal(err)
		}
		if match(m) {
			got = m
			return true
		}
		return false
	})
	return got
}

// Syslog parses every message received so far, failing the test on one
// that is not RFC 5424.
func (l *Listener) Syslog(t testing.TB) []Message {
	t.Helper()
	var ms []Message
	for _, b := range l.Raw() {
		m, err := ParseRFC5424(b)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// WaitJournal decodes every datagram received, failing the test on one that
// is not the native protocol, until match accepts one, and returns it.
func (l *Listener) WaitJournal(t testing.TB, timeout time.Duration, match func(Entry) bool) Entry {
	t.Helper()
	var got Entry
	l.wait(t, timeout, "matching journal entry", func(b []byte) bool {
		e, err := DecodeJournal(b)
		if err != nil {
			t.Fatal(err)
		}
		if match(e) {
			got = e
			return true
		}
		return false
	})
	return got
}
