package netlinkrx

import (
	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

// lastSeen remembers the last AF_UNSPEC link event sent for each ifindex,
// bounded by the number of links.
type lastSeen struct {
	byIndex map[uint32]messages.LinkEvent
}

func newLastSeen() *lastSeen {
	return &lastSeen{byIndex: make(map[uint32]messages.LinkEvent)}
}

// unchanged reports whether ev repeats the last event of its link in every
// field SONiC reads (sonic.FlagsRead of the flags), and records it
// otherwise.
func (l *lastSeen) unchanged(ev messages.LinkEvent) bool {
	if ev.Family != 0 {
		return false
	}
	if ev.Kind == messages.DelLink {
		delete(l.byIndex, ev.Index)
		return false
	}
	key := ev
	key.Flags &= sonic.FlagsRead
	if prev, ok := l.byIndex[ev.Index]; ok && prev == key {
		return true
	}
	l.byIndex[ev.Index] = key
	return false
}

// reset makes a complete dump the reference.
func (l *lastSeen) reset(dump []messages.LinkEvent) {
	clear(l.byIndex)
	for _, ev := range dump {
		l.unchanged(ev)
	}
}
