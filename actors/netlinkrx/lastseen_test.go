package netlinkrx

import (
	"testing"

	"github.com/jsimonetti/rtnetlink/v2"

	"github.com/sonic-go/portsyncd/messages"
	"github.com/sonic-go/portsyncd/sonic"
)

func TestLastSeenDropsOnlyRepeats(t *testing.T) {
	up := messages.LinkEvent{Kind: messages.NewLink, Index: 5, Name: "Ethernet0", Flags: sonic.FlagUp | sonic.FlagRunning, MTU: 9100}
	with := func(f func(*messages.LinkEvent)) messages.LinkEvent {
		ev := up
		f(&ev)
		return ev
	}
	tests := []struct {
		name string
		seq  []messages.LinkEvent
		want []bool // unchanged, per event
	}{
		{"first event passes", []messages.LinkEvent{up}, []bool{false}},
		{"exact repeat dropped", []messages.LinkEvent{up, up}, []bool{false, true}},
		{"flags SONiC ignores dropped", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.Flags |= 0x1000 })}, []bool{false, true}},
		{"admin change passes", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.Flags &^= sonic.FlagUp })}, []bool{false, false}},
		{"carrier change passes", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.Flags &^= sonic.FlagRunning })}, []bool{false, false}},
		{"mtu change passes", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.MTU = 1500 })}, []bool{false, false}},
		{"rename passes", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.Name = "Ethernet4" })}, []bool{false, false}},
		{"master change passes", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.Master = 9 })}, []bool{false, false}},
		{"dellink always passes and forgets", []messages.LinkEvent{up, with(func(e *messages.LinkEvent) { e.Kind = messages.DelLink }), up}, []bool{false, false, false}},
		{"other families never dropped", []messages.LinkEvent{with(func(e *messages.LinkEvent) { e.Family = 7 }), with(func(e *messages.LinkEvent) { e.Family = 7 })}, []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLastSeen()
			for i, ev := range tt.seq {
				if got := l.unchanged(ev); got != tt.want[i] {
					t.Errorf("event %d: unchanged = %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestLastSeenResetTakesDumpAsReference(t *testing.T) {
	ev := messages.LinkEvent{Kind: messages.NewLink, Index: 5, Name: "Ethernet0", MTU: 9100}
	l := newLastSeen()
	l.unchanged(messages.LinkEvent{Kind: messages.NewLink, Index: 5, Name: "Ethernet0", MTU: 1500})
	l.reset([]messages.LinkEvent{ev})
	if !l.unchanged(ev) {
		t.Errorf("event equal to the dump's entry not dropped")
	}
}

// BenchmarkUnchangedEvent is the cost of a NEWLINK that changes nothing
// SONiC reads: decoded and dropped at the reader, it goes no further.
func BenchmarkUnchangedEvent(b *testing.B) {
	m := rtnetlink.LinkMessage{Index: 5, Flags: 0x41, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 9100}}
	data, err := m.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	d, l := NewDecoder(), newLastSeen()
	ev, _ := d.Decode(rtmNewLink, data)
	l.unchanged(ev)
	b.ReportAllocs()
	for b.Loop() {
		ev, err := d.Decode(rtmNewLink, data)
		if err != nil || !l.unchanged(ev) {
			b.Fatal("repeat not dropped")
		}
	}
}
