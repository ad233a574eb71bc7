package kstats

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrFormat is wrapped by every parser error: the kernel's text was not in
// the format this package reads.
var ErrFormat = errors.New("kstats: unexpected format")

// NetlinkSocket is one line of /proc/net/netlink: a bound netlink socket of
// the network namespace.
type NetlinkSocket struct {
	Inode    uint64 // socket inode, as in /proc/<pid>/fd's socket:[N]
	Protocol int    // netlink family ("Eth"): 0 is NETLINK_ROUTE
	PortID   uint32 // "Pid": the socket's netlink port ID
	Groups   uint32 // the first 32 multicast groups joined, as a bit mask
	Rmem     uint64 // bytes queued in the receive buffer, not yet read
	Wmem     uint64 // bytes queued for sending
	Drops    uint64 // messages the kernel could not queue: the buffer was full
}

// netlinkColumns are the /proc/net/netlink columns read, by header name.
var netlinkColumns = []string{"Eth", "Pid", "Groups", "Rmem", "Wmem", "Drops", "Inode"}

// ParseNetlink parses /proc/net/netlink. Columns are found by their header
// names, so that a kernel adding or reordering columns does not shift them.
func ParseNetlink(data []byte) ([]NetlinkSocket, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() {
		return nil, fmt.Errorf("%w: /proc/net/netlink: no header", ErrFormat)
	}
	header := strings.Fields(sc.Text())
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	for _, c := range netlinkColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%w: /proc/net/netlink: no %s column in %q", ErrFormat, c, sc.Text())
		}
	}
	var socks []NetlinkSocket
	for line := 2; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < len(header) {
			return nil, fmt.Errorf("%w: /proc/net/netlink line %d: %d fields, want %d", ErrFormat, line, len(f), len(header))
		}
		var s NetlinkSocket
		var err error
		num := func(name string, base, bits int) uint64 {
			if err != nil {
				return 0
			}
			var v uint64
			v, err = strconv.ParseUint(f[col[name]], base, bits)
			if err != nil {
				err = fmt.Errorf("%w: /proc/net/netlink line %d column %s: %w", ErrFormat, line, name, err)
			}
			return v
		}
		s.Protocol = int(num("Eth", 10, 8))
		s.PortID = uint32(num("Pid", 10, 32))
		s.Groups = uint32(num("Groups", 16, 32))
		s.Rmem = num("Rmem", 10, 64)
		s.Wmem = num("Wmem", 10, 64)
		s.Drops = num("Drops", 10, 64)
		s.Inode = num("Inode", 10, 64)
		if err != nil {
			return nil, err
		}
		socks = append(socks, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kstats: /proc/net/netlink: %w", err)
	}
	return socks, nil
}

// SocketInode returns the inode of a /proc/<pid>/fd link target of the form
// "socket:[N]", and false for any other target (files, pipes, anon inodes).
func SocketInode(target string) (uint64, bool) {
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// Own returns the sockets whose inode is among inodes, in the order of socks.
func Own(socks []NetlinkSocket, inodes []uint64) []NetlinkSocket {
	want := make(map[uint64]bool, len(inodes))
	for _, n := range inodes {
		want[n] = true
	}
	var own []NetlinkSocket
	for _, s := range socks {
		if want[s.Inode] {
			own = append(own, s)
		}
	}
	return own
}

// Stat is what portsyncd reads from /proc/self/stat: counts for the whole
// process, its exited threads included.
type Stat struct {
	MinorFaults uint64 // page faults served without I/O
	MajorFaults uint64 // page faults that read from disk
}

// ParseStat parses /proc/<pid>/stat (proc(5)). The command name in
// parentheses may itself hold spaces and parentheses, so fields are counted
// from the last ')'.
func ParseStat(data []byte) (Stat, error) {
	s := string(bytes.TrimSpace(data))
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("%w: /proc/self/stat: no ')' after the command name", ErrFormat)
	}
	// f[0] is field 3 (state) of proc(5).
	f := strings.Fields(s[i+1:])
	const (
		minflt = 10 - 3
		majflt = 12 - 3
	)
	if len(f) <= majflt {
		return Stat{}, fmt.Errorf("%w: /proc/self/stat: %d fields after the command name, want at least %d", ErrFormat, len(f), majflt+1)
	}
	var st Stat
	for _, p := range []struct {
		dst  *uint64
		idx  int
		name string
	}{
		{&st.MinorFaults, minflt, "minflt"},
		{&st.MajorFaults, majflt, "majflt"},
	} {
		v, err := strconv.ParseUint(f[p.idx], 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("%w: /proc/self/stat %s: %w", ErrFormat, p.name, err)
		}
		*p.dst = v
	}
	return st, nil
}
