package sonicdb

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/sonic-go/portsyncd/rawio"
)

// rawConn is a Redis connection whose reads and writes are non-blocking
// system calls made without the scheduler's syscall bookkeeping, waiting in
// the netpoller when the socket is not ready (deadlines work as on any
// net.Conn). That bookkeeping wakes the runtime's monitor thread whenever
// the process was idle: at a few events a second, two extra context
// switches per event, more CPU than the write itself.
type rawConn struct {
	net.Conn
	rc syscall.RawConn
}

// dialRaw dials like go-redis's default dialer and wraps the connection.
func dialRaw(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	return &rawConn{Conn: c, rc: rc}, nil
}

func (c *rawConn) Read(p []byte) (int, error) {
	n, errno, err := rawio.Read(c.rc, p)
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawConn) Write(p []byte) (int, error) {
	n, errno, err := rawio.Write(c.rc, p)
	switch {
	case err != nil:
		return n, c.opError("write", err)
	case errno != 0:
		return n, c.opError("write", os.NewSyscallError("write", errno))
	}
	return n, nil
}

// opError wraps err as net.Conn's own errors are, so that go-redis tells a
// timeout (os.ErrDeadlineExceeded) and a closed connection apart as usual.
func (c *rawConn) opError(op string, err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}

// SyscallConn lets go-redis check a pooled connection before use, as it
// does a plain one.
func (c *rawConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }
