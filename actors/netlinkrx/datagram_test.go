package netlinkrx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jsimonetti/rtnetlink/v2"

	"github.com/sonic-go/portsyncd/messages"
)

// nlmsg encodes a netlink message whose length field is l (which may lie),
// followed by data, unpadded.
func nlmsg(l uint32, typ, flags uint16, seq, pid uint32, data []byte) []byte {
	b := make([]byte, nlmsgHdrLen, nlmsgHdrLen+len(data))
	binary.NativeEndian.PutUint32(b[0:4], l)
	binary.NativeEndian.PutUint16(b[4:6], typ)
	binary.NativeEndian.PutUint16(b[6:8], flags)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	binary.NativeEndian.PutUint32(b[12:16], pid)
	return append(b, data...)
}

// msg encodes a well-formed netlink message, padded to 4 bytes.
func msg(typ, flags uint16, seq, pid uint32, data []byte) []byte {
	b := nlmsg(uint32(nlmsgHdrLen+len(data)), typ, flags, seq, pid, data)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func errPayload(code int32) []byte {
	// struct nlmsgerr: the error, then the header of the request.
	return cat(le32(uint32(code)), nlmsg(nlmsgHdrLen, rtmGetLink, 0, 0, 0, nil))
}

type seen struct {
	Type uint16
	Data []byte
}

func TestListenDatagram(t *testing.T) {
	link := marshal(t, rtnetlink.LinkMessage{Index: 7, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 9100}})
	odd := []byte{1, 2, 3, 4, 5} // a payload whose length is not a multiple of 4
	tests := []struct {
		name    string
		b       []byte
		want    []seen
		wantErr string // "" for none; else the error must match ErrMalformed and contain this
	}{
		{name: "empty datagram", b: nil},
		{name: "one link message", b: msg(rtmNewLink, 0, 0, 0, link), want: []seen{{rtmNewLink, link}}},
		{
			name: "several messages, padding between them",
			b:    cat(msg(rtmNewLink, 0, 0, 0, odd), msg(rtmDelLink, 0, 0, 0, link), msg(20, 0, 0, 0, nil)),
			want: []seen{{rtmNewLink, odd}, {rtmDelLink, link}, {20, []byte{}}},
		},
		{
			name: "last message without its padding",
			b:    nlmsg(nlmsgHdrLen+5, rtmNewLink, 0, 0, 0, odd),
			want: []seen{{rtmNewLink, odd}},
		},
		{
			name: "NOOP and DONE skipped",
			b:    cat(msg(nlmsgNoop, 0, 0, 0, nil), msg(rtmNewLink, 0, 0, 0, link), msg(nlmsgDone, 0, 0, 0, le32(0))),
			want: []seen{{rtmNewLink, link}},
		},
		{
			name:    "NLMSG_ERROR: the stream is not what it should be",
			b:       cat(msg(rtmNewLink, 0, 0, 0, link), msg(nlmsgError, 0, 0, 0, errPayload(-int32(syscall.EPERM))), msg(rtmDelLink, 0, 0, 0, link)),
			want:    []seen{{rtmNewLink, link}},
			wantErr: "NLMSG_ERROR (operation not permitted)",
		},
		{
			name:    "NLMSG_ERROR too short for its code",
			b:       msg(nlmsgError, 0, 0, 0, []byte{1}),
			wantErr: "NLMSG_ERROR of 1 bytes",
		},
		{
			name:    "length claims more than the datagram holds",
			b:       cat(msg(rtmNewLink, 0, 0, 0, link), nlmsg(1000, rtmNewLink, 0, 0, 0, link)),
			want:    []seen{{rtmNewLink, link}},
			wantErr: "claims 1000 bytes",
		},
		{
			name:    "length shorter than a header",
			b:       nlmsg(15, rtmNewLink, 0, 0, 0, link),
			wantErr: "claims 15 bytes",
		},
		{
			name:    "length zero: no endless loop",
			b:       nlmsg(0, rtmNewLink, 0, 0, 0, nil),
			wantErr: "claims 0 bytes",
		},
		{
			name:    "length that overflows int on 32 bits",
			b:       nlmsg(0xffffffff, rtmNewLink, 0, 0, 0, link),
			wantErr: "claims 4294967295 bytes",
		},
		{
			name:    "truncated header after a message",
			b:       cat(msg(rtmNewLink, 0, 0, 0, link), []byte{1, 2, 3}),
			want:    []seen{{rtmNewLink, link}},
			wantErr: "3 trailing bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []seen
			err := listenDatagram(tt.b, func(typ uint16, data []byte) {
				got = append(got, seen{typ, bytes.Clone(data)})
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (!errors.Is(err, ErrMalformed) || !bytes.Contains([]byte(err.Error()), []byte(tt.wantErr))):
				t.Errorf("error %v, want ErrMalformed containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDumpReader(t *testing.T) {
	const seq, pid = 41, 1234
	link := func(index uint32, name string) []byte {
		return marshal(t, rtnetlink.LinkMessage{Index: index, Attributes: &rtnetlink.LinkAttributes{Name: name}})
	}
	ev := func(index uint32, name string) messages.LinkEvent {
		return messages.LinkEvent{Kind: messages.NewLink, Index: index, Name: name}
	}
	tests := []struct {
		name            string
		datagrams       [][]byte
		want            []messages.LinkEvent
		wantDone        bool
		wantInterrupted bool
		wantStale       int
		wantErr         error
	}{
		{
			name: "two datagrams, then DONE",
			datagrams: [][]byte{
				cat(msg(rtmNewLink, 2, seq, pid, link(1, "lo")), msg(rtmNewLink, 2, seq, pid, link(2, "Ethernet0"))),
				cat(msg(rtmNewLink, 2, seq, pid, link(3, "Ethernet4")), msg(nlmsgDone, 2, seq, pid, le32(0))),
			},
			want:     []messages.LinkEvent{ev(1, "lo"), ev(2, "Ethernet0"), ev(3, "Ethernet4")},
			wantDone: true,
		},
		{
			name: "replies to an earlier request skipped",
			datagrams: [][]byte{
				cat(msg(rtmNewLink, 2, seq-1, pid, link(9, "Ethernet9")), msg(nlmsgDone, 2, seq-1, pid, le32(0))),
				cat(msg(rtmNewLink, 2, seq, pid+1, link(8, "Ethernet8")), msg(rtmNewLink, 2, seq, pid, link(1, "lo"))),
				msg(nlmsgDone, 2, seq, pid, le32(0)),
			},
			want:      []messages.LinkEvent{ev(1, "lo")},
			wantDone:  true,
			wantStale: 3,
		},
		{
			name: "interrupted: read to the end, nothing kept",
			datagrams: [][]byte{
				cat(msg(rtmNewLink, 2, seq, pid, link(1, "lo")), msg(rtmNewLink, 2|nlmFDumpIntr, seq, pid, link(2, "Ethernet0"))),
				cat(msg(rtmNewLink, 2, seq, pid, []byte{1}), msg(nlmsgDone, 2, seq, pid, le32(0))),
			},
			want:            []messages.LinkEvent{ev(1, "lo")},
			wantDone:        true,
			wantInterrupted: true,
		},
		{
			name:            "interrupted flag on DONE alone",
			datagrams:       [][]byte{cat(msg(rtmNewLink, 2, seq, pid, link(1, "lo")), msg(nlmsgDone, 2|nlmFDumpIntr, seq, pid, le32(0)))},
			want:            []messages.LinkEvent{ev(1, "lo")},
			wantDone:        true,
			wantInterrupted: true,
		},
		{
			name:      "error from the kernel",
			datagrams: [][]byte{msg(nlmsgError, 0, seq, pid, errPayload(-int32(syscall.EBUSY)))},
			wantDone:  true,
			wantErr:   syscall.EBUSY,
		},
		{
			name:      "undecodable link",
			datagrams: [][]byte{msg(rtmNewLink, 2, seq, pid, []byte{1, 2})},
			wantErr:   ErrMalformed,
		},
		{
			name:      "lying length",
			datagrams: [][]byte{nlmsg(64, rtmNewLink, 2, seq, pid, nil)},
			wantErr:   ErrMalformed,
		},
		{
			name:      "nothing after DONE is read",
			datagrams: [][]byte{cat(msg(nlmsgDone, 2, seq, pid, le32(0)), msg(rtmNewLink, 2, seq, pid, link(5, "Ethernet5")))},
			wantDone:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &dumpReader{seq: seq, pid: pid, dec: NewDecoder()}
			var err error
			for _, d := range tt.datagrams {
				if err = r.datagram(d); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, r.events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if r.done != tt.wantDone || r.interrupted != tt.wantInterrupted || r.stale != tt.wantStale {
				t.Errorf("done %v interrupted %v stale %d, want %v %v %d", r.done, r.interrupted, r.stale, tt.wantDone, tt.wantInterrupted, tt.wantStale)
			}
		})
	}
}

func TestDumpRequest(t *testing.T) {
	b := dumpRequest(7, 99)
	var got []nlHeader
	if err := readDatagram(b, func(h nlHeader, data []byte) bool {
		got = append(got, h)
		if len(data) != ifinfomsgLen+8 {
			t.Errorf("payload %d bytes, want ifinfomsg and IFLA_EXT_MASK", len(data))
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := []nlHeader{{Len: uint32(len(b)), Type: rtmGetLink, Flags: nlmFRequest | nlmFDump, Seq: 7, PID: 99}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request header (-want +got):\n%s", diff)
	}
}

func TestForgedLogRateLimited(t *testing.T) {
	var l forgedLog
	t0 := l.last.Add(1e9) // any non-zero instant
	steps := []struct {
		n       int
		after   int64 // nanoseconds after t0
		want    int
		wantLog bool
	}{
		{n: 1, after: 0, want: 1, wantLog: true},
		{n: 5, after: 1e8},
		{n: 5, after: 9e8},
		{n: 2, after: 1e9, want: 12, wantLog: true},
		{n: 1, after: 3e9, want: 1, wantLog: true},
	}
	for i, s := range steps {
		got, log := l.add(s.n, t0.Add(time.Duration(s.after)))
		if got != s.want || log != s.wantLog {
			t.Errorf("step %d: add(%d) = %d, %v; want %d, %v", i, s.n, got, log, s.want, s.wantLog)
		}
	}
}

// FuzzReadDatagram checks the walk of a datagram against its specification,
// for any bytes: readDatagram hands out exactly the messages that lie one
// after another, 4-byte aligned, each header's length within what is left,
// and fails exactly where that stops being true; listenDatagram never hands
// out NOOP, DONE or ERROR, and fails on an ERROR; a dumpReader keeps only
// its own request's link messages and never panics.
func FuzzReadDatagram(f *testing.F) {
	link := marshal(f, rtnetlink.LinkMessage{Index: 7, Flags: 0x41, Attributes: &rtnetlink.LinkAttributes{Name: "Ethernet0", MTU: 9100}})
	f.Add(msg(rtmNewLink, 0, 0, 0, link))
	f.Add(cat(msg(rtmNewLink, 2, 5, 77, link), msg(rtmDelLink, 2, 5, 77, link), msg(nlmsgDone, 2, 5, 77, le32(0))))
	f.Add(cat(msg(nlmsgNoop, 0, 0, 0, nil), nlmsg(nlmsgHdrLen+5, rtmNewLink, 0, 0, 0, []byte{1, 2, 3, 4, 5})))
	f.Add(cat(msg(rtmNewLink, 0, 5, 77, link), msg(nlmsgError, 0, 5, 77, errPayload(-1))))
	f.Add(cat(msg(rtmNewLink, nlmFDumpIntr, 5, 77, link), nlmsg(1000, rtmNewLink, 0, 0, 0, link)))
	f.Add(nlmsg(0, 0, 0, 0, 0, nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		// readDatagram against the specification.
		off := 0
		err := readDatagram(b, func(h nlHeader, data []byte) bool {
			if int(h.Len) != nlmsgHdrLen+len(data) || off+int(h.Len) > len(b) {
				t.Fatalf("message at %d: header length %d, payload %d bytes, datagram %d", off, h.Len, len(data), len(b))
			}
			if want := nlmsg(h.Len, h.Type, h.Flags, h.Seq, h.PID, data); !bytes.Equal(want, b[off:off+int(h.Len)]) {
				t.Fatalf("message at %d is not the bytes there", off)
			}
			off = min(off+(int(h.Len)+3)&^3, len(b))
			return true
		})
		rest := b[off:]
		restBad := len(rest) > 0 && (len(rest) < nlmsgHdrLen ||
			binary.NativeEndian.Uint32(rest) < nlmsgHdrLen || uint64(binary.NativeEndian.Uint32(rest)) > uint64(len(rest)))
		if (err != nil) != restBad || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Fatalf("error %v with %d bytes left at offset %d", err, len(rest), off)
		}

		// listenDatagram.
		sawError := false
		_ = readDatagram(b, func(h nlHeader, _ []byte) bool {
			sawError = sawError || h.Type == nlmsgError
			return h.Type != nlmsgError
		})
		lerr := listenDatagram(b, func(typ uint16, _ []byte) {
			if typ == nlmsgNoop || typ == nlmsgDone || typ == nlmsgError {
				t.Fatalf("listenDatagram handed out type %d", typ)
			}
		})
		if (lerr != nil) != (err != nil || sawError) || (lerr != nil && !errors.Is(lerr, ErrMalformed)) {
			t.Fatalf("listenDatagram error %v; walk error %v, NLMSG_ERROR seen %v", lerr, err, sawError)
		}

		// dumpReader, for the request of the first message.
		if len(b) >= nlmsgHdrLen {
			seq, pid := binary.NativeEndian.Uint32(b[8:12]), binary.NativeEndian.Uint32(b[12:16])
			own := 0
			_ = readDatagram(b, func(h nlHeader, _ []byte) bool {
				if h.Seq == seq && h.PID == pid && (h.Type == rtmNewLink || h.Type == rtmDelLink) {
					own++
				}
				return true
			})
			r := &dumpReader{seq: seq, pid: pid, dec: NewDecoder()}
			_ = r.datagram(b)
			if len(r.events) > own {
				t.Fatalf("dump kept %d events from %d link messages of its request", len(r.events), own)
			}
			for _, ev := range r.events {
				if ev.Name == "" {
					t.Fatalf("dump event without a name: %+v", ev)
				}
			}
		}
	})
}
