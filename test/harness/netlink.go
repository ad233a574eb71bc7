package harness

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Run runs fn on an OS thread that has joined the namespace and returns
// fn's error. Sockets fn opens belong to the namespace for good. The thread
// is never unlocked, so it ends with fn's goroutine: no other code of the
// test ever runs in the namespace by accident.
func (n *Netns) Run(fn func() error) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/run/netns", n.Name))
		if err != nil {
			done <- fmt.Errorf("harness: open namespace %s: %w", n.Name, err)
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("harness: join namespace %s: %w", n.Name, err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// Forger is a user-space netlink (NETLINK_ROUTE) socket in a namespace,
// for sending datagrams that pretend to come from the kernel. It is closed
// on test cleanup.
type Forger struct {
	fd int
	// PortID is the socket's netlink port id, the sender the receiver sees.
	PortID uint32
}

// NewForger opens a Forger in ns.
func NewForger(t testing.TB, ns *Netns) *Forger {
	t.Helper()
	f := &Forger{fd: -1}
	err := ns.Run(func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("harness: netlink socket: %w", err)
		}
		f.fd = fd
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("harness: bind netlink socket: %w", err)
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			return fmt.Errorf("harness: netlink socket address: %w", err)
		}
		f.PortID = sa.(*unix.SockaddrNetlink).Pid
		return nil
	})
	if f.fd >= 0 {
		t.Cleanup(func() { unix.Close(f.fd) })
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Send sends datagram b to the netlink port id portID.
func (f *Forger) Send(t testing.TB, portID uint32, b []byte) {
	t.Helper()
	if err := unix.Sendto(f.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: portID}); err != nil {
		t.Fatalf("harness: sending %d bytes to netlink port id %d: %v", len(b), portID, err)
	}
}

// NetlinkPortIDs returns the port ids of the NETLINK_ROUTE sockets the
// process pid has open: its fds' socket inodes, looked up in its
// namespace's /proc/<pid>/net/netlink.
func NetlinkPortIDs(t testing.TB, pid int) []uint32 {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	inodes := make(map[string]bool)
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/netlink", pid))
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	defer f.Close()
	// sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
	var ids []uint32
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[1] != strconv.Itoa(unix.NETLINK_ROUTE) || !inodes[fields[9]] {
			continue
		}
		id, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue // the header line
		}
		ids = append(ids, uint32(id))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("harness: reading /proc/%d/net/netlink: %v", pid, err)
	}
	return ids
}
