package netlinkrx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/sonic-go/portsyncd/messages"
)

// Netlink message types and flags from <linux/netlink.h>.
const (
	nlmsgNoop     = 1
	nlmsgError    = 2
	nlmsgDone     = 3
	nlmsgHdrLen   = 16
	nlmFRequest   = 0x1
	nlmFDumpIntr  = 0x10
	nlmFDump      = 0x300
	rtmGetLink    = 18
	nlmsgErrorLen = 4 // the error code that starts an NLMSG_ERROR payload
	iflaExtMask   = 29

	// rtextFilterSkipStats asks the kernel to leave link statistics out of
	// dumps, which makes a 4096-port dump several times smaller.
	rtextFilterSkipStats = 1 << 3
)

// nlHeader is a netlink message header (struct nlmsghdr).
type nlHeader struct {
	Len   uint32
	Type  uint16
	Flags uint16
	Seq   uint32
	PID   uint32
}

// readDatagram calls fn for each netlink message in the datagram b, in
// order, with its header and payload (a subslice of b), until fn returns
// false. A header that claims fewer bytes than a header or more than are
// left, or trailing bytes too few for a header, make the datagram malformed:
// readDatagram stops there with an error matching ErrMalformed, after
// calling fn for the messages before it.
func readDatagram(b []byte, fn func(h nlHeader, data []byte) bool) error {
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return fmt.Errorf("%w: %d trailing bytes, a netlink header needs %d", ErrMalformed, len(b), nlmsgHdrLen)
		}
		h := nlHeader{
			Len:   binary.NativeEndian.Uint32(b[0:4]),
			Type:  binary.NativeEndian.Uint16(b[4:6]),
			Flags: binary.NativeEndian.Uint16(b[6:8]),
			Seq:   binary.NativeEndian.Uint32(b[8:12]),
			PID:   binary.NativeEndian.Uint32(b[12:16]),
		}
		if h.Len < nlmsgHdrLen || uint64(h.Len) > uint64(len(b)) {
			return fmt.Errorf("%w: netlink header claims %d bytes, %d left", ErrMalformed, h.Len, len(b))
		}
		l := int(h.Len)
		if !fn(h, b[nlmsgHdrLen:l]) {
			return nil
		}
		// Messages are 4-byte aligned; the last one may lack its padding.
		b = b[min((l+3)&^3, len(b)):]
	}
	return nil
}

// listenDatagram hands fn every message of a datagram from the listen
// socket that may carry link state. NLMSG_NOOP and NLMSG_DONE carry nothing
// and are skipped. NLMSG_ERROR answers a request, and the listen socket sends
// none: the kernel's stream is not what portsyncd thinks it is, so it is
// reported as ErrMalformed and the caller resynchronises.
func listenDatagram(b []byte, fn func(typ uint16, data []byte)) error {
	var err error
	perr := readDatagram(b, func(h nlHeader, data []byte) bool {
		switch h.Type {
		case nlmsgNoop, nlmsgDone:
		case nlmsgError:
			err = fmt.Errorf("%w: NLMSG_ERROR (%v) on the listen socket", ErrMalformed, errorCode(data))
			return false
		default:
			fn(h.Type, data)
		}
		return true
	})
	if perr != nil {
		return perr
	}
	return err
}

// errorCode returns the error of an NLMSG_ERROR payload: nil for an
// acknowledgement, else the errno.
func errorCode(data []byte) error {
	if len(data) < nlmsgErrorLen {
		return fmt.Errorf("%w: NLMSG_ERROR of %d bytes", ErrMalformed, len(data))
	}
	code := int32(binary.NativeEndian.Uint32(data[0:4]))
	if code == 0 {
		return nil
	}
	if code > 0 {
		// The kernel sends negative errnos; anything else is not from it.
		return fmt.Errorf("%w: NLMSG_ERROR code %d", ErrMalformed, code)
	}
	return syscall.Errno(-code)
}

// dumpReader collects the replies to one RTM_GETLINK dump request, datagram
// by datagram. Only messages answering this request (its sequence number,
// addressed to this socket's port id) count; the rest are replies to an
// earlier request that was abandoned, and are skipped.
type dumpReader struct {
	seq, pid    uint32
	dec         *Decoder
	events      []messages.LinkEvent
	interrupted bool // a message carried NLM_F_DUMP_INTR
	done        bool // NLMSG_DONE or NLMSG_ERROR seen
	stale       int  // messages of other requests skipped
}

// datagram consumes one datagram of the reply. It fails on a malformed
// datagram, an undecodable link, or an NLMSG_ERROR with an error code.
func (r *dumpReader) datagram(b []byte) error {
	var err error
	perr := readDatagram(b, func(h nlHeader, data []byte) bool {
		if h.Seq != r.seq || h.PID != r.pid {
			r.stale++
			return true
		}
		if h.Flags&nlmFDumpIntr != 0 {
			// Read on to the end all the same, so the next request's
			// replies are not mixed with this one's.
			r.interrupted = true
		}
		switch h.Type {
		case nlmsgDone:
			r.done = true
			return false
		case nlmsgError:
			r.done = true
			if e := errorCode(data); e != nil {
				err = fmt.Errorf("kernel answered the dump with %w", e)
			}
			return false
		case nlmsgNoop:
			return true
		}
		if r.interrupted {
			return true // the dump is taken again; no need to decode
		}
		ev, derr := r.dec.Decode(h.Type, data)
		if errors.Is(derr, ErrNotLink) {
			return true
		}
		if derr != nil {
			err = derr
			return false
		}
		r.events = append(r.events, ev)
		return true
	})
	if perr != nil {
		return perr
	}
	return err
}

// dumpRequest returns an RTM_GETLINK dump request for every link, statistics
// left out, with the given sequence number and port id.
func dumpRequest(seq, pid uint32) []byte {
	b := make([]byte, nlmsgHdrLen+ifinfomsgLen+8)
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], rtmGetLink)
	binary.NativeEndian.PutUint16(b[6:8], nlmFRequest|nlmFDump)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	binary.NativeEndian.PutUint32(b[12:16], pid)
	// ifinfomsg is all zero: family AF_UNSPEC, any link. IFLA_EXT_MASK follows.
	a := b[nlmsgHdrLen+ifinfomsgLen:]
	binary.NativeEndian.PutUint16(a[0:2], 8)
	binary.NativeEndian.PutUint16(a[2:4], iflaExtMask)
	binary.NativeEndian.PutUint32(a[4:8], rtextFilterSkipStats)
	return b
}
