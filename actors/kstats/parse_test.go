package kstats

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseNetlink(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    []NetlinkSocket
		wantErr bool
	}{
		{
			name: "overrun listen socket, autobound dump socket",
			data: testdata(t, "netlink_overrun.txt"),
			want: []NetlinkSocket{
				{Inode: 25440, Protocol: 0},
				{Inode: 25467, Protocol: 0, PortID: 14174, Groups: 1, Rmem: 6912, Drops: 77},
				{Inode: 25468, Protocol: 0, PortID: 3760699599},
				{Inode: 25446, Protocol: 4},
				{Inode: 25448, Protocol: 6},
				{Inode: 25442, Protocol: 9},
				{Inode: 25444, Protocol: 10},
				{Inode: 25447, Protocol: 12},
				{Inode: 25443, Protocol: 15},
				{Inode: 25441, Protocol: 16},
			},
		},
		{
			name: "host namespace, kernel sockets only",
			data: testdata(t, "netlink_host.txt"),
			want: []NetlinkSocket{
				{Inode: 4}, {Inode: 1567, Protocol: 4}, {Inode: 1569, Protocol: 6},
				{Inode: 1181, Protocol: 7}, {Inode: 6, Protocol: 9}, {Inode: 29, Protocol: 10},
				{Inode: 14, Protocol: 11}, {Inode: 1568, Protocol: 12}, {Inode: 8, Protocol: 15},
				{Inode: 5, Protocol: 16},
			},
		},
		{
			name: "columns found by name, not position",
			data: []byte("sk Inode Drops Locks Dump Wmem Rmem Groups Pid Eth Extra\n" +
				"0000000000000001 99 3 2 0 8 700 00000011 42 0 x\n"),
			want: []NetlinkSocket{{Inode: 99, Drops: 3, Wmem: 8, Rmem: 700, Groups: 0x11, PortID: 42}},
		},
		{name: "header only", data: []byte("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode\n")},
		{name: "empty", data: nil, wantErr: true},
		{
			name:    "old kernel without Inode column",
			data:    []byte("sk Eth Pid Groups Rmem Wmem Dump Locks Drops\nffff8800 0 1 00000001 0 0 0 2 0\n"),
			wantErr: true,
		},
		{
			name:    "short line",
			data:    []byte("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode\n0000 0 1 00000001 0 0 0 2 0\n"),
			wantErr: true,
		},
		{
			name:    "port ID out of range",
			data:    []byte("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode\n0000 0 4294967296 00000001 0 0 0 2 0 7\n"),
			wantErr: true,
		},
		{
			name:    "groups not hex",
			data:    []byte("sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode\n0000 0 1 0000000g 0 0 0 2 0 7\n"),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetlink(tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want one wrapping ErrFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseNetlink (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSocketInode(t *testing.T) {
	var got []uint64
	for line := range strings.Lines(string(testdata(t, "fd_links_overrun.txt"))) {
		if n, ok := SocketInode(strings.TrimSpace(line)); ok {
			got = append(got, n)
		}
	}
	if diff := cmp.Diff([]uint64{25467, 25468, 25469}, got); diff != "" {
		t.Errorf("inodes (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"pipe:[25435]", "socket:[]", "socket:[12", "socket:[-1]", "anon_inode:[eventpoll]", "/dev/null", "socket:[1x]"} {
		if n, ok := SocketInode(bad); ok {
			t.Errorf("SocketInode(%q) = %d, true; want false", bad, n)
		}
	}
}

// TestBuildFromCapture follows a capture end to end: the fd links name three sockets, of
// which the never bound generic one is not in /proc/net/netlink.
func TestBuildFromCapture(t *testing.T) {
	var targets []string
	for line := range strings.Lines(string(testdata(t, "fd_links_overrun.txt"))) {
		targets = append(targets, strings.TrimSpace(line))
	}
	now := time.Date(2025, 11, 23, 17, 0, 0, 0, time.UTC)
	got, err := build(now, sources{
		netlink:   testdata(t, "netlink_overrun.txt"),
		fdTargets: targets,
		stat:      testdata(t, "stat_python_comm.txt"),
		nvcsw:     91,
		nivcsw:    18,
		rcvbuf:    4608,
	}, defaultParsers)
	if err != nil {
		t.Fatal(err)
	}
	want := &Sample{
		Time: now,
		Sockets: []NetlinkSocket{
			{Inode: 25467, PortID: 14174, Groups: 1, Rmem: 6912, Drops: 77},
			{Inode: 25468, PortID: 3760699599},
		},
		NetlinkDrops:            77,
		NetlinkQueued:           6912,
		RcvBuf:                  4608,
		VoluntaryCtxtSwitches:   91,
		InvoluntaryCtxtSwitches: 18,
		MinorFaults:             3189,
		MajorFaults:             0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("build (-want +got):\n%s", diff)
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		data    []byte
		want    Stat
		wantErr bool
	}{
		{
			name: "go program, threads exited",
			data: testdata(t, "stat_go.txt"),
			want: Stat{MinorFaults: 497, MajorFaults: 0},
		},
		{
			name: "comm with parentheses and spaces",
			data: testdata(t, "stat_python_comm.txt"),
			want: Stat{MinorFaults: 3189, MajorFaults: 0},
		},
		{
			name: "fields after majflt may be missing",
			data: []byte("1 (x) S 0 1 1 0 -1 0 10 0 20"),
			want: Stat{MinorFaults: 10, MajorFaults: 20},
		},
		{name: "truncated", data: []byte("1 (x) S 0 1 1 0 -1 0 10 0"), wantErr: true},
		{name: "no command name", data: []byte("1 x S 0 1 1 0 -1 0 10 0 20 0 300 400"), wantErr: true},
		{name: "negative majflt", data: []byte("1 (x) S 0 1 1 0 -1 0 10 0 -20 0 300 400"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat(tt.data)
			if tt.wantErr {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want one wrapping ErrFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseStat (-want +got):\n%s", diff)
			}
		})
	}
}
