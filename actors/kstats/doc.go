// Package kstats samples what the kernel knows about portsyncd that
// client_golang's Go and process collectors do not export: its netlink
// sockets' queued bytes and drops (/proc/net/netlink), the context switches
// of all its threads (getrusage) and its page faults (/proc/self/stat). CPU
// time, resident memory, threads and goroutines are the stock collectors'
// (process_*, go_*), registered by package metrics.
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
// a Sample takes the process's from getrusage(RUSAGE_SELF); page faults come
// from /proc/self/stat, which counts every thread, exited ones included.
package kstats
