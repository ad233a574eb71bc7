package netlinkrx

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sonic-go/portsyncd/messages"
)

// Message types and attributes from <linux/rtnetlink.h> and <linux/if_link.h>.
const (
	rtmNewLink = 16
	rtmDelLink = 17

	iflaIfname   = 3
	iflaMTU      = 4
	iflaMaster   = 10
	iflaLinkinfo = 18
	iflaInfoKind = 1

	ifinfomsgLen = 16
	// Attribute types carry two flag bits (nested, byte order) above the type.
	nlaTypeMask = 0x3fff
)

// ErrNotLink marks a netlink message that is not RTM_NEWLINK or RTM_DELLINK.
var ErrNotLink = errors.New("not a link message")

// ErrMalformed marks a link message that cannot be decoded. The stream can no
// longer be trusted, so the caller resynchronises.
var ErrMalformed = errors.New("malformed link message")

// Decoder turns rtnetlink link messages into LinkEvents. It interns interface
// names, so a steady stream of events for known links allocates no strings.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	names map[string]string
}

// maxInterned bounds the interning table; past it the table starts afresh.
const maxInterned = 1 << 16

// NewDecoder returns a Decoder with an empty interning table.
func NewDecoder() *Decoder {
	return &Decoder{names: make(map[string]string)}
}

// Decode decodes the payload of one netlink message of type msgType.
func (d *Decoder) Decode(msgType uint16, data []byte) (messages.LinkEvent, error) {
	var ev messages.LinkEvent
	switch msgType {
	case rtmNewLink:
		ev.Kind = messages.NewLink
	case rtmDelLink:
		ev.Kind = messages.DelLink
	default:
		return ev, ErrNotLink
	}
	if len(data) < ifinfomsgLen {
		return ev, fmt.Errorf("%w: %d bytes, ifinfomsg needs %d", ErrMalformed, len(data), ifinfomsgLen)
	}
	ev.Family = data[0]
	ev.Index = binary.NativeEndian.Uint32(data[4:8])
	ev.Flags = binary.NativeEndian.Uint32(data[8:12])

	err := walkAttrs(data[ifinfomsgLen:], func(typ uint16, val []byte) error {
		switch typ {
		case iflaIfname:
			ev.Name = d.intern(cString(val))
		case iflaMTU:
			if len(val) != 4 {
				return fmt.Errorf("%w: IFLA_MTU of %d bytes", ErrMalformed, len(val))
			}
			ev.MTU = binary.NativeEndian.Uint32(val)
		case iflaMaster:
			if len(val) != 4 {
				return fmt.Errorf("%w: IFLA_MASTER of %d bytes", ErrMalformed, len(val))
			}
			ev.Master = binary.NativeEndian.Uint32(val)
		case iflaLinkinfo:
			// The last IFLA_LINKINFO counts whole, as every attribute's last
			// occurrence does (nla_parse): no kind from an earlier one.
			ev.InfoKind = ""
			return walkAttrs(val, func(typ uint16, val []byte) error {
				if typ == iflaInfoKind {
					ev.InfoKind = d.intern(cString(val))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return ev, err
	}
	if ev.Name == "" {
		return ev, fmt.Errorf("%w: ifindex %d has no IFLA_IFNAME", ErrMalformed, ev.Index)
	}
	return ev, nil
}

// walkAttrs calls fn for each netlink attribute in b, in order.
func walkAttrs(b []byte, fn func(typ uint16, val []byte) error) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b))
		}
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) & nlaTypeMask
		if l < 4 || l > len(b) {
			return fmt.Errorf("%w: attribute %d claims %d bytes, %d left", ErrMalformed, typ, l, len(b))
		}
		if err := fn(typ, b[4:l]); err != nil {
			return err
		}
		next := (l + 3) &^ 3
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	return nil
}

// cString returns b up to its first NUL.
func cString(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func (d *Decoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	if len(d.names) >= maxInterned {
		clear(d.names)
	}
	s := string(b)
	d.names[s] = s
	return s
}
