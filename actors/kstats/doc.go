// Package kstats samples what the kernel knows about portsyncd: its netlink
// sockets' queued bytes and drops (/proc/net/netlink), its context
// switches, page faults, CPU time, resident memory and threads
// (/proc/self/status, /proc/self/stat, getrusage), and its goroutines.
//
// It owns reading /proc. The parsers are pure functions over the files'
// bytes; the kstats actor calls them on a timer of its own (every 5 s by
// default) and publishes each Sample through Stats.Latest, the one value it
// shares, which the metrics collector reads.
//
// kstats must never block the pipeline nor write Redis: it receives nothing
// from netlinkrx, portstate or dbwriter, sends them nothing, runs on its own
// goroutine, and reads only in-memory pseudo-files. Its own netlink sockets
// are found by inode: the socket:[N] targets of /proc/self/fd matched
// against /proc/net/netlink's Inode column.
//
// The context switches in /proc/self/status are the main thread's alone, so
// a Sample takes the process's from getrusage(RUSAGE_SELF); page faults and
// CPU time come from /proc/self/stat, which counts every thread, exited ones
// included.
package kstats
