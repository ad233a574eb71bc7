package instance

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrHeld is matched by Take's error when another live process holds the
// guard.
var ErrHeld = errors.New("another portsyncd runs for this network namespace and these databases")

// HeldError is Take's error when the guard is held: it names the holder.
type HeldError struct {
	// Name is the guard's abstract socket name (without the leading NUL).
	Name string
	// PID is the holder's process id as seen from this process's pid
	// namespace, or 0 when it could not be read.
	PID int
}

func (e *HeldError) Error() string {
	pid := "unknown"
	if e.PID > 0 {
		pid = fmt.Sprint(e.PID)
	}
	return fmt.Sprintf("%v: pid %s holds @%s", ErrHeld, pid, e.Name)
}

// Is makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Guard is a held guard. It is released by Close or by the process's end.
type Guard struct {
	name string
	l    *net.UnixListener
	done chan struct{}
}

// Take binds the abstract unix socket name in the calling thread's network
// namespace. If another process has it, the error is a *HeldError naming
// the holder's pid, read with SO_PEERCRED on a connection to the holder.
func Take(name string) (*Guard, error) {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: "@" + name, Net: "unix"})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &HeldError{Name: name, PID: holder(name)}
		}
		return nil, fmt.Errorf("instance: bind @%s: %w", name, err)
	}
	g := &Guard{name: name, l: l, done: make(chan struct{})}
	// A copy asking who holds the guard connects; its connection is taken
	// off the backlog and closed at once, so that the backlog never fills
	// and a later copy's connect never blocks. The goroutine also keeps the
	// listener reachable, so no finalizer closes it while the guard is held.
	go func() {
		defer close(g.done)
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed
			}
			c.Close()
		}
	}()
	return g, nil
}

// Holder reports whether a process holds the guard name in the calling
// thread's network namespace, and its pid (0 when it could not be read, e.g.
// from another pid namespace), without taking it: it connects as a second
// copy would (portsyncd doctor). Connection refused or no such name is
// "free"; any other failure to connect is returned.
func Holder(name string) (held bool, pid int, err error) {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: "@" + name, Net: "unix"})
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("instance: connect @%s: %w", name, err)
	}
	defer c.Close()
	return true, peerPID(c), nil
}

// holder returns the pid of the process listening on the abstract socket
// name, or 0.
func holder(name string) int {
	_, pid, _ := Holder(name)
	return pid
}

// peerPID reads the pid at the other end of c (SO_PEERCRED), or 0.
func peerPID(c *net.UnixConn) int {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || cerr != nil {
		return 0
	}
	return int(cred.Pid)
}

// Name is the guard's abstract socket name, without the leading NUL
// (ss -xl shows it after an @).
func (g *Guard) Name() string { return g.name }

// Close releases the guard and waits for its accept loop to end.
func (g *Guard) Close() error {
	err := g.l.Close()
	<-g.done
	return err
}
