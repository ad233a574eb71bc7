package kstats

import (
	"time"
)

// Sample is one reading of portsyncd's kernel and process figures. A Sample
// is never modified once published: readers may keep it.
type Sample struct {
	Time time.Time // when reading began

	// Sockets are the netlink sockets this process holds, found by inode.
	Sockets []NetlinkSocket
	// NetlinkDrops sums Sockets' drops: messages the kernel dropped because
	// a receive buffer was full. The sum falls when a socket is closed (a
	// restarted netlinkrx opens new ones).
	NetlinkDrops uint64
	// NetlinkQueued sums Sockets' Rmem: bytes waiting to be read.
	NetlinkQueued uint64
	// RcvBuf is the listen socket's receive buffer as granted by the kernel
	// (SO_RCVBUF read back), in bytes; 0 when unknown.
	RcvBuf int64

	// Context switches of every thread of the process (getrusage), the
	// exited ones included.
	VoluntaryCtxtSwitches   uint64
	InvoluntaryCtxtSwitches uint64

	// Page faults of every thread of the process, the exited ones
	// included: minor ones are served without I/O, major ones read from
	// disk (what --mlock prevents).
	MinorFaults uint64
	MajorFaults uint64
}

// sources are the raw readings a Sample is built from, kept apart from the
// system calls so that building is a pure function.
type sources struct {
	netlink   []byte   // /proc/net/netlink
	fdTargets []string // targets of /proc/self/fd links
	stat      []byte   // /proc/self/stat
	nvcsw     uint64   // getrusage ru_nvcsw
	nivcsw    uint64   // getrusage ru_nivcsw
	rcvbuf    int64
}

// parsers are the parsing functions build uses; tests replace one to make it
// fail.
type parsers struct {
	netlink func([]byte) ([]NetlinkSocket, error)
	stat    func([]byte) (Stat, error)
}

var defaultParsers = parsers{netlink: ParseNetlink, stat: ParseStat}

// build turns raw readings into a Sample.
func build(now time.Time, src sources, p parsers) (*Sample, error) {
	all, err := p.netlink(src.netlink)
	if err != nil {
		return nil, err
	}
	var inodes []uint64
	for _, t := range src.fdTargets {
		if n, ok := SocketInode(t); ok {
			inodes = append(inodes, n)
		}
	}
	stat, err := p.stat(src.stat)
	if err != nil {
		return nil, err
	}
	s := &Sample{
		Time:                    now,
		Sockets:                 Own(all, inodes),
		RcvBuf:                  src.rcvbuf,
		VoluntaryCtxtSwitches:   src.nvcsw,
		InvoluntaryCtxtSwitches: src.nivcsw,
		MinorFaults:             stat.MinorFaults,
		MajorFaults:             stat.MajorFaults,
	}
	for _, so := range s.Sockets {
		s.NetlinkDrops += so.Drops
		s.NetlinkQueued += so.Rmem
	}
	return s, nil
}
