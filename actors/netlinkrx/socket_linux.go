package netlinkrx

import (
	"encoding/binary"
	"fmt"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/sonic-go/portsyncd/messages"
)

// maxDumpAttempts bounds the retries of a dump the kernel marked interrupted.
const maxDumpAttempts = 10

// rtextFilterSkipStats asks the kernel to leave link statistics out of dumps,
// which makes a 4096-port dump several times smaller.
const rtextFilterSkipStats = 1 << 3

// Sockets are the two rtnetlink sockets of netlinkrx: one that listens to the
// link group, and one for dumps, because a dump on a socket blocked in Receive
// stalls.
type Sockets struct {
	listen *netlink.Conn
	dump   *netlink.Conn
	// RcvBuf is the listen socket's receive buffer size the kernel granted.
	RcvBuf int
}

// Open dials both sockets and joins RTNLGRP_LINK on the listen socket, asking
// for a receive buffer of rcvbuf bytes.
func Open(rcvbuf int) (*Sockets, error) {
	listen, err := netlink.Dial(unix.NETLINK_ROUTE, nil)
	if err != nil {
		return nil, fmt.Errorf("netlinkrx: dial listen socket: %w", err)
	}
	s := &Sockets{listen: listen}
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
	if s.dump, err = netlink.Dial(unix.NETLINK_ROUTE, nil); err != nil {
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
func (s *Sockets) Dump(d *Decoder) ([]messages.LinkEvent, error) {
	req := netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   dumpRequest(),
	}
	for attempt := 1; ; attempt++ {
		msgs, err := s.dump.Execute(req)
		if err != nil {
			return nil, fmt.Errorf("netlinkrx: dump links: %w", err)
		}
		events := make([]messages.LinkEvent, 0, len(msgs))
		interrupted := false
		for _, m := range msgs {
			if m.Header.Flags&netlink.DumpInterrupted != 0 {
				interrupted = true
				break
			}
			ev, err := d.Decode(uint16(m.Header.Type), m.Data)
			if err != nil {
				return nil, fmt.Errorf("netlinkrx: dump links: %w", err)
			}
			events = append(events, ev)
		}
		if !interrupted {
			return events, nil
		}
		if attempt == maxDumpAttempts {
			return nil, fmt.Errorf("netlinkrx: dump links: interrupted %d times in a row", attempt)
		}
	}
}

func dumpRequest() []byte {
	b := make([]byte, ifinfomsgLen+8)
	// ifinfomsg is all zero: family AF_UNSPEC, any link. IFLA_EXT_MASK follows.
	binary.NativeEndian.PutUint16(b[16:18], 8)
	binary.NativeEndian.PutUint16(b[18:20], unix.IFLA_EXT_MASK)
	binary.NativeEndian.PutUint32(b[20:24], rtextFilterSkipStats)
	return b
}

// SetAdminDown clears IFF_UP on the link with the given ifindex, with an
// RTM_SETLINK request (the original daemon shells out to ip(8) for this).
func SetAdminDown(index uint32) error {
	c, err := rtnetlink.Dial(nil)
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
// many datagrams it dropped. After an overrun the queue holds only events
// from before the loss; replayed after the dump that follows, they would
// overwrite its newer state, and the events that corrected them are gone.
func (s *Sockets) Discard() (int, error) {
	raw, err := s.listen.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("netlinkrx: discard queued messages: %w", err)
	}
	n := 0
	buf := make([]byte, 64<<10)
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for {
			_, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT)
			switch {
			case err == nil:
				n++
			case err == unix.EAGAIN || err == unix.EINTR:
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

// ReadQueued reads, without blocking, up to max datagrams already queued on
// the listen socket into buf and calls fn for each netlink message in them.
// Under load this lets one wake-up carry many events. It reports an overrun
// (ENOBUFS), and fails on a datagram larger than buf.
func (s *Sockets) ReadQueued(buf []byte, max int, fn func(typ uint16, data []byte)) (overrun bool, err error) {
	raw, err := s.listen.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("netlinkrx: read queued messages: %w", err)
	}
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for i := 0; i < max; i++ {
			n, _, err := unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			switch {
			case err == unix.EAGAIN || err == unix.EINTR:
				return true
			case err == unix.ENOBUFS:
				overrun = true
				return true
			case err != nil:
				rerr = err
				return true
			case n > len(buf):
				rerr = fmt.Errorf("%w: datagram of %d bytes, buffer %d", ErrMalformed, n, len(buf))
				return true
			}
			for b := buf[:n]; len(b) >= 16; {
				l := int(binary.NativeEndian.Uint32(b[0:4]))
				if l < 16 || l > len(b) {
					rerr = fmt.Errorf("%w: netlink header claims %d bytes, %d left", ErrMalformed, l, len(b))
					return true
				}
				fn(binary.NativeEndian.Uint16(b[4:6]), b[16:l])
				b = b[min((l+3)&^3, len(b)):]
			}
		}
		return true
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return overrun, fmt.Errorf("netlinkrx: read queued messages: %w", err)
	}
	return overrun, nil
}
