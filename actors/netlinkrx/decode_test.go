package netlinkrx

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/jsimonetti/rtnetlink/v2"

	"github.com/sonic-go/portsyncd/messages"
)

func marshal(t testing.TB, m rtnetlink.LinkMessage) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func u32(v uint32) *uint32 { return &v }

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		typ     uint16
		msg     rtnetlink.LinkMessage
		want    messages.LinkEvent
		wantErr error
	}{
		{
			name: "newlink up and running",
			typ:  rtmNewLink,
			msg:  rtnetlink.LinkMessage{Index: 7, Flags: 0x1 | 0x40 | 0x1000, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 9100}},
			want: messages.LinkEvent{Kind: messages.NewLink, Index: 7, Flags: 0x1041, Name: "Ethernet0", MTU: 9100},
		},
		{
			name: "dellink with master",
			typ:  rtmDelLink,
			msg:  rtnetlink.LinkMessage{Index: 8, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet4", MTU: 1500, Master: u32(3)}},
			want: messages.LinkEvent{Kind: messages.DelLink, Index: 8, Name: "Ethernet4", MTU: 1500, Master: 3},
		},
		{
			name: "team kind",
			typ:  rtmNewLink,
			msg:  rtnetlink.LinkMessage{Index: 9, Attributes: &rtnetlink.LinkAttributes{Name: "PortChannel1", Info: &rtnetlink.LinkInfo{Kind: "team"}}},
			want: messages.LinkEvent{Kind: messages.NewLink, Index: 9, Name: "PortChannel1", InfoKind: "team"},
		},
		{
			name: "bridge family kept as is",
			typ:  rtmNewLink,
			msg:  rtnetlink.LinkMessage{Family: 7, Index: 10, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet8"}},
			want: messages.LinkEvent{Kind: messages.NewLink, Family: 7, Index: 10, Name: "Ethernet8"},
		},
		{
			name: "name at the 15-byte limit",
			typ:  rtmNewLink,
			msg:  rtnetlink.LinkMessage{Index: 11, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet1234567"}},
			want: messages.LinkEvent{Kind: messages.NewLink, Index: 11, Name: "Ethernet1234567"},
		},
		{
			name:    "other message type",
			typ:     20, // RTM_NEWADDR
			msg:     rtnetlink.LinkMessage{Index: 1, Attributes: &rtnetlink.LinkAttributes{Name: "lo"}},
			wantErr: ErrNotLink,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := marshal(t, tt.msg)
			data[0] = byte(tt.msg.Family) // rtnetlink always marshals family 0
			got, err := NewDecoder().Decode(tt.typ, data)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	attr := func(l, typ uint16, val ...byte) []byte {
		b := make([]byte, 4, 4+len(val))
		binary.NativeEndian.PutUint16(b[0:2], l)
		binary.NativeEndian.PutUint16(b[2:4], typ)
		return append(b, val...)
	}
	hdr := make([]byte, ifinfomsgLen)
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	name := attr(8, iflaIfname, 'e', 't', 'h', 0)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"short header", make([]byte, 15)},
		{"no name", hdr},
		{"attribute longer than message", cat(hdr, attr(40, iflaIfname, 'x'))},
		{"attribute length below header", cat(hdr, attr(2, iflaIfname, 'x', 0, 0, 0))},
		{"trailing bytes", cat(hdr, name, []byte{1, 2})},
		{"short mtu", cat(hdr, name, attr(6, iflaMTU, 1, 2))},
		{"short master", cat(hdr, name, attr(5, iflaMaster, 1))},
		{"long mtu", cat(hdr, name, attr(12, iflaMTU, 1, 2, 3, 4, 5, 6, 7, 8))},
		{"bad nested linkinfo", cat(hdr, name, attr(8, iflaLinkinfo, 9, 0, 1, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewDecoder().Decode(rtmNewLink, tt.data); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDecodeInternsNames(t *testing.T) {
	data := marshal(t, rtnetlink.LinkMessage{Index: 1, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 1500}})
	d := NewDecoder()
	a, _ := d.Decode(rtmNewLink, data)
	b, _ := d.Decode(rtmNewLink, data)
	if unsafe.StringData(a.Name) != unsafe.StringData(b.Name) {
		t.Errorf("the same name decoded twice is not shared")
	}
	if n := testing.AllocsPerRun(100, func() { d.Decode(rtmNewLink, data) }); n != 0 {
		t.Errorf("decoding a known link allocates %v times, want 0", n)
	}
}

// FuzzDecode checks that Decode never panics and, where rtnetlink's own
// decoder also accepts the message, that both agree on every field portsyncd
// reads.
func FuzzDecode(f *testing.F) {
	for _, m := range []rtnetlink.LinkMessage{
		{Index: 7, Flags: 0x41, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 9100}},
		{Index: 8, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet4", Master: u32(3)}},
		{Index: 9, Attributes: &rtnetlink.LinkAttributes{Name: "PortChannel1", Info: &rtnetlink.LinkInfo{Kind: "team"}}},
		{Family: 7, Index: 10, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet8", MTU: 1500}},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		b[0] = byte(m.Family)
		f.Add(uint16(rtmNewLink), b)
		f.Add(uint16(rtmDelLink), b)
	}
	f.Add(uint16(rtmNewLink), []byte{})
	f.Fuzz(func(t *testing.T, typ uint16, data []byte) {
		ev, err := NewDecoder().Decode(typ, data)
		if err != nil {
			if !errors.Is(err, ErrNotLink) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is neither ErrNotLink nor ErrMalformed", err)
			}
			return
		}
		if ev.Name == "" {
			t.Fatalf("decoded a link without a name")
		}
		// rtnetlink stops decoding, without an error, after a fixed-size
		// attribute of the wrong length (IFLA_CARRIER_DOWN_COUNT of 13
		// bytes, say): compare only messages made of the attributes we read.
		if !onlyAttrsWeRead(data[ifinfomsgLen:]) {
			return
		}
		var ref rtnetlink.LinkMessage
		if ref.UnmarshalBinary(data) != nil || ref.Attributes == nil {
			return
		}
		// Names and kinds are C strings: the kernel never puts a NUL inside
		// one, and where a fuzzed one has it, rtnetlink keeps what follows
		// while we stop, as the kernel would.
		want := messages.LinkEvent{
			Kind: ev.Kind, Family: uint8(ref.Family), Index: ref.Index, Flags: ref.Flags,
			Name: string(cString([]byte(ref.Attributes.Name))), MTU: ref.Attributes.MTU,
		}
		if ref.Attributes.Master != nil {
			want.Master = *ref.Attributes.Master
		}
		if ref.Attributes.Info != nil {
			want.InfoKind = string(cString([]byte(ref.Attributes.Info.Kind)))
		}
		if diff := cmp.Diff(want, ev); diff != "" {
			t.Errorf("Decode disagrees with rtnetlink (-rtnetlink +ours):\n%s", diff)
		}
	})
}

func onlyAttrsWeRead(b []byte) bool {
	ok := true
	walkAttrs(b, func(typ uint16, val []byte) error {
		switch typ {
		case iflaIfname, iflaMTU, iflaMaster:
		case iflaLinkinfo:
			walkAttrs(val, func(typ uint16, _ []byte) error {
				ok = ok && typ == iflaInfoKind
				return nil
			})
		default:
			ok = false
		}
		return nil
	})
	return ok
}

func BenchmarkDecode(b *testing.B) {
	data := marshal(b, rtnetlink.LinkMessage{Index: 7, Flags: 0x41, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 9100}})
	d := NewDecoder()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Decode(rtmNewLink, data); err != nil {
			b.Fatal(err)
		}
	}
}
