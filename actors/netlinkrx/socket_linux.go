package netlinkrx

import (
	"fmt"
	"unsafe"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/messages"
)

// maxDumpAttempts bounds the retries of a dump the kernel marked interrupted.
const maxDumpAttempts = 10

// Sockets are the two rtnetlink sockets of netlinkrx: one that listens to the
// link group, and one for dumps, because a dump on a socket blocked in Receive
// stalls.
type Sockets struct {
	listen *netlink.Conn
	dump   *netlink.Conn
	// RcvBuf is the listen socket's receive buffer size the kernel granted.
	RcvBuf int

	dumpSeq    uint32 // sequence number of the last dump request
	dumpBuf    []byte // for dump replies, grown to the largest datagram
	forged     int    // datagrams dropped since TakeForged: sender not the kernel
	forgedFrom uint32 // sender of the last of them
}

// Option changes where Open and SetAdminDown reach the kernel.
type Option func(*netlink.Config)

// InNetns opens the sockets in the network namespace whose file descriptor
// is fd (e.g. of /run/netns/asic0, kept open by the caller) instead of the
// calling thread's. A socket stays in the namespace it was made in, so the
// process itself never moves: mdlayher/netlink makes it on a locked thread
// that enters the namespace and leaves it. 0 is the calling thread's own.
func InNetns(fd int) Option {
	return func(c *netlink.Config) { c.NetNS = fd }
}

func config(opts []Option) *netlink.Config {
	var c netlink.Config
	for _, o := range opts {
		o(&c)
	}
	return &c
}

// Open dials both sockets and joins RTNLGRP_LINK on the listen socket, asking
// for a receive buffer of rcvbuf bytes.
func Open(rcvbuf int, opts ...Option) (*Sockets, error) {
	cfg := config(opts)
	listen, err := netlink.Dial(unix.NETLINK_ROUTE, cfg)
	if err != nil {
		return nil, fmt.Errorf("netlinkrx: dial listen socket: %w", err)
	}
	s := &Sockets{listen: listen, dumpBuf: make([]byte, 64<<10)}
	if rcvbuf > 0 {
		// SetReadBuffer tries SO_RCVBUFFORCE and silently falls back to
		// SO_RCVBUF, so the size granted is read back below.
		if err := listen.SetReadBuffer(rcvbuf); err != nil {
			s.Close()
			return nil, fmt.Errorf("netlinkrx: set receive buffer: %w", err)
		}
	}
	if s.RcvBuf, err = listen.ReadBuffer(); err != nil {
		s.Close()
		return nil, fmt.Errorf("netlinkrx: read receive buffer size: %w", err)
	}
	if err := listen.JoinGroup(unix.RTNLGRP_LINK); err != nil {
		s.Close()
		return nil, fmt.Errorf("netlinkrx: join RTNLGRP_LINK: %w", err)
	}
	if s.dump, err = netlink.Dial(unix.NETLINK_ROUTE, cfg); err != nil {
		s.Close()
		return nil, fmt.Errorf("netlinkrx: dial dump socket: %w", err)
	}
	return s, nil
}

// Close closes both sockets; a blocked Receive returns.
func (s *Sockets) Close() {
	if s.listen != nil {
		s.listen.Close()
	}
	if s.dump != nil {
		s.dump.Close()
	}
}

// Dump returns every link the kernel has, decoded. A dump the kernel marks
// interrupted (NLM_F_DUMP_INTR: links changed while it ran) is taken again.
//
// The dump is sent and read with raw system calls rather than
// netlink.Conn.Execute, which does not look at who sent a reply: replies not
// from the kernel are dropped and counted (see TakeForged), and only replies
// carrying this request's sequence number and port id count.
func (s *Sockets) Dump(d *Decoder) ([]messages.LinkEvent, error) {
	for attempt := 1; ; attempt++ {
		r, err := s.dumpOnce(d)
		if err != nil {
			return nil, fmt.Errorf("netlinkrx: dump links: %w", err)
		}
		if !r.interrupted {
			return r.events, nil
		}
		if attempt == maxDumpAttempts {
			return nil, fmt.Errorf("netlinkrx: dump links: interrupted %d times in a row", attempt)
		}
	}
}

func (s *Sockets) dumpOnce(d *Decoder) (*dumpReader, error) {
	raw, err := s.dump.SyscallConn()
	if err != nil {
		return nil, err
	}
	s.dumpSeq++
	r := &dumpReader{seq: s.dumpSeq, pid: s.dump.PID(), dec: d}
	req := dumpRequest(r.seq, r.pid)
	var serr error
	err = raw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN && serr != unix.EINTR
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for !r.done {
			// Peek at the size first: a dump datagram is read whole or
			// not at all.
			n, _, err := recvfrom(int(fd), nil, unix.MSG_PEEK|unix.MSG_TRUNC|unix.MSG_DONTWAIT)
			if err == nil && n > len(s.dumpBuf) {
				s.dumpBuf = make([]byte, (n+4095)&^4095)
			}
			var from uint32
			if err == nil {
				n, from, err = recvfrom(int(fd), s.dumpBuf, unix.MSG_DONTWAIT)
			}
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				return false // wait in the netpoller for the next datagram
			case err != nil:
				rerr = err
				return true
			case from != 0:
				// Dropped: only the kernel answers a dump.
				s.noteForged(from)
				continue
			}
			if err := r.datagram(s.dumpBuf[:n]); err != nil {
				rerr = err
				return true
			}
		}
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("read reply (request %d): %w", r.seq, err)
	}
	return r, nil
}

// SetAdminDown clears IFF_UP on the link with the given ifindex, with an
// RTM_SETLINK request (the original daemon shells out to ip(8) for this).
func SetAdminDown(index uint32, opts ...Option) error {
	c, err := rtnetlink.Dial(config(opts))
	if err != nil {
		return fmt.Errorf("netlinkrx: set link %d down: %w", index, err)
	}
	defer c.Close()
	err = c.Link.Set(&rtnetlink.LinkMessage{
		Family: unix.AF_UNSPEC,
		Index:  index,
		Flags:  0,
		Change: unix.IFF_UP,
	})
	if err != nil {
		return fmt.Errorf("netlinkrx: set link %d down: %w", index, err)
	}
	return nil
}

// Discard drops every message queued on the listen socket and returns how
// many datagrams from the kernel it dropped (forged ones are counted apart,
// see TakeForged). After an overrun the queue holds only events from before
// the loss; replayed after the dump that follows, they would overwrite its
// newer state, and the events that corrected them are gone.
func (s *Sockets) Discard() (int, error) {
	raw, err := s.listen.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("netlinkrx: discard queued messages: %w", err)
	}
	n := 0
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for {
			_, from, err := recvfrom(int(fd), nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			switch {
			case err == nil && from != 0:
				s.noteForged(from)
			case err == nil:
				n++
			case err == unix.EINTR:
			case err == unix.EAGAIN:
				return true
			case err == unix.ENOBUFS:
				// Another loss while discarding: the dump covers it too.
			default:
				rerr = err
				return true
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return n, fmt.Errorf("netlinkrx: discard queued messages: %w", err)
	}
	return n, nil
}

// ReadBatch waits in the netpoller (a read deadline or Close ends the wait)
// for a datagram, calls woke, then hands fn the link messages of it and of
// up to max-1 more already queued: one wake-up carries many events. A
// datagram not from the kernel is dropped unread (TakeForged counts it); an
// overrun (ENOBUFS) is reported as overrun; one it cannot walk ends the batch
// with ErrMalformed.
func (s *Sockets) ReadBatch(buf []byte, max int, woke func(), fn func(typ uint16, data []byte)) (overrun bool, err error) {
	raw, err := s.listen.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("netlinkrx: read listen socket: %w", err)
	}
	read := 0 // datagrams taken off the socket, forged ones included
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for read < max {
			n, from, err := recvfrom(int(fd), buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				// Nothing taken yet: wait in the netpoller. Else the
				// batch is what was queued.
				return read > 0
			}
			if read == 0 {
				woke() // no more waiting in this call
			}
			switch {
			case err == unix.ENOBUFS:
				overrun = true
				return true
			case err != nil:
				rerr = err
				return true
			}
			read++
			if from != 0 {
				s.noteForged(from)
				continue
			}
			if n > len(buf) {
				rerr = fmt.Errorf("%w: datagram of %d bytes, buffer %d", ErrMalformed, n, len(buf))
				return true
			}
			if err := listenDatagram(buf[:n], fn); err != nil {
				rerr = err
				return true
			}
		}
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return overrun, fmt.Errorf("netlinkrx: read listen socket: %w", err)
	}
	return overrun, nil
}

// TakeForged returns how many datagrams not sent by the kernel were dropped
// on either socket since the last call, and the sender port id of the last
// one (for a process's first netlink socket, its pid).
func (s *Sockets) TakeForged() (n int, lastSender uint32) {
	n, lastSender = s.forged, s.forgedFrom
	s.forged, s.forgedFrom = 0, 0
	return n, lastSender
}

func (s *Sockets) noteForged(from uint32) {
	s.forged++
	s.forgedFrom = from
}

// recvfrom is recvfrom(2) on a netlink socket that returns the sender's
// port id (0: the kernel) without allocating, as unix.Recvfrom would for
// the address. With MSG_TRUNC it returns the datagram's real length.
func recvfrom(fd int, p []byte, flags int) (n int, from uint32, err error) {
	var sa unix.RawSockaddrNetlink
	salen := uint32(unix.SizeofSockaddrNetlink)
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	// Raw: every call here is MSG_DONTWAIT, so it cannot block, and it
	// skips the scheduler's syscall bookkeeping, which at low rates costs
	// more than the read (it wakes the runtime's monitor thread).
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(base), uintptr(len(p)),
		uintptr(flags), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
	if e != 0 {
		return 0, 0, e
	}
	if sa.Family != unix.AF_NETLINK {
		// Not a netlink sender: cannot be the kernel.
		return int(r), ^uint32(0), nil
	}
	return int(r), sa.Pid, nil
}
