package rawio

import (
	"bytes"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func pair(t *testing.T) (a, b *net.UnixConn, ra, rb syscall.RawConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) (*net.UnixConn, syscall.RawConn) {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		uc := c.(*net.UnixConn)
		rc, err := uc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { uc.Close() })
		return uc, rc
	}
	a, ra = conn(fds[0])
	b, rb = conn(fds[1])
	return a, b, ra, rb
}

// A write larger than the socket buffer waits for the reader instead of
// failing with EAGAIN, and every byte arrives in order.
func TestWriteWaitsAndWritesAll(t *testing.T) {
	_, _, ra, rb := pair(t)
	want := bytes.Repeat([]byte("0123456789"), 200000) // 2 MB, past any socket buffer
	got := make(chan []byte)
	go func() {
		var all []byte
		buf := make([]byte, 64<<10)
		for len(all) < len(want) {
			n, errno, err := Read(rb, buf)
			if err != nil || errno != 0 || n == 0 {
				break
			}
			all = append(all, buf[:n]...)
		}
		got <- all
	}()
	n, errno, err := Write(ra, want)
	if n != len(want) || errno != 0 || err != nil {
		t.Fatalf("Write = %d, %v, %v; want %d", n, errno, err, len(want))
	}
	if !bytes.Equal(<-got, want) {
		t.Errorf("the reader got other bytes")
	}
}

// Read waits in the netpoller, so a read deadline ends it; at end of file
// it reads 0.
func TestReadDeadlineAndEOF(t *testing.T) {
	a, b, _, rb := pair(t)
	b.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := Read(rb, make([]byte, 8)); !os.IsTimeout(err) {
		t.Errorf("Read past the deadline: %v, want a timeout", err)
	}
	b.SetReadDeadline(time.Time{})
	a.Close()
	if n, errno, err := Read(rb, make([]byte, 8)); n != 0 || errno != 0 || err != nil {
		t.Errorf("Read at EOF = %d, %v, %v; want 0", n, errno, err)
	}
}
