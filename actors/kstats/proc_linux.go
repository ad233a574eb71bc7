package kstats

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The files read. /proc/self/net/netlink lists the sockets of the network
// namespace of the process's main thread, which is where portsyncd opens its
// netlink sockets.
const (
	procNetlink = "/proc/self/net/netlink"
	procFD      = "/proc/self/fd"
	procStat    = "/proc/self/stat"
)

// read takes the raw readings of this process. Every file is a kernel
// pseudo-file generated in memory: reading it does not wait on a device.
func read(rcvbuf func() int64) (sources, error) {
	var src sources
	var err error
	if src.netlink, err = os.ReadFile(procNetlink); err != nil {
		return sources{}, fmt.Errorf("kstats: %w", err)
	}
	if src.fdTargets, err = fdTargets(procFD); err != nil {
		return sources{}, err
	}
	if src.stat, err = os.ReadFile(procStat); err != nil {
		return sources{}, fmt.Errorf("kstats: %w", err)
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return sources{}, fmt.Errorf("kstats: getrusage: %w", err)
	}
	src.nvcsw, src.nivcsw = uint64(ru.Nvcsw), uint64(ru.Nivcsw)
	if rcvbuf != nil {
		src.rcvbuf = rcvbuf()
	}
	return src, nil
}

// fdTargets returns the targets of the symlinks in dir (/proc/self/fd).
// Descriptors closed while it reads are skipped, among them the one
// os.ReadDir used for dir itself.
func fdTargets(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("kstats: %w", err)
	}
	targets := make([]string, 0, len(ents))
	for _, e := range ents {
		t, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		targets = append(targets, t)
	}
	return targets, nil
}
